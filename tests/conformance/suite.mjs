// Runs the installed MCP conformance suite (npm @modelcontextprotocol/conformance) one scenario
// at a time and reads back each scenario's checks.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { node22, testsDir } from '../lib/paths.mjs';

export const conformanceBin = join(testsDir, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
export const clientDriver = join(testsDir, 'conformance/client.mjs');

function run(args, { env = process.env, timeoutMs = 120_000, preload } = {}) {
  return new Promise((resolve, reject) => {
    const node = preload ? ['--import', preload] : [];
    const child = spawn(node22, [...node, conformanceBin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The scenario names `conformance list` prints under the given heading ("Client" or "Server"). */
export async function listScenarios(side) {
  const { stdout, stderr, code } = await run(['list']);
  if (code !== 0) throw new Error(`conformance list exited ${code}: ${stderr}`);
  const heading = side === 'client' ? /^Client scenarios/ : /^Server scenarios/;
  const names = [];
  let inside = false;
  for (const line of stdout.split('\n')) {
    if (/scenarios \(test against/.test(line)) inside = heading.test(line);
    const item = /^\s+- (\S+) \[([^\]]*)\]/.exec(line);
    if (inside && item) names.push({ name: item[1], specVersions: item[2].split(',') });
  }
  return names;
}

function readChecks(outputDir) {
  // -o <dir> writes <dir>/<scenario-with-slashes-replaced>-<timestamp>/checks.json
  const found = readdirSync(outputDir, { recursive: true }).filter((p) => String(p).endsWith('checks.json'));
  if (found.length !== 1) throw new Error(`expected one checks.json under ${outputDir}, found ${found.length}`);
  return JSON.parse(readFileSync(join(outputDir, String(found[0])), 'utf8'));
}

/**
 * Summarises a scenario's checks the way the suite judges them: a FAILURE or a WARNING fails
 * the scenario (the client side also fails on a client that exits with an error, unless the
 * scenario allows it; the exit code of the suite carries that).
 */
function summarise(checks) {
  const bad = checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING');
  return {
    checks,
    bad: bad.map((c) => `${c.status} ${c.id}: ${c.errorMessage ?? c.description}`),
  };
}

/** Runs client scenario `name` with Bindify (at `bindifyUrl`) as the client. */
export async function runClientScenario(name, { bindifyUrl, adminToken, timeoutMs = 30_000 }) {
  const outputDir = mkdtempSync(join(tmpdir(), 'bindify-conformance-'));
  try {
    const result = await run(
      ['client', '--command', `${node22} ${clientDriver}`, '--scenario', name, '--timeout', String(timeoutMs), '-o', outputDir],
      { env: { ...process.env, BINDIFY_URL: bindifyUrl, ...(adminToken ? { BINDIFY_ADMIN_TOKEN: adminToken } : {}) }, timeoutMs: timeoutMs + 30_000 },
    );
    const passed = result.code === 0 && /OVERALL: PASSED\s*$/.test(result.stderr);
    // The suite repeats the client's own stderr when it exits with an error.
    const driver = /\nStderr:\n([\s\S]*?)(?:\nClient timed out|\nChecks:|$)/.exec(result.stderr)?.[1]?.trim() ?? '';
    return { name, passed, ...summarise(readChecks(outputDir)), driver, output: result.stderr };
  } finally {
    rmSync(outputDir, { recursive: true, force: true });
  }
}

/**
 * Runs server scenario `name` against the MCP server at `url`. With `bearer` ({ origin, token }),
 * the runner presents that access token on every request to that origin (see bearer.mjs).
 */
export async function runServerScenario(name, { url, bearer, timeoutMs = 120_000 }) {
  const outputDir = mkdtempSync(join(tmpdir(), 'bindify-conformance-'));
  try {
    const env = bearer
      ? { ...process.env, CONFORMANCE_BEARER_ORIGIN: bearer.origin, CONFORMANCE_BEARER_TOKEN: bearer.token }
      : process.env;
    const preload = bearer ? join(testsDir, 'conformance/bearer.mjs') : undefined;
    const result = await run(['server', '--url', url, '--scenario', name, '-o', outputDir], { env, timeoutMs, preload });
    const summary = summarise(readChecks(outputDir));
    return { name, passed: result.code === 0 && !summary.bad.some((b) => b.startsWith('FAILURE')), ...summary, output: result.stdout + result.stderr };
  } finally {
    rmSync(outputDir, { recursive: true, force: true });
  }
}

// The Python MCP SDK (PyPI `mcp`, installed by scripts/setup.sh into tests/.venv) as a client of
// the permanent URLs: the initialize handshake over /mcp and over /sse, and its default `auto`
// mode, which first probes `server/discover` (revision 2026-07-28). In front of a server that
// predates that revision the probe fails and the client falls back to initialize; in front of
// the Python SDK's own server, behind the same OAuth server, the client stays in the stateless
// revision: one request per POST, no session.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';

import { Owner } from '../conformance/owner.mjs';
import { startMcpServer } from '../fixtures/mcp-server.mjs';
import { startOAuthServer } from '../fixtures/oauth-server.mjs';
import { testsDir } from '../lib/paths.mjs';
import { getFreePort } from '../lib/ports.mjs';
import { startProcess } from '../lib/procs.mjs';
import { startWorker } from '../lib/worker.mjs';
import { newKey } from './support.mjs';

const python = join(testsDir, '.venv/bin/python');
const CLIENT_TIMEOUT_MS = 30_000;

/** Runs tests/python/client.py with `args`; resolves with the JSON line it prints. */
function pythonClient(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [join(testsDir, 'python/client.py'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), CLIENT_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      try {
        resolve({ code, ...JSON.parse(stdout.trim().split('\n').at(-1)) });
      } catch {
        reject(new Error(`client.py exited ${code} without a result line:\n${stdout}\n${stderr.slice(-2000)}`));
      }
    });
  });
}

async function startPythonServer(issuer) {
  const port = await getFreePort();
  const proc = await startProcess({
    name: 'python-mcp-server',
    command: python,
    args: [join(testsDir, 'python/server.py'), '--port', String(port), '--issuer', issuer],
  });
  const url = `http://127.0.0.1:${port}/mcp`;
  for (let i = 0; i < 100; i += 1) {
    if (proc.exitStatus()) throw new Error(`the Python MCP server exited: ${proc.logTail()}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`);
      if (response.ok) return { url, stop: () => proc.stop() };
    } catch {
      // not listening yet
    }
    await delay(100);
  }
  await proc.stop();
  throw new Error(`the Python MCP server did not serve ${url}: ${proc.logTail()}`);
}

describe('the Python MCP SDK through the permanent URLs', () => {
  let as;
  let typescript;
  let pythonServer;
  let worker;
  let toTypescript;
  let toPython;

  before(async () => {
    if (!existsSync(python)) throw new Error(`${python} is missing: run scripts/setup.sh`);
    as = await startOAuthServer({ accessTokenTTL: 3600 });
    typescript = await startMcpServer({ issuer: as.issuer });
    pythonServer = await startPythonServer(as.issuer);
    worker = await startWorker({ vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true' } });
    const owner = new Owner(worker.url, { fields: { login: 'owner', password: 'any-password' } });
    toTypescript = await owner.connect(typescript.url);
    toPython = await owner.connect(pythonServer.url);
  });

  after(async () => {
    await worker?.stop();
    await pythonServer?.stop();
    await typescript?.stop();
    await as?.stop();
  });

  const echo = ['--call', 'echo', '--arguments', JSON.stringify({ text: 'from python' })];
  const typescriptTools = ['add', 'ask_user', 'echo', 'slow_progress'];

  test('initialize handshake over /mcp: tools listed and called', async () => {
    const outcome = await pythonClient(['--url', toTypescript.mcpUrl, '--mode', 'legacy', ...echo]);
    assert.deepEqual(outcome, {
      code: 0,
      protocol_version: '2025-11-25',
      discovered: false,
      initialized: true,
      server: 'bindify-test-mcp',
      tools: typescriptTools,
      is_error: false,
      text: 'from python',
    });
  });

  test('initialize handshake over /sse: tools listed and called', async () => {
    const outcome = await pythonClient(['--url', toTypescript.sseUrl, '--transport', 'sse', '--mode', 'legacy', ...echo]);
    assert.deepEqual(outcome, {
      code: 0,
      protocol_version: '2025-11-25',
      discovered: false,
      initialized: true,
      server: 'bindify-test-mcp',
      tools: typescriptTools,
      is_error: false,
      text: 'from python',
    });
  });

  test('auto mode: the server/discover probe reaches an older server, which refuses it, and the client falls back', async () => {
    const seen = typescript.requests.length;
    const outcome = await pythonClient(['--url', toTypescript.mcpUrl, ...echo]);
    assert.equal(outcome.code, 0, JSON.stringify(outcome));
    assert.equal(outcome.protocol_version, '2025-11-25');
    assert.equal(outcome.discovered, false);
    assert.equal(outcome.initialized, true);
    assert.equal(outcome.text, 'from python');
    const probe = typescript.requests.slice(seen).find((r) => r.rpc.includes('server/discover'));
    assert.ok(probe, 'the probe reached the upstream');
    assert.ok(probe.authorization, 'with the connection token');
    assert.equal(probe.status, 400);
  });

  test('auto mode in front of a 2026-07-28 server: stateless, no handshake', async () => {
    const outcome = await pythonClient(['--url', toPython.mcpUrl, '--call', 'add', '--arguments', JSON.stringify({ a: 2, b: 3 })]);
    assert.deepEqual(outcome, {
      code: 0,
      protocol_version: '2026-07-28',
      discovered: true,
      initialized: false,
      server: 'bindify-python-server',
      tools: ['add', 'echo'],
      is_error: false,
      text: '5',
    });
  });

  test('the 2026-07-28 revision pinned, and the handshake, against the same server and URL', async () => {
    const pinned = await pythonClient(['--url', toPython.mcpUrl, '--mode', '2026-07-28', ...echo]);
    assert.equal(pinned.code, 0, JSON.stringify(pinned));
    assert.equal(pinned.protocol_version, '2026-07-28');
    assert.equal(pinned.initialized, false);
    assert.equal(pinned.text, 'from python');
    const legacy = await pythonClient(['--url', toPython.mcpUrl, '--mode', 'legacy', ...echo]);
    assert.equal(legacy.code, 0, JSON.stringify(legacy));
    assert.equal(legacy.protocol_version, '2025-11-25');
    assert.equal(legacy.initialized, true);
    assert.equal(legacy.text, 'from python');
  });
});

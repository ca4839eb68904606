// `bindify doctor` (the built target/debug/bindify) against Workers in workerd that each miss
// something a deployment needs: no ADMIN_TOKEN, a short one, no TOKEN_ENCRYPTION_KEY, a malformed
// one, no VAULT KV namespace, a cron that never ran. Each finding comes with the command that
// fixes it, as scripts/deploy.sh would advise.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { repoRoot, wranglerToml } from '../lib/paths.mjs';
import { startWorker } from '../lib/worker.mjs';
import { newKey } from './support.mjs';

const bindifyBin = join(repoRoot, 'target/debug/bindify');
const EXIT_GENERIC = 1;

/** `bindify doctor --worker <url> [--token <t>]` with an empty configuration. */
function doctor(url, token, json = false) {
  const configDir = mkdtempSync(join(tmpdir(), 'bindify-doctor-'));
  const env = { ...process.env, BINDIFY_CONFIG_DIR: configDir, BINDIFY_NO_BROWSER: '1', NO_COLOR: '1' };
  for (const name of ['BINDIFY_WORKER_URL', 'BINDIFY_ADMIN_TOKEN']) delete env[name];
  const args = ['doctor', '--worker', url, ...(token ? ['--token', token] : []), ...(json ? ['--json'] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(bindifyBin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.once('error', reject);
    child.once('close', (code) => {
      rmSync(configDir, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
}

/** The one check called `name` in a `--json` report. */
async function check(url, token, name) {
  const run = await doctor(url, token, true);
  const report = JSON.parse(run.stdout);
  const found = report.checks.find((c) => c.name === name);
  assert.ok(found, `no "${name}" check in ${run.stdout}`);
  return { run, report, check: found };
}

describe('bindify doctor on a Worker that misses something', () => {
  const token = randomBytes(32).toString('base64url');
  const workers = [];
  const start = async (options) => {
    const worker = await startWorker(options);
    workers.push(worker);
    return worker;
  };

  after(async () => {
    for (const worker of workers) await worker.stop();
  });

  test('no ADMIN_TOKEN: the Worker refuses management; the fix is scripts/deploy.sh', async () => {
    const worker = await start({ vars: { TOKEN_ENCRYPTION_KEY: newKey() } });
    const run = await doctor(worker.url, null);
    assert.equal(run.code, EXIT_GENERIC, run.stdout);
    assert.match(run.stdout, /^\[ok\]   worker reachable: /m);
    assert.match(run.stdout, /^\[FAIL\] admin token: the Worker has no ADMIN_TOKEN secret, so it refuses to connect or manage anything\./m);
    assert.match(run.stdout, /^ {7}fix: scripts\/deploy\.sh$/m);
    assert.match(run.stdout, /^Run each fix from the root of the Bindify checkout you deploy from/m);
    const { report, check: found } = await check(worker.url, null, 'admin token');
    assert.equal(report.ok, false);
    assert.deepEqual([found.level, found.fix], ['fail', 'scripts/deploy.sh']);
  });

  test('a short ADMIN_TOKEN: delete it and let scripts/deploy.sh set a random one', async () => {
    const short = randomBytes(15).toString('base64url'); // 20 bytes
    const worker = await start({ vars: { TOKEN_ENCRYPTION_KEY: newKey(), ADMIN_TOKEN: short } });
    const { run, check: found } = await check(worker.url, short, 'admin token');
    assert.equal(run.code, EXIT_GENERIC);
    assert.equal(found.level, 'fail');
    assert.match(found.detail, /^the Worker's ADMIN_TOKEN is shorter than 32 bytes, so it refuses to connect or manage anything\./);
    assert.equal(found.fix, 'scripts/wrangler.sh secret delete ADMIN_TOKEN && scripts/deploy.sh');
    assert.ok(!run.stdout.includes(short) && !run.stderr.includes(short), 'the token is never printed');
  });

  test('no TOKEN_ENCRYPTION_KEY and a cron that never ran', async () => {
    const worker = await start({ vars: { ADMIN_TOKEN: token } });
    const run = await doctor(worker.url, token);
    assert.equal(run.code, EXIT_GENERIC, run.stdout);
    assert.match(run.stdout, /^\[FAIL\] encryption key: TOKEN_ENCRYPTION_KEY is not set, so no connection can be stored\. scripts\/deploy\.sh sets 32 random bytes\n {7}fix: scripts\/deploy\.sh$/m);
    assert.match(run.stdout, /^\[ok\]   admin token: ADMIN_TOKEN is set on the Worker$/m);
    assert.match(run.stdout, /^\[warn\] cron: the cron has never run on this Worker\. .+\n {7}fix: scripts\/deploy\.sh$/m);
    // Once the cron has run, it is no longer a finding.
    assert.equal((await worker.cron()).status, 200);
    const { check: cron } = await check(worker.url, token, 'cron');
    assert.equal(cron.level, 'ok');
    assert.equal(cron.fix, undefined);
  });

  test('a malformed key and no VAULT KV namespace', async () => {
    // wrangler.toml without its [[kv_namespaces]] table: deployed without the namespace.
    const dir = mkdtempSync(join(tmpdir(), 'bindify-doctor-toml-'));
    const config = join(dir, 'wrangler.toml');
    const toml = readFileSync(wranglerToml, 'utf8').replace(/\[\[kv_namespaces\]\]\nbinding = "VAULT"\nid = "[^"]+"\n/, '');
    assert.ok(!toml.includes('kv_namespaces'), 'the KV table was removed');
    writeFileSync(config, toml);
    try {
      const worker = await start({ config, vars: { ADMIN_TOKEN: token, TOKEN_ENCRYPTION_KEY: 'not-base64-32-bytes' } });
      const run = await doctor(worker.url, token, true);
      assert.equal(run.code, EXIT_GENERIC, run.stdout);
      const report = JSON.parse(run.stdout);
      assert.equal(report.health.storage, 'unbound');
      assert.equal(report.health.connections, null);
      const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
      assert.equal(byName.storage.level, 'fail');
      assert.match(byName.storage.detail, /^the Worker has no VAULT KV namespace bound, so it cannot store or list connections\./);
      assert.equal(byName.storage.fix, 'scripts/deploy.sh');
      // Whether connections were sealed with an earlier key is unknown: put it back, never replace it.
      assert.equal(byName['encryption key'].level, 'fail');
      assert.match(byName['encryption key'].detail, /is malformed: it must be 32 random bytes in base64\. Stored connections open only with the key they were sealed with/);
      assert.equal(byName['encryption key'].fix, 'scripts/wrangler.sh secret put TOKEN_ENCRYPTION_KEY');
      assert.equal(byName.cron, undefined, 'no cron verdict without storage');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

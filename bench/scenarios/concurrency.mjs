// 3. Many clients on one connection: `clients` MCP sessions (each its own Mcp-Session-Id and
// keep-alive socket) share one Bindify permanent URL and send `total` echo calls between them,
// as fast as answers come. The same load straight to the upstream and through the bare
// pass-through, one setup after the other (concurrent load cannot be interleaved fairly); and
// both Workers again on the runtime workerd's own socket, without wrangler's dev proxy.
import { performance } from 'node:perf_hooks';

import { newAgent } from '../lib/mcp-http.mjs';
import { workerdPids } from '../lib/proc.mjs';
import { WORKER_SETUPS as SETUPS } from '../lib/setup.mjs';
import { summarize } from '../lib/stats.mjs';

export async function runConcurrency({ peers, log, clients = 100, total = 3000, upstream = 'json' }) {
  const out = { clients, total_requests: total, upstream, setups: {} };
  const pidsOf = (setup) => {
    const worker = setup.endsWith('bindify') ? peers.bindify : setup.endsWith('passthrough') ? peers.passthrough : null;
    return worker ? workerdPids(worker.pid, worker.port) : null;
  };
  for (const setup of SETUPS) {
    if (setup !== 'direct') await peers.restartWorkers(); // fresh processes for each load (see restartWorkers)
    const agent = newAgent(clients);
    try {
      const endpoints = [];
      for (let i = 0; i < clients; i += 1) endpoints.push(peers.endpoint(upstream, setup, agent));
      // Sessions are opened 10 at a time (not timed).
      for (let i = 0; i < clients; i += 10) await Promise.all(endpoints.slice(i, i + 10).map((e) => e.initialize()));
      const before = pidsOf(setup);
      const samples = [];
      const errors = [];
      let failures = 0;
      let next = 0;
      const started = performance.now();
      await Promise.all(endpoints.map(async (endpoint) => {
        while (next < total) {
          const i = next++;
          try {
            const { ms, result } = await endpoint.call('tools/call', { name: 'echo', arguments: { text: `c${i}` } });
            if (result.content?.[0]?.text !== `c${i}`) throw new Error(`wrong answer ${JSON.stringify(result)}`);
            samples.push(ms);
          } catch (err) {
            failures += 1;
            if (errors.length < 5) errors.push(`after ${((performance.now() - started) / 1000).toFixed(1)} s: ${err.message}`);
          }
        }
      }));
      const wall = (performance.now() - started) / 1000;
      const after = pidsOf(setup);
      out.setups[setup] = {
        wall_s: wall,
        throughput_rps: total / wall,
        latency: summarize(samples),
        failures,
        errors,
        // Whether wrangler replaced a workerd process meanwhile (a crash or reload would).
        workerd_processes_unchanged: JSON.stringify(before) === JSON.stringify(after),
      };
      log(`  ${setup}: ${(total / wall).toFixed(0)} req/s, p99 ${summarize(samples).p99.toFixed(1)} ms, ${failures} failures`);
    } finally {
      await agent.close();
    }
  }
  return out;
}

// 2. Long SSE answers: time to the first event and events per second, straight to the upstream,
// through the bare pass-through and through Bindify, interleaved round by round.
//   slow_progress  the fixture's tool with intervalMs 0: paced by the upstream's timer (~1 ms a
//                  step), so it shows latency of each event more than raw throughput
//   burst          the bench server writes its notifications back to back: the proxy's
//                  throughput is the limit
import { newAgent } from '../lib/mcp-http.mjs';
import { WORKER_SETUPS as SETUPS } from '../lib/setup.mjs';
import { shuffle, summarize } from '../lib/stats.mjs';

export async function runStreaming({ peers, log, rounds = 3, steps = 500, burst = 2000, burstSize = 100 }) {
  const workloads = [
    { key: 'slow_progress', upstream: 'sse', params: { name: 'slow_progress', arguments: { steps, intervalMs: 0 } }, label: `fixture slow_progress, ${steps} steps, intervalMs 0` },
    { key: 'burst', upstream: 'stream', params: { name: 'burst', arguments: { count: burst, size: burstSize } }, label: `bench burst: ${burst} progress notifications with ${burstSize} bytes of text each, back to back` },
  ];
  const out = { rounds, workloads: {} };
  for (const workload of workloads) {
    const endpoints = {};
    for (const setup of SETUPS) endpoints[setup] = await peers.endpoint(workload.upstream, setup).initialize();
    const runs = Object.fromEntries(SETUPS.map((s) => [s, []]));
    const failures = Object.fromEntries(SETUPS.map((s) => [s, []]));
    for (let round = 0; round < rounds; round += 1) {
      for (const setup of shuffle([...SETUPS])) {
        const params = { ...workload.params, _meta: { progressToken: `bench-${round}` } };
        // A fresh connection per stream: a keep-alive socket left idle during another setup's
        // long stream may be closed by its server just as it is reused (ECONNRESET on a POST).
        const endpoint = endpoints[setup];
        const shared = endpoint.agent;
        endpoint.agent = newAgent(1);
        try {
          runs[setup].push(await endpoint.stream('tools/call', params));
        } catch (err) {
          failures[setup].push(err.message);
        } finally {
          await endpoint.agent.close().catch(() => {});
          endpoint.agent = shared;
        }
      }
    }
    const summary = {};
    for (const setup of SETUPS) {
      const r = runs[setup];
      if (!r.length) {
        summary[setup] = { failures: failures[setup] };
        continue;
      }
      summary[setup] = {
        failures: failures[setup],
        events: r[0].events,
        bytes: r[0].bytes,
        headers_ms: summarize(r.map((x) => x.headersMs)).p50,
        first_event_ms: summarize(r.map((x) => x.firstEventMs)).p50,
        total_ms: summarize(r.map((x) => x.totalMs)).p50,
        // Over the whole answer (request sent to last byte), and between first and last event.
        events_per_s: summarize(r.map((x) => x.events / (x.totalMs / 1000))).p50,
        events_per_s_after_first: summarize(r.map((x) => (x.events - 1) / Math.max(0.001, (x.lastEventMs - x.firstEventMs) / 1000))).p50,
        mib_per_s: summarize(r.map((x) => x.bytes / 1048576 / (x.totalMs / 1000))).p50,
        runs: r,
      };
    }
    out.workloads[workload.key] = { label: workload.label, summary };
    log(`  ${workload.key}: first event direct ${summary.direct.first_event_ms?.toFixed(1)} ms / Bindify ${summary.bindify.first_event_ms?.toFixed(1)} ms; events/s direct ${summary.direct.events_per_s?.toFixed(0)} / Bindify ${summary.bindify.events_per_s?.toFixed(0)}; failures ${Object.entries(failures).filter(([, f]) => f.length).map(([k, f]) => `${k} ${f.length}`).join(', ') || 'none'}`);
  }
  return out;
}

// 1. Added latency per MCP request. For each workload, every setup has its own initialized MCP
// session and the requests are interleaved round-robin in a fresh random order each round, so
// drift (GC, CPU frequency, other load) hits all setups alike. The "far object" setups run in
// the same rounds: how many Durable Object calls Bindify still made is read from the wrapper's
// counts around the measured rounds. Then, per setup alone, the CPU time the Worker's workerd
// process (and its thread that runs the isolate) spent per request.
import { cpuMsOf, mainThreadCpuMs, wranglerNodePids, workerdPids, workerdServing } from '../lib/proc.mjs';
import { FAR_OBJECT_DELAY_MS, LATENCY_SETUPS } from '../lib/setup.mjs';
import { shuffle, summarize } from '../lib/stats.mjs';

const WORKLOADS = [
  { key: 'echo_json', upstream: 'json', label: 'tools/call echo, upstream answers JSON (bench server, enableJsonResponse)' },
  { key: 'echo_sse', upstream: 'sse', label: 'tools/call echo, upstream answers a one-event SSE stream (fixture server)' },
];

const echo = (i) => ({ name: 'echo', arguments: { text: `bench ${i}` } });

export async function runLatency({ peers, log, requests = 1000, warmup = 50, cpuRequests = 300 }) {
  const out = { requests_per_setup: requests, warmup_per_setup: warmup, setups: LATENCY_SETUPS, workloads: {} };
  for (const [index, workload] of WORKLOADS.entries()) {
    if (index > 0) await peers.restartWorkers(); // see restartWorkers
    const endpoints = {};
    for (const setup of LATENCY_SETUPS) endpoints[setup] = await peers.endpoint(workload.upstream, setup).initialize();
    const samples = Object.fromEntries(LATENCY_SETUPS.map((s) => [s, []]));
    const failures = Object.fromEntries(LATENCY_SETUPS.map((s) => [s, 0]));
    const errors = [];
    const started = Date.now();
    let farBefore = null;
    for (let round = -warmup; round < requests; round += 1) {
      if (round === 0) farBefore = await peers.farCounts();
      for (const setup of shuffle([...LATENCY_SETUPS])) {
        try {
          const { ms } = await endpoints[setup].call('tools/call', echo(round));
          if (round >= 0) samples[setup].push(ms);
        } catch (err) {
          failures[setup] += 1;
          if (errors.length < 5) errors.push(err.message);
        }
      }
    }
    const farAfter = await peers.farCounts();
    const summary = Object.fromEntries(LATENCY_SETUPS.map((s) => [s, summarize(samples[s])]));
    out.workloads[workload.key] = {
      label: workload.label,
      wall_s: (Date.now() - started) / 1000,
      summary,
      added: added(summary),
      far_object: farObject(summary, farBefore, farAfter),
      failures,
      errors,
    };
    const far = out.workloads[workload.key].far_object;
    log(`  ${workload.key}: p50 direct ${summary.direct.p50.toFixed(2)} ms, pass-through ${summary.passthrough.p50.toFixed(2)} ms, Bindify ${summary.bindify.p50.toFixed(2)} ms (Miniflare: ${summary.mf_passthrough.p50.toFixed(2)} / ${summary.mf_bindify.p50.toFixed(2)} ms, Rust floor ${summary.mf_floor.p50.toFixed(2)} ms; far object: ${summary.mf_far_bindify.p50.toFixed(2)} ms, ${far.object_calls} object calls in ${far.requests} requests)`);
  }
  await peers.restartWorkers();
  out.cpu = await cpuPerRequest({ peers, requests: cpuRequests });
  return out;
}

/**
 * (c)-(a) and (b)-(a) at each percentile and their ratio, under wrangler dev and on Miniflare;
 * and what each step adds on Miniflare (differences of percentiles, so indicative only).
 */
function added(summary) {
  const result = {};
  for (const p of ['p50', 'p90', 'p99']) {
    const diff = (a, b) => summary[a][p] - summary[b][p];
    result[p] = {
      bindify_minus_direct: diff('bindify', 'direct'),
      passthrough_minus_direct: diff('passthrough', 'direct'),
      ratio: diff('bindify', 'direct') / diff('passthrough', 'direct'),
      miniflare: {
        bindify_minus_direct: diff('mf_bindify', 'direct'),
        passthrough_minus_direct: diff('mf_passthrough', 'direct'),
        ratio: diff('mf_bindify', 'direct') / diff('mf_passthrough', 'direct'),
        rust_floor_minus_direct: diff('mf_floor', 'direct'),
        rust_floor_ratio: diff('mf_floor', 'direct') / diff('mf_passthrough', 'direct'),
        ratio_to_rust_floor: diff('mf_bindify', 'direct') / diff('mf_floor', 'direct'),
      },
      steps: {
        wrangler_dev_overhead_on_passthrough: diff('passthrough', 'mf_passthrough'),
        wrangler_dev_overhead_on_bindify: diff('bindify', 'mf_bindify'),
        worker_answering_itself: summary.mf_worker_noop[p],
        upstream_fetch_through_worker: diff('mf_passthrough', 'direct'),
        kv_get: diff('mf_passthrough_kv', 'mf_passthrough'),
        do_call: diff('mf_passthrough_kv_do', 'mf_passthrough_kv'),
        bindify_beyond_kv_do_passthrough: diff('mf_bindify', 'mf_passthrough_kv_do'),
      },
    };
  }
  return result;
}

/**
 * The far-object scenario: every Durable Object call waits FAR_OBJECT_DELAY_MS. The floor is the
 * bare pass-through Worker on Miniflare: a Worker that forwards the request with a token it
 * already holds, reading no KV and calling no object, is the least any Worker proxy adds; a
 * Bindify request that needs no object call (a warm isolate holding a usable token) can come
 * within its own work of it, and one that calls the object pays the delay on top.
 */
function farObject(summary, before, after) {
  const delta = (table, key) => (after[table][key] ?? 0) - (before?.[table]?.[key] ?? 0);
  const requests = summary.mf_far_bindify.n;
  const objectCalls = delta('stub_calls', 'CONNECTION');
  const result = { delay_ms: FAR_OBJECT_DELAY_MS, requests, object_calls: objectCalls, object_calls_per_1000_requests: (objectCalls / requests) * 1000, counts_after: after };
  for (const p of ['p50', 'p90', 'p99']) {
    const floor = summary.mf_passthrough[p] - summary.direct[p];
    const far = summary.mf_far_bindify[p] - summary.direct[p];
    result[p] = {
      floor_passthrough_minus_direct: floor,
      far_bindify_minus_direct: far,
      ratio_to_floor: far / floor,
      ratio_to_rust_floor: far / (summary.mf_floor[p] - summary.direct[p]),
      far_passthrough_kv_do_minus_direct: summary.mf_passthrough_kv_do_far[p] - summary.direct[p],
    };
  }
  return result;
}

/**
 * CPU per request: each setup alone, the CPU time (from /proc schedstat, nanoseconds) of the
 * processes serving it over `requests` echo calls, and of the runtime workerd's main thread, the
 * one that runs the isolates:
 * under wrangler dev its two workerd (the dev proxy that owns the port, and the runtime with the
 * Worker, objects and local KV) and wrangler's Node processes; on Miniflare its workerd and the
 * Node process hosting Miniflare. Setups sharing processes run one after another.
 */
async function cpuPerRequest({ peers, requests }) {
  const processes = (setup) => {
    const kind = setup.replace(/^mf_/, '');
    const which = kind === 'bindify' ? 'bindify' : 'passthrough';
    if (setup.startsWith('mf_')) {
      return { runtime: [workerdServing(peers.mf.pid, peers.mf[which].port)], proxy: [], node: [peers.mf.pid] };
    }
    const worker = peers[which];
    const { proxy, runtime } = workerdPids(worker.pid, worker.port);
    return { runtime: [runtime], proxy: [proxy], node: wranglerNodePids(worker.pid) };
  };
  const result = {};
  for (const setup of ['worker_noop', 'passthrough', 'bindify', 'mf_worker_noop', 'mf_passthrough', 'mf_passthrough_kv', 'mf_passthrough_kv_do', 'mf_bindify']) {
    const pids = processes(setup);
    const endpoint = await peers.endpoint('json', setup).initialize();
    for (let i = 0; i < 20; i += 1) await endpoint.call('tools/call', echo(i));
    const before = { runtime: cpuMsOf(pids.runtime), isolateThread: mainThreadCpuMs(pids.runtime[0]), proxy: cpuMsOf(pids.proxy), node: cpuMsOf(pids.node), self: process.cpuUsage() };
    const t0 = Date.now();
    for (let i = 0; i < requests; i += 1) await endpoint.call('tools/call', echo(i));
    const wall = Date.now() - t0;
    const self = process.cpuUsage(before.self);
    result[setup] = {
      isolate_thread_cpu_ms_per_request: (mainThreadCpuMs(pids.runtime[0]) - before.isolateThread) / requests,
      requests,
      runtime_workerd_cpu_ms_per_request: (cpuMsOf(pids.runtime) - before.runtime) / requests,
      proxy_workerd_cpu_ms_per_request: (cpuMsOf(pids.proxy) - before.proxy) / requests,
      node_cpu_ms_per_request: (cpuMsOf(pids.node) - before.node) / requests,
      bench_client_cpu_ms_per_request: (self.user + self.system) / 1000 / requests,
      wall_ms_per_request: wall / requests,
    };
  }
  return result;
}

// The Markdown summary of a run (bench/results/latest.md), ready to paste into the README.

const f = (x, digits = 2) => (x == null || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits));
const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
const table = (header, rows) => [
  `| ${header.join(' | ')} |`,
  `|${header.map((h, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');

export function markdown(results) {
  const m = results.machine;
  const out = [];
  out.push('## Benchmark');
  out.push('');
  out.push(`Measured ${results.started_at.slice(0, 10)} on ${m.cpu_model}, ${m.cores} cores, ${m.memory_gib} GiB, ${m.os}; Node ${m.node}, wrangler ${m.wrangler} (workerd ${m.workerd}), all local: \`wrangler dev\` (workerd with local KV and Durable Objects), oidc-provider and the MCP SDK servers on 127.0.0.1, client and servers sharing the ${m.cores} cores. Commit \`${(m.git_commit ?? '').slice(0, 12)}\`${m.git_dirty_paths ? ` (with ${m.git_dirty_paths} uncommitted source paths)` : ''}; the whole run took ${f(results.run_seconds / 60, 1)} min (\`sh bench/run.sh\`). Times in milliseconds unless marked. 1-minute load average during the phases: ${Object.entries(results.load_average ?? {}).map(([k, v]) => `${k} ${v.map((x) => f(x, 1)).join('-')}`).join(', ')}.`);

  const lat = results.latency;
  if (lat) {
    out.push('');
    out.push('### Added latency per MCP request');
    out.push('');
    out.push(`${lat.requests_per_setup} \`tools/call echo\` requests per setup and workload (after ${lat.warmup_per_setup} warm-up rounds), one MCP session per setup, all setups interleaved round-robin in a fresh random order each round; raw undici keep-alive client. (a) straight to the upstream with a valid bearer token; (b) a bare pass-through Worker (a few lines of JavaScript adding a fixed \`Authorization\`); (c) Bindify's permanent URL. (b) and (c) run twice: under \`wrangler dev\`, as users run it locally, and on Miniflare (the same workerd, local KV and Durable Objects, without the proxy workerd wrangler dev puts in front and without wrangler's Node process, which spends CPU on every subrequest, most likely relaying inspector traffic).`);
    for (const w of Object.values(lat.workloads)) {
      const s = w.summary;
      out.push('');
      out.push(`**${w.label}**`);
      out.push('');
      out.push(table(
        ['', '(a) direct', '(b) pass-through', '(c) Bindify', '(b)-(a)', '(c)-(a)', 'ratio', '(b) Miniflare', '(c) Miniflare', '(b)-(a) Miniflare', '(c)-(a) Miniflare', 'ratio'],
        ['p50', 'p90', 'p99'].map((p) => {
          const a = w.added[p];
          return [p, f(s.direct[p]), f(s.passthrough[p]), f(s.bindify[p]), f(a.passthrough_minus_direct), f(a.bindify_minus_direct), `${f(a.ratio)}x`,
            f(s.mf_passthrough[p]), f(s.mf_bindify[p]), f(a.miniflare.passthrough_minus_direct), f(a.miniflare.bindify_minus_direct), `${f(a.miniflare.ratio)}x`];
        }),
      ));
      const failed = Object.entries(w.failures).filter(([, n]) => n);
      if (failed.length) out.push(`\nFailures: ${failed.map(([k, n]) => `${k} ${n}`).join(', ')}; ${w.errors.join('; ')}.`);
    }
    out.push('');
    out.push('**Where the time goes** (p50 differences between setups of the same interleaved run, so indicative): the pass-through Worker repeats Bindify\'s per-request storage steps one at a time, in JavaScript, on Miniflare: one KV get (Bindify: the URL index lookup) and one Durable Object call answered from the object\'s memory (Bindify: the connection object\'s `/token`).');
    out.push('');
    out.push(table(
      ['workload', 'wrangler dev overhead (b)', 'wrangler dev overhead (c)', 'Worker answering itself', 'pass-through - direct', '+ KV get', '+ DO call', 'Bindify - KV+DO pass-through'],
      Object.entries(lat.workloads).map(([key, w]) => {
        const st = w.added.p50.steps;
        return [key, f(st.wrangler_dev_overhead_on_passthrough), f(st.wrangler_dev_overhead_on_bindify), f(st.worker_answering_itself), f(st.upstream_fetch_through_worker), f(st.kv_get), f(st.do_call), f(st.bindify_beyond_kv_do_passthrough)];
      }),
    ));
    if (lat.cpu) {
      const n = Object.values(lat.cpu)[0].requests;
      out.push('');
      out.push(`CPU time per request, each setup alone (${n} JSON echo calls; /proc, 10 ms ticks, so about +-${f(10 / n, 2)} ms). Under wrangler dev: runtime workerd, dev proxy workerd, wrangler's Node; on Miniflare: its workerd and the Node process hosting it.`);
      out.push('');
      out.push(table(['setup', 'workerd (runtime)', 'workerd (dev proxy)', 'Node (wrangler / Miniflare)', 'bench client', 'wall'],
        Object.entries(lat.cpu).map(([k, c]) => [k, f(c.runtime_workerd_cpu_ms_per_request), f(c.proxy_workerd_cpu_ms_per_request), f(c.node_cpu_ms_per_request), f(c.bench_client_cpu_ms_per_request), f(c.wall_ms_per_request)])));
    }
  }

  const st = results.streaming;
  if (st) {
    out.push('');
    out.push('### Streaming (SSE answers)');
    out.push('');
    out.push(`Median of ${st.rounds} interleaved rounds, each stream on a fresh connection. events/s and MiB/s over the whole answer, request sent to last byte. \`slow_progress\` is paced by the upstream's timer (about 1 ms a step), so it shows per-event delay; \`burst\` writes every event back to back (the upstream sends them all before its first write reaches the socket, so its "first event" is mostly the upstream's), so it shows throughput.`);
    out.push('');
    const rows = [];
    for (const w of Object.values(st.workloads)) {
      for (const [setup, s] of Object.entries(w.summary)) {
        rows.push([`${w.label}: ${setup}`, f(s.headers_ms, 1), f(s.first_event_ms, 1), String(s.events ?? 'n/a'), f(s.events_per_s, 0), f(s.mib_per_s, 2), f(s.total_ms, 0), String(s.failures?.length ?? 0)]);
      }
    }
    out.push(table(['stream, setup', 'headers', 'first event', 'events', 'events/s', 'MiB/s', 'total', 'failed runs'], rows));
    const failed = Object.values(st.workloads).flatMap((w) => Object.entries(w.summary).flatMap(([k, s]) => (s.failures ?? []).map((e) => `${k}: ${e}`)));
    if (failed.length) out.push(`\nFailed runs: ${[...new Set(failed)].join('; ')}.`);
  }

  const cc = results.concurrency;
  if (cc) {
    out.push('');
    out.push('### Concurrency');
    out.push('');
    out.push(`${cc.clients} concurrent clients (each its own MCP session and socket), ${cc.total_requests} \`tools/call echo\` requests in all (upstream answering JSON), one setup at a time; on Bindify all clients share one connection (one permanent URL).`);
    out.push('');
    out.push(table(['setup', 'requests/s', 'p50', 'p99', 'max', 'failures'],
      Object.entries(cc.setups).map(([k, s]) => [k, f(s.throughput_rps, 0), f(s.latency.p50, 1), f(s.latency.p99, 1), f(s.latency.max, 1), String(s.failures)])));
    const failed = Object.entries(cc.setups).filter(([, s]) => s.failures);
    if (failed.length) out.push(`\nFailures: ${failed.map(([k, s]) => `${k}: ${s.errors.join('; ')}`).join(' / ')}.`);
  }

  const cr = results.cron;
  if (cr) {
    out.push('');
    out.push('### Cron');
    out.push('');
    out.push(`Connections created through the real connect flow (headless, ${cr.pool} at a time): ${cr.creation.long.count} in ${f(cr.creation.long.seconds, 1)} s and ${cr.creation.short.count} in ${f(cr.creation.short.seconds, 1)} s (${f((cr.creation.long.count + cr.creation.short.count) / (cr.creation.long.seconds + cr.creation.short.seconds), 1)} per second). ${cr.creation.long.count} use an authorization server issuing ${cr.long_ttl_s} s access tokens, ${cr.creation.short.count} one issuing ${cr.short_ttl_s} s tokens; Worker vars ${Object.entries(cr.vars).map(([k, v]) => `\`${k}=${v}\``).join(', ')} (budget: ${cr.vars.CRON_MAX_REFRESHES} refreshes per run; the default is 40).`);
    out.push('');
    out.push(table(['run', 'wall', 'listed', 'due', 'refreshed', 'failed', 'subrequests (KV list pages + object calls)', 'token requests at the AS', 'workerd CPU (whole process)'],
      cr.runs.map((r) => [r.label, f(r.wall_ms, 0), String(r.listed), String(r.due), String(r.refreshed), String(r.failed + r.transient + r.needs_reauth), `${r.subrequests.total_of_the_cron_invocation} (${r.subrequests.kv_list_pages} + ${r.subrequests.object_calls})`, String(r.token_endpoint_calls_seen_by_the_as), f(r.workerd_cpu_ms, 0)])));
    out.push('');
    out.push('Workerd reports no CPU time per invocation locally; the last column is the CPU time of the whole runtime workerd process during the run (handler, Connection objects, local KV) from /proc. KV list pages are computed (1,000 keys a page; a listing of an exact multiple of 1,000 may take one more, empty, page). The trigger answered when the handler had finished (its summary line was already in the log). Each refreshed object also makes its own subrequests (the token request, its KV mirror write).');
    const over = cr.runs.filter((r) => r.subrequests.total_of_the_cron_invocation > 50);
    if (over.length) out.push(`\nWith this budget a run of ${over[0].due} due connections makes ${over[0].subrequests.total_of_the_cron_invocation} subrequests, above the 50 per invocation of the Free plan that \`core/src/cron.rs\` plans for; the default budget of 40 keeps a run at 41.`);
  }

  const sz = results.size;
  const cs = results.cold_start;
  const rs = results.restart;
  if (sz || cs) {
    out.push('');
    out.push('### Size and start');
    out.push('');
    const rows = [];
    if (sz) {
      rows.push(['build/index_bg.wasm', `${kib(sz.wasm_bytes)} raw, ${kib(sz.wasm_gzip_bytes)} gzipped`]);
      rows.push(['build/index.js (glue)', `${kib(sz.js_glue_bytes)} raw, ${kib(sz.js_glue_gzip_bytes)} gzipped`]);
    }
    if (cs) {
      rows.push(['`wrangler dev` spawn to first response (fresh state)', `${f(cs.spawn_to_first_response_ms / 1000, 2)} s (ready line at ${f(cs.spawn_to_ready_line_ms / 1000, 2)} s)`]);
      rows.push(['first request after start (GET /, landing page)', `${f(cs.first_request_ms, 1)} ms`]);
      rows.push(['warm request (GET /), p50 / p99', `${f(cs.warm_request.p50)} / ${f(cs.warm_request.p99)} ms`]);
    }
    if (rs) {
      rows.push(['first proxied MCP call after a restart (cold objects, record from storage)', `${f(rs.first_mcp_call_ms, 1)} ms`]);
      rows.push(['warm proxied MCP call, p50', `${f(rs.warm_mcp_call.p50)} ms`]);
    }
    out.push(table(['', ''], rows));
  }

  const mem = results.memory;
  if (mem) {
    out.push('');
    out.push('### Memory of idle SSE sessions');
    out.push('');
    out.push(`workerd exposes no per-object memory. Approximation: resident set of the runtime workerd process of Bindify under wrangler dev with N idle, initialized legacy SSE sessions (${mem.transport}): ${mem.points.map((p) => `${p.after_close ? 'after closing' : p.sessions}: ${f(p.rss_kib / 1024, 1)} MiB`).join(', ')}; about **${f(mem.kib_per_session, 0)} KiB per session** (rough: page-grained RSS, lazy V8 heap growth; the memory is not returned to the OS after the sessions close). wrangler's dev proxy workerd, which relays the client streams, grows by about ${f(mem.proxy_kib_per_session, 0)} KiB per session too; that one does not exist in production.`);
  }
  out.push('');
  out.push('### Reading these numbers');
  out.push('');
  out.push('- Everything is local: workerd\'s local KV is a SQLite-backed service inside workerd and a Durable Object call never leaves the process, while in production a KV read may miss the edge cache and a Durable Object lives in one location, possibly far from the request. The local cost of those steps is a floor.');
  out.push('- Under `wrangler dev`, most of what a Worker adds is wrangler\'s: its dev proxy workerd and its Node process spend more CPU per request than the Worker itself (see the CPU table); the Miniflare columns are the fairer comparison of Bindify with a bare proxy.');
  out.push('- Client, upstreams, authorization servers and workerd share the cores, so concurrency and streaming throughput are bounded by the machine, not only by the Worker.');
  out.push('');
  return out.join('\n');
}

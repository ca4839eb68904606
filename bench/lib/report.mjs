// The Markdown report of a run (bench/results/latest.md); its headline tables are README's.

const f = (x, digits = 2) => (x == null || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits));
const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;
const table = (header, rows) => [
  `| ${header.join(' | ')} |`,
  `|${header.map((h, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n');

/** The machine and run, one paragraph. */
function machineLine(results) {
  const m = results.machine;
  return `Measured ${results.started_at.slice(0, 10)} on ${m.cpu_model}, ${m.cores} cores, ${m.memory_gib} GiB, ${m.os}; Node ${m.node}, wrangler ${m.wrangler} (workerd ${m.workerd}, Miniflare ${m.miniflare}), all local: workerd with local KV and Durable Objects, oidc-provider and the MCP SDK servers on 127.0.0.1, client and servers sharing the ${m.cores} cores. Commit \`${(m.git_commit ?? '').slice(0, 12)}\`${m.git_dirty_paths ? ` (with ${m.git_dirty_paths} uncommitted source paths)` : ''}; the run took ${f(results.run_seconds / 60, 1)} min (\`sh bench/run.sh\`). Times in milliseconds unless marked. The machine is shared: 1-minute load average at the start ${(m.load_average_at_start ?? []).map((x) => f(x, 1)).join(' / ')} (1/5/15 min), and at the start and end of each phase: ${Object.entries(results.load_average ?? {}).map(([k, v]) => `${k} ${v.map((x) => f(x, 1)).join('-')}`).join(', ')}.`;
}

const ratio = (x) => `${f(x)}x`;
const verdict = (value, goal) => (value == null || !Number.isFinite(value) ? 'n/a' : value <= goal ? 'met' : 'not met');

/** The headline tables (README carries them): each goal and whether this run met it. */
export function headline(results) {
  const out = [];
  const lat = results.latency;
  if (lat) {
    out.push('**Added latency on Miniflare** (what each Worker adds to the client talking to the upstream directly; 1.25x goal: Bindify within 1.25 times what a bare pass-through Worker adds; the Rust floor is the same bare pass-through written in Rust with the `worker` crate and built like Bindify, bench/floor/):');
    out.push('');
    const rows = [];
    for (const [key, w] of Object.entries(lat.workloads)) {
      for (const p of ['p50', 'p90', 'p99']) {
        const a = w.added[p].miniflare;
        rows.push([`${key === 'echo_json' ? 'JSON' : 'SSE'} ${p}`, f(w.summary.direct[p]), f(a.passthrough_minus_direct), f(a.bindify_minus_direct), ratio(a.ratio), p === 'p50' ? verdict(a.ratio, 1.25) : '',
          a.rust_floor_minus_direct == null ? '' : `${f(a.rust_floor_minus_direct)} (${ratio(a.rust_floor_ratio)})`, a.ratio_to_rust_floor == null ? '' : ratio(a.ratio_to_rust_floor)]);
      }
    }
    out.push(table(['answer, percentile', 'direct', 'pass-through adds', 'Bindify adds', 'ratio', 'goal (p50)', 'Rust floor adds (ratio to pass-through)', 'Bindify to the Rust floor'], rows));
    out.push('');
    out.push(`**Far object** (every Durable Object call delayed ${lat.workloads.echo_json?.far_object?.delay_ms ?? 80} ms, as for an object in another region; floor: what the bare pass-through adds, which calls no object; goal: Bindify's warm requests within 1.25x of it):`);
    out.push('');
    out.push(table(['answer', 'floor p50', 'Bindify adds, p50', 'ratio to floor', 'goal', 'ratio to the Rust floor', 'p90 / p99 added', 'object calls per 1,000 requests', 'a pass-through calling the far object adds, p50'],
      Object.entries(lat.workloads).map(([key, w]) => {
        const far = w.far_object;
        return [key === 'echo_json' ? 'JSON' : 'SSE', f(far.p50.floor_passthrough_minus_direct), f(far.p50.far_bindify_minus_direct), ratio(far.p50.ratio_to_floor), verdict(far.p50.ratio_to_floor, 1.25),
          far.p50.ratio_to_rust_floor == null ? '' : ratio(far.p50.ratio_to_rust_floor),
          `${f(far.p90.far_bindify_minus_direct)} / ${f(far.p99.far_bindify_minus_direct)}`, f(far.object_calls_per_1000_requests, 1), f(far.p50.far_passthrough_kv_do_minus_direct)];
      })));
  }
  const rows = [];
  const sz = results.size;
  if (sz) rows.push(['`.wasm` gzipped (default level)', `${sz.wasm_gzip_bytes.toLocaleString('en-US')} bytes`, `at most ${sz.wasm_gzip_goal_bytes.toLocaleString('en-US')}`, verdict(sz.wasm_gzip_bytes, sz.wasm_gzip_goal_bytes)]);
  const cpu = lat?.cpu;
  if (cpu?.mf_bindify?.isolate_thread_cpu_ms_per_request != null) {
    rows.push(['CPU per request, workerd isolate thread on Miniflare (upper bound, JSON echo)', `Bindify ${f(cpu.mf_bindify.isolate_thread_cpu_ms_per_request)} ms; pass-through ${f(cpu.mf_passthrough.isolate_thread_cpu_ms_per_request)} ms; a Worker answering itself ${f(cpu.mf_worker_noop.isolate_thread_cpu_ms_per_request)} ms`, 'under 10 ms (Free plan)', verdict(cpu.mf_bindify.isolate_thread_cpu_ms_per_request, 10)]);
  }
  const soak = results.soak;
  if (soak) {
    const c = soak.refreshes;
    rows.push([`Soak: ${f(soak.minutes, 0)} min of traffic on ${soak.token_ttl_s} s tokens`, `${soak.requests.toLocaleString('en-US')} requests, ${soak.failed_requests} failed; ${c.refreshes} refreshes, ${c.tokens_replaced_by_exactly_one_refresh} of ${c.tokens_that_should_have_been_replaced} tokens replaced by exactly one refresh, ${c.refresh_tokens_spent_twice} refresh tokens spent twice; workerd RSS ${f(soak.memory.start_kib / 1024, 1)} MiB at start, ${f(soak.memory.end_kib / 1024, 1)} MiB at end`, '0 failed, one refresh per token',
      soak.failed_requests === 0 && c.refresh_tokens_spent_twice === 0 && c.tokens_replaced_by_exactly_one_refresh === c.tokens_that_should_have_been_replaced ? 'met' : 'not met']);
  }
  const cap = results.capacity?.free_plan;
  if (cap?.connections != null) {
    rows.push(['Free plan, 1-hour tokens: connections kept fresh', `${cap.connections.toLocaleString('en-US')} (bound by ${cap.binding_limit.replaceAll('_', ' ')}); per routine refresh: ${f(cap.per_refresh.kv_writes)} KV writes, ${f(cap.per_refresh.durable_object_requests)} object requests (alarms and calls), ${f(cap.per_refresh.token_requests)} token requests`, 'no KV write per routine refresh', verdict(cap.per_refresh.kv_writes, 0)]);
  }
  if (rows.length) {
    out.push('');
    out.push(table(['', 'measured', 'goal', ''], rows));
  }
  return out.join('\n');
}

export function markdown(results) {
  const out = [];
  out.push('# Benchmark results');
  out.push('');
  out.push(machineLine(results));
  out.push('');
  out.push('## Headline');
  out.push('');
  out.push(headline(results));

  const lat = results.latency;
  if (lat) {
    out.push('');
    out.push('## Added latency per MCP request');
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
    out.push('');
    out.push('## Far object');
    out.push('');
    out.push(`The same interleaved rounds include two setups whose Durable Object calls each wait ${lat.workloads.echo_json?.far_object?.delay_ms ?? 80} ms first, standing in for an object in another region (locally an object call never leaves the process): Bindify on Miniflare wrapped by \`bench/wrapper/worker.mjs\` (a module that re-exports Bindify's build and hands it bindings whose object stubs wait, and counts the calls; Bindify itself is unchanged), and the pass-through Worker's KV get and object call with the same wait. **The floor** is what the bare pass-through Worker on Miniflare adds over the direct call: forwarding with a token it already holds, no KV read, no object call, the least any Worker proxy adds. A warm Bindify request that needs no object call should stay within 1.25x of it; one that calls the object pays the wait on top. Object calls are counted by the wrapper over the measured requests (warm-up excluded), whether in the request's path or in the background.`);
    out.push('');
    out.push(table(['workload, percentile', 'floor: pass-through adds', 'far Bindify adds', 'ratio to floor', 'pass-through + far object adds', 'object calls', 'requests'],
      Object.entries(lat.workloads).flatMap(([key, w]) => ['p50', 'p90', 'p99'].map((p) => {
        const far = w.far_object;
        return [`${key} ${p}`, f(far[p].floor_passthrough_minus_direct), f(far[p].far_bindify_minus_direct), ratio(far[p].ratio_to_floor), f(far[p].far_passthrough_kv_do_minus_direct), p === 'p50' ? String(far.object_calls) : '', p === 'p50' ? String(far.requests) : ''];
      }))));
    if (lat.cpu) {
      const n = Object.values(lat.cpu)[0].requests;
      out.push('');
      out.push('## Worker CPU time per request');
      out.push('');
      out.push(`Each setup alone, ${n} JSON echo calls, CPU time from /proc (schedstat, nanoseconds). workerd reports no CPU time per invocation locally: the events a tail Worker receives, and a streaming tail's outcome events, carry \`cpuTime: 0\` and \`wallTime: 0\` (checked with workerd ${results.machine.workerd}), and the V8 sampling profiler on workerd's inspector samples wall time about every 10 ms (its non-idle share of a pass-through request came out above the whole process's CPU time), so it does not measure CPU. What is measured: **the isolate thread**, workerd's main thread, which runs the Worker and its Durable Objects (in one isolate locally), on Miniflare also Miniflare's entry Worker, and workerd's handling of their sockets and local KV: an upper bound of what the Workers CPU limit counts (the Free plan allows 10 ms a request). **Processes**: every thread of the runtime workerd, of the dev proxy workerd and wrangler's Node under wrangler dev, and of the Node process hosting Miniflare.`);
      out.push('');
      out.push(table(['setup', 'workerd isolate thread', 'workerd (runtime, all threads)', 'workerd (dev proxy)', 'Node (wrangler / Miniflare)', 'bench client', 'wall'],
        Object.entries(lat.cpu).map(([k, c]) => [k, f(c.isolate_thread_cpu_ms_per_request), f(c.runtime_workerd_cpu_ms_per_request), f(c.proxy_workerd_cpu_ms_per_request), f(c.node_cpu_ms_per_request), f(c.bench_client_cpu_ms_per_request), f(c.wall_ms_per_request)])));
    }
  }

  const st = results.streaming;
  if (st) {
    out.push('');
    out.push('## Streaming (SSE answers)');
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
    out.push('## Concurrency');
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
    out.push('## Cron');
    out.push('');
    out.push(`Connections created through the real connect flow (headless, ${cr.pool} at a time): ${cr.creation.long.count} in ${f(cr.creation.long.seconds, 1)} s and ${cr.creation.short.count} in ${f(cr.creation.short.seconds, 1)} s (${f((cr.creation.long.count + cr.creation.short.count) / (cr.creation.long.seconds + cr.creation.short.seconds), 1)} per second). ${cr.creation.long.count} use an authorization server issuing ${cr.long_ttl_s} s access tokens, ${cr.creation.short.count} one issuing ${cr.short_ttl_s} s tokens; Worker vars ${Object.entries(cr.vars).map(([k, v]) => `\`${k}=${v}\``).join(', ')} (budget: ${cr.vars.CRON_MAX_REFRESHES} visits per run, so a run visits every connection, the most one run costs; the default, 40, visits one slice). Each connection's object refreshes its token on its own alarm; a visit re-arms a missing alarm and refreshes a token whose alarm slipped, so here the visits find nothing due.`);
    out.push('');
    out.push(table(['run', 'wall', 'listed', 'visited', 'refreshed', 'not due', 'failed', 'subrequests (KV list pages + object calls)', 'token requests at the AS', 'workerd CPU (whole process)'],
      cr.runs.map((r) => [r.label, f(r.wall_ms, 0), String(r.listed), String(r.visited ?? r.due), String(r.refreshed), String(r.not_due ?? r.skipped), String(r.failed + r.transient + r.needs_reauth), `${r.subrequests.total_of_the_cron_invocation} (${r.subrequests.kv_list_pages} + ${r.subrequests.object_calls})`, String(r.token_endpoint_calls_seen_by_the_as), f(r.workerd_cpu_ms, 0)])));
    out.push('');
    out.push('Workerd reports no CPU time per invocation locally; the last column is the CPU time of the whole runtime workerd process during the run (handler, Connection objects, local KV) from /proc (schedstat). KV list pages are computed (1,000 keys a page; a listing of an exact multiple of 1,000 may take one more, empty, page). The trigger answered when the handler had finished (its summary line was already in the log). Each object that refreshes also makes its own subrequest (the token request).');
    const over = cr.runs.filter((r) => r.subrequests.total_of_the_cron_invocation > 50);
    if (over.length) out.push(`\nWith this budget a run visiting ${over[0].visited ?? over[0].due} connections makes ${over[0].subrequests.total_of_the_cron_invocation} subrequests, above the 50 per invocation of the Free plan that \`core/src/lifecycle/cron.rs\` plans for; the default budget of 40 keeps a run at 41.`);
  }

  const cap = results.capacity;
  if (cap) {
    out.push('');
    out.push('## Capacity: what a routine refresh costs');
    out.push('');
    out.push(`${cap.connections} connections on an authorization server issuing ${cap.token_ttl_s} s access tokens, on Miniflare (Bindify wrapped by \`bench/wrapper/worker.mjs\` without delay, which counts what crosses its bindings), left idle for ${cap.window_s} s after a settling period: every token request is then a routine refresh. Then one cron run, triggered by hand. Measured, not computed: token requests at the authorization server and requests at the MCP server (the subrequests that leave Cloudflare); KV writes from the local KV state on disk (each new key-and-blob pair a put, each vanished key a delete); from the wrapper, KV calls, calls through Durable Object stubs (the Worker's and the objects'), alarms the objects ran, and their storage writes.`);
    out.push('');
    const sum = (t) => Object.values(t ?? {}).reduce((a, b) => a + b, 0);
    out.push(table(['phase', 'seconds', 'refreshes', 'token requests', 'MCP server requests', 'KV writes (disk: puts + deletes)', 'KV calls (wrapper)', 'stub calls', 'object requests received', 'alarms run', 'object storage writes'],
      [cap.idle, cap.cron].map((ph) => [ph.label, f(ph.seconds, 1), String(ph.refreshes), String(ph.subrequests_leaving.token_requests), String(ph.subrequests_leaving.mcp_server_requests),
        `${ph.kv_writes_measured.puts} + ${ph.kv_writes_measured.deletes}`, Object.entries(ph.counted.kv ?? {}).map(([k, v]) => `${k} ${v}`).join(', ') || '0',
        String(sum(ph.counted.stub_calls)), String(sum(ph.counted.object_requests)), String(sum(ph.counted.object_alarms)), String((ph.counted.storage?.put ?? 0) + (ph.counted.storage?.delete ?? 0))])));
    const fp = cap.free_plan;
    out.push('');
    if (fp?.per_refresh) {
      out.push(`Per routine refresh (measured in ${fp.refreshes_measured_in}): ${f(fp.per_refresh.token_requests)} token requests, ${f(fp.per_refresh.kv_writes)} KV writes, ${f(fp.per_refresh.alarms)} alarms and ${f(fp.per_refresh.object_calls_through_stubs)} stub calls (${f(fp.per_refresh.durable_object_requests)} Durable Object requests: the Free plan counts alarm invocations as requests), ${f(fp.per_refresh.object_storage_writes)} object storage writes. ${fp.measured_refresh_interval_s == null ? 'A cron run refreshes a token once in its lifetime, when it is due' : `Each connection refreshed every ${f(fp.measured_refresh_interval_s, 1)} s on average, ${f(fp.refresh_interval_as_fraction_of_lifetime)} of the token's lifetime`}: with ${fp.token_lifetime_s / 3600}-hour tokens, ${f(fp.refreshes_per_connection_per_day, 0)} refreshes a connection a day. ${fp.measured_refresh_interval_s == null ? `A cron run lists KV (${fp.cron_per_day.kv_lists / fp.cron_runs_per_day} list here); its object calls and KV writes are counted above as the refreshes' own` : `A cron run costs ${fp.cron_per_day.kv_lists / fp.cron_runs_per_day} KV list, ${fp.cron_per_day.durable_object_requests / fp.cron_runs_per_day} object requests and ${fp.cron_per_day.kv_writes / fp.cron_runs_per_day} KV writes here`}, ${fp.cron_runs_per_day} runs a day.`);
      out.push('');
      out.push(`**Free plan** (a day: ${fp.limits.durable_object_requests_per_day.toLocaleString('en-US')} Durable Object requests, ${fp.limits.kv_writes_per_day.toLocaleString('en-US')} KV writes, ${fp.limits.kv_lists_per_day.toLocaleString('en-US')} KV lists), connections kept fresh with no traffic, by limit: ${Object.entries(fp.connections_by_limit).map(([k, v]) => `${k.replaceAll('_', ' ')} ${v == null ? 'no limit (none used per refresh)' : v.toLocaleString('en-US')}`).join('; ')}. **${fp.connections?.toLocaleString('en-US') ?? 'n/a'} connections**, bound by ${fp.binding_limit?.replaceAll('_', ' ') ?? 'n/a'}. Traffic comes on top: each request is a Worker request (100,000 a day on the Free plan), and a warm isolate asks the connection's object again at most every half revocation bound while it serves that connection.`);
    } else if (fp?.note) {
      out.push(`Free plan: ${fp.note}.`);
    }
  }

  const soak = results.soak;
  if (soak) {
    const c = soak.refreshes;
    out.push('');
    out.push('## Soak');
    out.push('');
    out.push(`${f(soak.minutes, 0)} minutes (\`--only=soak\`, run apart from the default set) of steady traffic through one permanent URL on Miniflare (Bindify wrapped without delay, for its counts): ${soak.clients} clients, each sending a \`tools/call echo\` every ${soak.period_ms} ms, to the fixture MCP server, whose authorization server issues access tokens that live ${soak.token_ttl_s} s.`);
    out.push('');
    out.push(table(['', ''], [
      ['requests, failed', `${soak.requests.toLocaleString('en-US')}, ${soak.failed_requests}${soak.failures.length ? ` (${soak.failures.map((x) => x.error).join('; ')})` : ''}`],
      ['latency p50 / p99 / max', `${f(soak.latency.p50)} / ${f(soak.latency.p99)} / ${f(soak.latency.max)} ms`],
      ['refreshes at the authorization server (failed)', `${c.refreshes} (${c.failed_refreshes})`],
      ['issued tokens replaced by exactly one refresh', `${c.tokens_replaced_by_exactly_one_refresh} of ${c.tokens_that_should_have_been_replaced} (every token but the newest)`],
      ['refresh tokens presented twice', String(c.refresh_tokens_spent_twice)],
      ['time between refreshes p50 (min-max)', `${f(c.refresh_interval_s.p50, 2)} s (${f(c.refresh_interval_s.min, 2)}-${f(c.refresh_interval_s.max, 2)})`],
      ['upstream requests, answered 401', `${soak.upstream_requests.toLocaleString('en-US')}, ${soak.upstream_401}`],
      ['KV writes (disk: puts + deletes)', `${soak.kv_writes.puts} + ${soak.kv_writes.deletes}`],
      ['object calls, alarms run', `${soak.object_calls}, ${soak.object_alarms}`],
      ["workerd's resident memory at start, end, max", `${f(soak.memory.start_kib / 1024, 1)}, ${f(soak.memory.end_kib / 1024, 1)}, ${f(soak.memory.max_kib / 1024, 1)} MiB`],
    ]));
    out.push('');
    out.push(`Resident memory every 30 s (MiB): ${soak.memory.samples.map((x) => f(x.rss_kib / 1024, 0)).join(', ')}.`);
  }

  const sz = results.size;
  const cs = results.cold_start;
  const rs = results.restart;
  if (sz || cs) {
    out.push('');
    out.push('## Size and start');
    out.push('');
    const rows = [];
    if (sz) {
      rows.push(['build/index_bg.wasm', `${sz.wasm_bytes.toLocaleString('en-US')} bytes raw, ${sz.wasm_gzip_bytes.toLocaleString('en-US')} gzipped (default level; ${sz.wasm_gzip9_bytes.toLocaleString('en-US')} at level 9)`]);
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

  const an = sz?.analysis;
  if (an) {
    out.push('');
    out.push('### What the .wasm is made of');
    out.push('');
    out.push(`Sections (bytes raw / gzipped alone): ${an.sections.map((x) => `${x.name} ${x.bytes.toLocaleString('en-US')} / ${x.gzip_bytes.toLocaleString('en-US')}`).join(', ')}.`);
    if (an.top_items) {
      out.push('');
      out.push(`From \`twiggy\` (${an.twiggy}) on a copy optimized with the same flags and its names kept (its code section ${an.named_copy_code_matches_shipped ? 'is byte for byte the shipped one' : 'differs from the shipped one: target/ holds another build'}); ${an.note}.`);
      out.push('');
      out.push(table(['largest items', 'bytes'], an.top_items.map((x) => [`\`${x.name.replace(/::h[0-9a-f]{16}$/, '').replace(/\[[0-9a-f]{16}\]/g, '').replaceAll('|', '\\|')}\``, x.bytes.toLocaleString('en-US')])));
      out.push('');
      out.push(table(['by crate', 'bytes'], an.top_crates.map((x) => [x.crate, x.bytes.toLocaleString('en-US')])));
    } else {
      out.push('');
      out.push(`twiggy: ${an.twiggy}.`);
    }
  }

  const mem = results.memory;
  if (mem) {
    out.push('');
    out.push('## Memory of idle SSE sessions');
    out.push('');
    out.push(`workerd exposes no per-object memory. Approximation: resident set of the runtime workerd process of Bindify under wrangler dev with N idle, initialized legacy SSE sessions (${mem.transport}): ${mem.points.map((p) => `${p.after_close ? 'after closing' : p.sessions}: ${f(p.rss_kib / 1024, 1)} MiB`).join(', ')}; about **${f(mem.kib_per_session, 0)} KiB per session** (rough: page-grained RSS, lazy V8 heap growth; the memory is not returned to the OS after the sessions close). wrangler's dev proxy workerd, which relays the client streams, grows by about ${f(mem.proxy_kib_per_session, 0)} KiB per session too; that one does not exist in production.`);
  }
  out.push('');
  out.push('## Reading these numbers');
  out.push('');
  out.push('- Everything is local: workerd\'s local KV is a SQLite-backed service inside workerd and a Durable Object call never leaves the process, while in production a KV read may miss the edge cache and a Durable Object lives in one location, possibly far from the request. The local cost of those steps is a floor.');
  out.push('- Under `wrangler dev`, most of what a Worker adds is wrangler\'s: its dev proxy workerd and its Node process spend more CPU per request than the Worker itself (see the CPU table); the Miniflare columns are the fairer comparison of Bindify with a bare proxy.');
  out.push('- Client, upstreams, authorization servers and workerd share the cores, so concurrency and streaming throughput are bounded by the machine, not only by the Worker.');
  out.push('');
  return out.join('\n');
}

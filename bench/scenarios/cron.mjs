// 4. The cron's sweep over many stored connections. Each connection's object refreshes its own
// token on an alarm; the cron visits connections to re-arm a missing alarm and to refresh one
// that slipped, at most CRON_MAX_REFRESHES a run (the default, 40, visits one slice; here 1000, so
// that a run visits every connection, the most one run can cost). `longCount` connections use an
// authorization server with long-lived access tokens, `shortCount` one whose tokens live
// `shortTtl` seconds (their alarms keep them fresh, so the sweep finds them not due either).
// Connections are created through the real connect flow (headless), `pool` at a time. The
// Worker's own summary line is read from the wrangler log.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import { startMcpServer } from '../../tests/fixtures/mcp-server.mjs';
import { startOAuthServer } from '../../tests/fixtures/oauth-server.mjs';
import { startWorker } from '../../tests/lib/worker.mjs';
import { connect } from '../lib/connect.mjs';
import { cpuMs, cpuMsOf, wranglerNodePids, workerdPids } from '../lib/proc.mjs';
import { newKey } from '../lib/setup.mjs';
import { buildSnapshot } from '../lib/snapshot.mjs';

// The Worker's cron summary line: listed, without the alarm mark, visited, and what the
// visits found.
const CRON_LINE = /cron: (\d+) connections, (\d+) without the alarm mark; (\d+) visited this run: refreshed (\d+), not due (\d+), needs_reauth (\d+), transient (\d+), failed (\d+); re-armed (\d+)/g;
const KV_LIST_PAGE = 1000; // keys per KV list page (the Workers default and maximum)

async function createMany(workerUrl, serverUrl, count, pool) {
  let next = 0;
  const failures = [];
  const started = performance.now();
  await Promise.all(Array.from({ length: pool }, async () => {
    while (next < count) {
      next += 1;
      try {
        await connect(workerUrl, serverUrl);
      } catch (err) {
        failures.push(err.message.split('\n')[0]);
      }
    }
  }));
  return { count, seconds: (performance.now() - started) / 1000, failures: failures.length, errors: failures.slice(0, 3) };
}

export async function runCron({ log, longCount = 900, shortCount = 100, shortTtl = 30, pool = 6, vars: extraVars = {} }) {
  const vars = { CRON_MAX_REFRESHES: '1000', ...extraVars };
  const [asLong, asShort] = await Promise.all([
    startOAuthServer({ accessTokenTTL: 3600 }),
    startOAuthServer({ accessTokenTTL: shortTtl }),
  ]);
  const [mcpLong, mcpShort] = await Promise.all([
    startMcpServer({ issuer: asLong.issuer, transports: ['streamable'] }),
    startMcpServer({ issuer: asShort.issuer, transports: ['streamable'] }),
  ]);
  const worker = await startWorker({ main: buildSnapshot().main, vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true', ...vars } });
  const pids = workerdPids(worker.pid, worker.port);
  let logOffset = 0;

  async function cronRun(label) {
    const refreshesBefore = asShort.tokenRequests.length + asLong.tokenRequests.length;
    const before = { runtime: cpuMs(pids.runtime), proxy: cpuMs(pids.proxy), wrangler: cpuMsOf(wranglerNodePids(worker.pid)), self: process.cpuUsage() };
    const t0 = performance.now();
    const answer = await worker.cron('*/5 * * * *');
    const wallMs = performance.now() - t0;
    // The summary line is logged at the end of the handler; if the trigger's answer came before
    // it, wait for it (and report both times).
    let line = null;
    let lineMs = null;
    while (performance.now() - t0 < 120_000) {
      const text = readFileSync(worker.logFile, 'utf8');
      const match = [...text.slice(logOffset).matchAll(CRON_LINE)].at(-1);
      if (match) {
        line = match;
        lineMs = performance.now() - t0;
        logOffset = text.length;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const self = process.cpuUsage(before.self);
    if (!line) throw new Error(`cron ${label}: no summary line in ${worker.logFile}`);
    const [, listed, unmarked, visited, refreshed, notDue, needsReauth, transient, failed, rearmed] = line.map(Number);
    const tokenCalls = asShort.tokenRequests.length + asLong.tokenRequests.length - refreshesBefore;
    const listPages = Math.max(1, Math.ceil(listed / KV_LIST_PAGE));
    const result = {
      label,
      trigger_status: answer.status,
      wall_ms: wallMs,
      summary_line_seen_after_ms: lineMs,
      log_line: line[0],
      listed, unmarked, visited, refreshed, not_due: notDue, needs_reauth: needsReauth, transient, failed, rearmed,
      subrequests: {
        kv_list_pages: listPages,
        object_calls: visited,
        total_of_the_cron_invocation: listPages + visited,
        note: 'KV list pages are computed (ceil(listed / 1000); a listing of an exact multiple of 1000 may need one more, empty, page); object calls = visited connections, one sweep visit each. Each object then makes its own subrequests: one token request to the AS (counted below) and its KV mirror write.',
      },
      token_endpoint_calls_seen_by_the_as: tokenCalls,
      workerd_cpu_ms: cpuMs(pids.runtime) - before.runtime,
      proxy_workerd_cpu_ms: cpuMs(pids.proxy) - before.proxy,
      wrangler_node_cpu_ms: cpuMsOf(wranglerNodePids(worker.pid)) - before.wrangler,
      bench_process_cpu_ms_incl_authorization_servers: (self.user + self.system) / 1000,
    };
    log(`  cron ${label}: ${listed} listed, ${visited} visited, ${refreshed} refreshed, ${notDue} not due in ${wallMs.toFixed(0)} ms (workerd CPU ${result.workerd_cpu_ms.toFixed(0)} ms)`);
    return result;
  }

  try {
    const creation = {};
    creation.long = await createMany(worker.url, mcpLong.url, longCount, pool);
    log(`  created ${longCount} connections (long TTL) in ${creation.long.seconds.toFixed(1)} s, ${creation.long.failures} failures`);
    const runs = [await cronRun(`${longCount} connections, 1-hour tokens`)];
    creation.short = await createMany(worker.url, mcpShort.url, shortCount, pool);
    log(`  created ${shortCount} connections (TTL ${shortTtl} s) in ${creation.short.seconds.toFixed(1)} s, ${creation.short.failures} failures`);
    runs.push(await cronRun(`${longCount + shortCount} connections, ${shortCount} of them on ${shortTtl} s tokens (first run)`));
    runs.push(await cronRun(`${longCount + shortCount} connections, ${shortCount} of them on ${shortTtl} s tokens (again, objects warm)`));
    return {
      vars,
      pool,
      long_ttl_s: 3600,
      short_ttl_s: shortTtl,
      creation,
      runs,
      cpu_note: 'workerd does not report CPU time per invocation locally (wrangler dev prints none for scheduled events); workerd_cpu_ms is the CPU time of the whole runtime workerd process during the run (the cron handler, the Connection objects it calls, local KV), from /proc (schedstat, nanoseconds).',
    };
  } finally {
    await worker.stop();
    await Promise.allSettled([mcpLong.stop(), mcpShort.stop()]);
    await Promise.allSettled([asLong.stop(), asShort.stop()]);
  }
}

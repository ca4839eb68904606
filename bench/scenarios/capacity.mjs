// 8. Capacity: what a routine refresh costs, measured. `connections` connections on an
// authorization server issuing `tokenTtl`-second access tokens sit idle on Miniflare (Bindify
// under wrapper/worker.mjs with no delay) for `windowSeconds`, so every token request the
// authorization server sees is a routine refresh; then one cron run (the scheduled handler,
// triggered by hand) is measured the same way. Counted: token requests at the authorization
// server and requests at the MCP server (the subrequests that leave Cloudflare), KV writes from
// the local KV state, and from the wrapper the KV calls, the Worker's and objects' calls through
// Durable Object stubs, the alarms the Connection objects ran and their storage writes. The
// report derives how many connections the Free plan keeps fresh (report.mjs).
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';

import { startMcpServer } from '../../tests/fixtures/mcp-server.mjs';
import { startOAuthServer } from '../../tests/fixtures/oauth-server.mjs';
import { connect } from '../lib/connect.mjs';
import { kvSnapshot, kvWritesBetween } from '../lib/kv-writes.mjs';
import { newKey, startMiniflareWorkers, wrapperCounts } from '../lib/setup.mjs';
import { buildSnapshot } from '../lib/snapshot.mjs';
import { refreshChain } from './soak.mjs';

/**
 * The Workers Free plan's daily limits that a refresh touches (developers.cloudflare.com:
 * workers/platform/limits, kv/platform/limits, durable-objects/platform/pricing; alarm
 * invocations count as Durable Object requests), and the cron schedule of wrangler.toml.
 */
export const FREE_PLAN = { durable_object_requests_per_day: 100_000, kv_writes_per_day: 1_000, kv_lists_per_day: 1_000, subrequests_per_invocation: 50 };
const CRON_RUNS_PER_DAY = 24 * 12; // "*/5 * * * *"
const TOKEN_LIFETIME_S = 3600; // Notion's, Linear's: the common case

/**
 * Connections the Free plan keeps fresh with 1-hour tokens and no traffic, from the measured
 * costs: per routine refresh (the idle window) the Durable Object requests (alarms run and calls
 * through stubs) and KV writes; per cron run its KV lists, object calls and KV writes. The
 * refresh interval is the measured one scaled to a 1-hour token (the schedule is a fraction of
 * the token's lifetime).
 */
function freePlan({ idle, cron, tokenTtl, connections }) {
  // Routine refreshes come from the idle window when objects refresh on their own; without that,
  // from the cron run (which then refreshes each token once in its lifetime, when it is due).
  const byCron = !idle.refreshes && cron.refreshes > 0;
  const phase = byCron ? cron : idle;
  const refreshes = phase.refreshes;
  if (!refreshes) return { note: 'no refresh happened in the idle window or the cron run' };
  const sum = (table) => Object.values(table ?? {}).reduce((a, b) => a + b, 0);
  const perRefresh = {
    durable_object_requests: (sum(phase.counted.object_alarms) + sum(phase.counted.stub_calls)) / refreshes,
    alarms: sum(phase.counted.object_alarms) / refreshes,
    object_calls_through_stubs: sum(phase.counted.stub_calls) / refreshes,
    kv_writes: (phase.kv_writes_measured.puts + phase.kv_writes_measured.deletes) / refreshes,
    token_requests: phase.subrequests_leaving.token_requests / refreshes,
    object_storage_writes: ((phase.counted.storage?.put ?? 0) + (phase.counted.storage?.delete ?? 0)) / refreshes,
  };
  // Each connection refreshed every `interval` seconds during the window, on average.
  const interval = byCron ? null : (connections * idle.seconds) / refreshes;
  const fraction = byCron ? 1 : interval / tokenTtl;
  const refreshesPerDay = 86_400 / (fraction * TOKEN_LIFETIME_S);
  // In the cron-driven case the run's costs are already the refreshes' costs.
  const cronPerDay = byCron ? { durable_object_requests: 0, kv_writes: 0, kv_lists: CRON_RUNS_PER_DAY * (cron.counted.kv?.list ?? 0) } : {
    durable_object_requests: CRON_RUNS_PER_DAY * (sum(cron.counted.stub_calls) + sum(cron.counted.object_alarms)),
    kv_writes: CRON_RUNS_PER_DAY * (cron.kv_writes_measured.puts + cron.kv_writes_measured.deletes),
    kv_lists: CRON_RUNS_PER_DAY * (cron.counted.kv?.list ?? 0),
  };
  const limit = (budget, used, perConnection) => (perConnection > 0 ? Math.max(0, Math.floor((budget - used) / perConnection)) : null);
  const byLimit = {
    durable_object_requests: limit(FREE_PLAN.durable_object_requests_per_day, cronPerDay.durable_object_requests, refreshesPerDay * perRefresh.durable_object_requests),
    kv_writes: limit(FREE_PLAN.kv_writes_per_day, cronPerDay.kv_writes, refreshesPerDay * perRefresh.kv_writes),
    // One KV list page per 1,000 connections in each cron run.
    kv_lists: Math.floor(FREE_PLAN.kv_lists_per_day / CRON_RUNS_PER_DAY) * 1000,
  };
  const bound = Object.entries(byLimit).filter(([, v]) => v != null).sort((a, b) => a[1] - b[1])[0];
  return {
    refreshes_measured_in: byCron ? 'the cron run (the idle window had none)' : 'the idle window',
    token_lifetime_s: TOKEN_LIFETIME_S,
    measured_refresh_interval_s: interval,
    refresh_interval_as_fraction_of_lifetime: fraction,
    refreshes_per_connection_per_day: refreshesPerDay,
    per_refresh: perRefresh,
    cron_runs_per_day: CRON_RUNS_PER_DAY,
    cron_per_day: cronPerDay,
    limits: FREE_PLAN,
    connections_by_limit: byLimit,
    connections: bound?.[1] ?? null,
    binding_limit: bound?.[0] ?? null,
  };
}

function countsDelta(before, after) {
  const out = {};
  for (const [table, values] of Object.entries(after)) {
    out[table] = {};
    for (const [key, value] of Object.entries(values)) {
      const d = value - (before[table]?.[key] ?? 0);
      if (d) out[table][key] = d;
    }
  }
  return out;
}

export async function runCapacity({ log, connections = 5, tokenTtl = 20, windowSeconds = 90 }) {
  const as = await startOAuthServer({ accessTokenTTL: tokenTtl });
  const mcp = await startMcpServer({ issuer: as.issuer, transports: ['streamable'] });
  const snapshot = buildSnapshot();
  const mf = await startMiniflareWorkers([{ name: 'capacity', kind: 'bindify', main: snapshot.main, wrapper: snapshot.wrapper, vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true' } }]);
  const { url, stateDir } = mf.capacity;

  /** Everything counted while `fn` runs. */
  async function measure(label, fn) {
    const asFrom = as.tokenRequests.length;
    const mcpFrom = mcp.requests.length;
    const counts = await wrapperCounts(url);
    const kv = kvSnapshot(stateDir);
    const t0 = performance.now();
    const extra = await fn();
    const seconds = (performance.now() - t0) / 1000;
    const chain = refreshChain(as.tokenRequests.slice(asFrom));
    const counted = countsDelta(counts, await wrapperCounts(url));
    const result = {
      label,
      seconds,
      ...extra,
      refreshes: chain.refreshes,
      refresh_chain: chain,
      subrequests_leaving: { token_requests: as.tokenRequests.length - asFrom, mcp_server_requests: mcp.requests.length - mcpFrom },
      kv_writes_measured: kvWritesBetween(kv, kvSnapshot(stateDir)),
      counted,
    };
    log(`  capacity, ${label}: ${chain.refreshes} refreshes, KV writes ${JSON.stringify(result.kv_writes_measured)}, stub calls ${JSON.stringify(counted.stub_calls ?? {})}, alarms ${JSON.stringify(counted.object_alarms ?? {})}`);
    return result;
  }

  try {
    const created = [];
    for (let i = 0; i < connections; i += 1) created.push(await connect(url, mcp.url));
    // Let the connect flows' own work settle (their first alarms, the first refresh of each).
    await delay(tokenTtl * 1000);
    const idle = await measure(`${connections} idle connections, ${windowSeconds} s`, () => delay(windowSeconds * 1000));
    const cron = await measure('one cron run', async () => {
      const answer = await fetch(`${url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent('*/5 * * * *')}`);
      const text = await answer.text();
      return { trigger_status: answer.status, trigger_answer: text.slice(0, 200) };
    });
    return { connections, token_ttl_s: tokenTtl, window_s: windowSeconds, idle, cron, free_plan: freePlan({ idle, cron, tokenTtl, connections }) };
  } finally {
    await mf.stop();
    await mcp.stop();
    await as.stop();
  }
}

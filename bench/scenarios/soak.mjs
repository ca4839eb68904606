// 7. Soak (run alone: --only=soak): steady MCP traffic through one permanent URL for `minutes`
// while the authorization server issues access tokens that live `tokenTtl` seconds, on
// Miniflare (Bindify under wrapper/worker.mjs with no delay, which counts object calls). It
// reports failed requests, the refreshes the authorization server saw (each refresh token is
// spent once, each issued token replaced by exactly one refresh), the upstream's 401s, KV writes
// (from the local KV state), object calls and alarms, and the resident memory of Bindify's
// workerd every 30 s.
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';

import { startMcpServer } from '../../tests/fixtures/mcp-server.mjs';
import { startOAuthServer } from '../../tests/fixtures/oauth-server.mjs';
import { connect } from '../lib/connect.mjs';
import { kvSnapshot, kvWritesBetween } from '../lib/kv-writes.mjs';
import { Endpoint, newAgent } from '../lib/mcp-http.mjs';
import { rssKiB, workerdServing } from '../lib/proc.mjs';
import { newKey, startMiniflareWorkers, wrapperCounts } from '../lib/setup.mjs';
import { buildSnapshot } from '../lib/snapshot.mjs';
import { summarize } from '../lib/stats.mjs';

const SAMPLE_MS = 30_000;

/** The refresh grants in `requests` (the AS's token requests) and how they chain. */
export function refreshChain(requests) {
  const ok = requests.filter((r) => r.status === 200 && r.issued);
  const refreshes = requests.filter((r) => r.grant_type === 'refresh_token');
  const spent = new Map();
  for (const r of refreshes) spent.set(r.presented, (spent.get(r.presented) ?? 0) + 1);
  const issuedRefreshTokens = ok.map((r) => r.issued.refresh_token).filter(Boolean);
  // Every issued token but the newest was replaced by exactly one refresh.
  const replacedOnce = issuedRefreshTokens.slice(0, -1).filter((t) => spent.get(t) === 1).length;
  const times = refreshes.map((r) => r.at);
  const intervals = times.slice(1).map((t, i) => (t - times[i]) / 1000);
  return {
    token_requests: requests.length,
    refreshes: refreshes.length,
    failed_refreshes: refreshes.filter((r) => r.status !== 200).length,
    tokens_issued: ok.length,
    tokens_replaced_by_exactly_one_refresh: replacedOnce,
    tokens_that_should_have_been_replaced: Math.max(0, issuedRefreshTokens.length - 1),
    refresh_tokens_spent_twice: [...spent.values()].filter((n) => n > 1).length,
    refresh_interval_s: summarize(intervals),
  };
}

export async function runSoak({ log, minutes = 20, tokenTtl = 5, clients = 2, periodMs = 100 }) {
  const as = await startOAuthServer({ accessTokenTTL: tokenTtl });
  const mcp = await startMcpServer({ issuer: as.issuer, transports: ['streamable'] });
  const snapshot = buildSnapshot();
  const mf = await startMiniflareWorkers([{ name: 'soak', kind: 'bindify', main: snapshot.main, wrapper: snapshot.wrapper, vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true' } }]);
  const agent = newAgent(clients);
  try {
    const workerd = workerdServing(mf.pid, mf.soak.port);
    const { mcpUrl } = await connect(mf.soak.url, mcp.url);
    const endpoints = [];
    for (let i = 0; i < clients; i += 1) endpoints.push(await new Endpoint({ name: `soak ${i}`, url: mcpUrl, agent }).initialize());

    // From here on, everything counts.
    const asFrom = as.tokenRequests.length;
    const mcpFrom = mcp.requests.length;
    const countsBefore = await wrapperCounts(mf.soak.url);
    const kvBefore = kvSnapshot(mf.soak.stateDir);
    const memory = [{ at_s: 0, rss_kib: rssKiB(workerd) }];
    const latencies = [];
    const failures = [];
    const started = performance.now();
    const deadline = started + minutes * 60_000;
    let nextSample = started + SAMPLE_MS;
    let sent = 0;
    const sampler = (async () => {
      while (performance.now() < deadline) {
        await delay(Math.max(0, Math.min(nextSample, deadline) - performance.now()));
        memory.push({ at_s: (performance.now() - started) / 1000, rss_kib: rssKiB(workerd) });
        nextSample += SAMPLE_MS;
      }
    })();
    // Each client sends one request every periodMs (or as soon as the previous answered).
    await Promise.all(endpoints.map(async (endpoint, c) => {
      let next = started + (c * periodMs) / clients;
      while (next < deadline) {
        await delay(Math.max(0, next - performance.now()));
        next += periodMs;
        sent += 1;
        try {
          latencies.push((await endpoint.call('tools/call', { name: 'echo', arguments: { text: `soak ${sent}` } })).ms);
        } catch (err) {
          failures.push({ at_s: (performance.now() - started) / 1000, error: err.message.slice(0, 300) });
        }
      }
    }));
    await sampler;
    const seconds = (performance.now() - started) / 1000;
    const countsAfter = await wrapperCounts(mf.soak.url);
    const kv = kvWritesBetween(kvBefore, kvSnapshot(mf.soak.stateDir));
    const chain = refreshChain(as.tokenRequests.slice(asFrom));
    const upstream = mcp.requests.slice(mcpFrom);
    const delta = (table, key) => (countsAfter[table][key] ?? 0) - (countsBefore[table][key] ?? 0);
    const result = {
      minutes,
      seconds,
      token_ttl_s: tokenTtl,
      clients,
      period_ms: periodMs,
      requests: sent,
      failed_requests: failures.length,
      failures: failures.slice(0, 5),
      latency: summarize(latencies),
      refreshes: chain,
      refreshes_per_token_lifetime: chain.refreshes / (seconds / tokenTtl),
      upstream_requests: upstream.length,
      upstream_401: upstream.filter((r) => r.status === 401).length,
      kv_writes: kv,
      object_calls: delta('stub_calls', 'CONNECTION'),
      object_alarms: delta('object_alarms', 'Connection'),
      memory: { start_kib: memory[0].rss_kib, end_kib: memory.at(-1).rss_kib, max_kib: Math.max(...memory.map((m) => m.rss_kib)), samples: memory },
    };
    log(`  soak: ${sent} requests in ${(seconds / 60).toFixed(1)} min, ${failures.length} failed; ${chain.refreshes} refreshes (${chain.tokens_replaced_by_exactly_one_refresh}/${chain.tokens_that_should_have_been_replaced} tokens replaced exactly once, ${chain.refresh_tokens_spent_twice} spent twice); workerd RSS ${(result.memory.start_kib / 1024).toFixed(1)} -> ${(result.memory.end_kib / 1024).toFixed(1)} MiB`);
    return result;
  } finally {
    await agent.close().catch(() => {});
    await mf.stop();
    await mcp.stop();
    await as.stop();
  }
}

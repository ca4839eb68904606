// Keeping tokens fresh end to end: the cron, on-demand refresh under concurrency, a revoked
// grant and reconnect, an authorization server that is down, a restart of the runtime, and a
// cron run over 500 connections. Each group runs its own authorization server (oidc-provider,
// rotating refresh tokens, short access tokens), MCP server and Worker.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';

import { startMcpServer } from '../fixtures/mcp-server.mjs';
import { startOAuthServer } from '../fixtures/oauth-server.mjs';
import { launchBrowser, loginAndConsent } from '../lib/browser.mjs';
import { findExposed, placesHolding } from '../lib/kv.mjs';
import { startWorker } from '../lib/worker.mjs';
import { connectHeadless } from './headless.mjs';
import { kvEntries, newKey } from './support.mjs';

const NEEDS_REAUTH = -32001;
const AUTH_SERVER_UNAVAILABLE = -32002;

/** An authorization server, an MCP server trusting it, and a Worker with the demo preset. */
async function startStack({ accessTokenTTL, vars = {} }) {
  const as = await startOAuthServer({ accessTokenTTL });
  const mcp = await startMcpServer({ issuer: as.issuer });
  const worker = await startWorker({
    vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true', DEMO_SERVER_URL: mcp.url, ...vars },
  });
  return { as, mcp, worker };
}

async function stopStack(stack, clients = []) {
  await Promise.allSettled(clients.map((c) => c.close()));
  await stack?.worker?.stop();
  await stack?.mcp?.stop();
  await stack?.as?.stop();
}

async function newClient(mcpUrl) {
  const client = new Client({ name: 'bindify-refresh-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl)));
  return client;
}

/** callTool('echo'); returns the text it echoed. A hang fails after 15 s instead of never. */
async function echo(client, text) {
  const result = await client.callTool({ name: 'echo', arguments: { text } }, undefined, { timeout: 15_000 });
  assert.notEqual(result.isError, true, JSON.stringify(result));
  return result.content[0].text;
}

async function status(worker, secret) {
  const response = await fetch(`${worker.url}/s/${secret}/status`);
  assert.equal(response.status, 200);
  return response.json();
}

/** /status shows expiries in whole seconds (truncated): this is after the real expiry. */
const expiredBy = (rfc3339, marginMs = 300) => Date.parse(rfc3339) + 1000 + marginMs;

async function sleepUntil(ms) {
  const wait = ms - Date.now();
  if (wait > 0) await delay(wait);
}

const refreshesOf = (as, from, to = Infinity) => as.tokenRequests.filter((r) => r.grant_type === 'refresh_token' && r.at >= from && r.at <= to);
const invalidGrants = (as) => as.tokenRequests.filter((r) => r.error === 'invalid_grant');

const jwtPayload = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

/** Every token the MCP server was shown was unexpired when it arrived, and nothing got a 401. */
function assertNoExpiredTokenSeen(mcp, since) {
  const seen = mcp.requests.filter((r) => r.at >= since);
  for (const r of seen.filter((q) => q.authorization)) {
    const { exp } = jwtPayload(r.authorization);
    assert.ok(exp * 1000 > r.at, `${r.method} ${r.path} at ${r.at} carried a token that expired at ${exp * 1000}`);
  }
  assert.deepEqual(seen.filter((r) => r.status === 401).map((r) => `${r.method} ${r.path} ${r.at}`), []);
  return seen;
}

// The scheduled handler logs one summary line per run to the wrangler log.
const CRON_LINE = /cron: (\d+) connections, (\d+) due this run; refreshed (\d+), skipped (\d+), needs_reauth (\d+), transient (\d+), failed (\d+)/g;

function cronLines(worker) {
  return [...readFileSync(worker.logFile, 'utf8').matchAll(CRON_LINE)].map((m) => {
    const [connections, due, refreshed, skipped, needsReauth, transient, failed] = m.slice(1).map(Number);
    return { connections, due, refreshed, skipped, needsReauth, transient, failed };
  });
}

/** Runs the cron once and returns its summary line, parsed. */
async function runCron(worker) {
  const seen = cronLines(worker).length;
  const { status: code } = await worker.cron();
  assert.equal(code, 200);
  // workerd's console output reaches the log through wrangler, a moment after the response.
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await delay(50)) {
    const lines = cronLines(worker);
    if (lines.length > seen) {
      assert.equal(lines.length, seen + 1, 'one summary line per run');
      return lines.at(-1);
    }
  }
  throw new Error(`no cron summary line in ${worker.logFile}`);
}

const cronSummary = (connections, due, refreshed, more = {}) => ({
  connections, due, refreshed, skipped: 0, needsReauth: 0, transient: 0, failed: 0, ...more,
});

/** Runs `fn` over `items`, `concurrency` at a time; results in order. */
async function pool(items, concurrency, fn) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  }));
  return results;
}

describe('refresh: idle across several token lifetimes while the cron runs', () => {
  let stack;
  let client;
  before(async () => {
    stack = await startStack({ accessTokenTTL: 3 });
  });
  after(() => stopStack(stack, [client]));

  test('the first call after ~10 s idle succeeds and the MCP server never saw an expired token', async () => {
    const { as, mcp, worker } = stack;
    const { mcpUrl } = await connectHeadless(worker.url);
    const connectedAt = Date.now();
    client = await newClient(mcpUrl);
    assert.equal(await echo(client, 'before the idle period'), 'before the idle period');

    // No MCP calls for ~10 s (more than three 3-second lifetimes); the cron runs about every
    // second and, with the default 15-minute window, refreshes the one connection each time.
    const idleStart = Date.now();
    let runs = 0;
    while (Date.now() - idleStart < 10_000) {
      assert.deepEqual(await runCron(worker), cronSummary(1, 1, 1));
      runs += 1;
      await delay(1000);
    }
    const idleEnd = Date.now();

    assert.equal(await echo(client, 'after the idle period'), 'after the idle period');

    const duringIdle = refreshesOf(as, idleStart, idleEnd);
    assert.equal(duringIdle.length, runs, 'one refresh per cron run');
    assert.deepEqual(duringIdle.map((r) => r.status), duringIdle.map(() => 200));
    assert.equal(duringIdle[0].resource, mcp.resource, 'the resource indicator is sent on refresh');
    assert.deepEqual(invalidGrants(as), []);

    const seen = assertNoExpiredTokenSeen(mcp, connectedAt);
    assert.deepEqual(seen.filter((r) => r.at >= idleStart && r.at <= idleEnd && r.method === 'POST'), [], 'no MCP calls while idle');
    assert.equal(seen.filter((r) => r.rpc.includes('tools/call')).length, 2);
  });

  test('no token the authorization server issued is readable in storage or in the log, in any form', () => {
    const { as, worker } = stack;
    const issued = as.tokenRequests.filter((r) => r.issued);
    const tokens = issued.flatMap((r) => [r.issued.access_token, r.issued.refresh_token]);
    // The code exchange and one refresh per cron run, each with a new access and refresh token.
    assert.ok(issued.length >= 10, `token responses: ${issued.length}`);
    assert.equal(new Set(tokens).size, tokens.length);

    // The search reaches the connection object's own storage: it finds there the sealed record
    // the object keeps (the same bytes as its KV mirror, which the search finds too).
    const [mirror] = kvEntries(worker.persistDir, 'conn:');
    assert.ok(mirror?.value?.length > 100, 'the KV mirror of the connection');
    const holders = placesHolding(worker.persistDir, mirror.value);
    assert.ok(holders.some((p) => /^v3\/do\/bindify-Connection\/[0-9a-f]{64}\.sqlite _cf_KV$/.test(p)), `places holding the sealed record: ${holders}`);
    assert.ok(holders.some((p) => p.startsWith('v3/kv/')), `places holding the sealed record: ${holders}`);
    // The search reaches the Worker's log: it holds the cron's summary lines.
    assert.ok(cronLines(worker).length >= 10);

    assert.deepEqual(findExposed(worker.persistDir, tokens, [worker.logFile]), []);
  });
});

describe('refresh: 50 concurrent calls and a cron run at the moment of expiry', () => {
  let stack;
  let client;
  before(async () => {
    // A 1-second cron window: a token the calls have just refreshed (3 s left) is not due for
    // the cron, so exactly one refresh is right whichever of the two gets the lock first.
    stack = await startStack({ accessTokenTTL: 3, vars: { REFRESH_WINDOW_SECONDS: '1' } });
  });
  after(() => stopStack(stack, [client]));

  test('one refresh serves all 50 calls and the cron; no invalid_grant', async () => {
    const { as, mcp, worker } = stack;
    const { mcpUrl, secret } = await connectHeadless(worker.url);
    const connectedAt = Date.now();
    client = await newClient(mcpUrl);
    const { access_token_expires_at: expiresAt } = await status(worker, secret);
    assert.equal(refreshesOf(as, 0).length, 0);

    await sleepUntil(expiredBy(expiresAt, 500));
    const windowStart = Date.now();
    const texts = Array.from({ length: 50 }, (_, i) => `call ${i}`);
    const [cron, ...results] = await Promise.all([runCron(worker), ...texts.map((t) => echo(client, t))]);
    const windowEnd = Date.now();

    assert.deepEqual(results, texts);
    const refreshes = refreshesOf(as, windowStart, windowEnd);
    assert.equal(refreshes.length, 1, JSON.stringify(refreshes.map(({ issued, presented, ...r }) => r)));
    assert.equal(refreshes[0].status, 200);
    assert.deepEqual(invalidGrants(as), []);
    // The cron found the token due (or, if the calls refreshed first, saw it in the listing
    // and then found it fresh in the object); either way it did not refresh a second time.
    assert.equal(cron.connections, 1);
    assert.equal(cron.refreshed + cron.skipped, cron.due);
    assert.deepEqual([cron.needsReauth, cron.transient, cron.failed], [0, 0, 0]);
    assertNoExpiredTokenSeen(mcp, connectedAt);
    assert.equal((await status(worker, secret)).state, 'active');
  });
});

describe('refresh: a grant revoked at the authorization server', () => {
  let stack;
  let browser;
  const clients = [];
  before(async () => {
    stack = await startStack({ accessTokenTTL: 3 });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stopStack(stack, clients);
  });

  test('needs_reauth with a reconnect link, no more refreshes, and reconnect keeps the URL', async () => {
    const { as, worker } = stack;
    const { mcpUrl, secret } = await connectHeadless(worker.url);
    const reconnectUrl = `${worker.url}/manage/${(await status(worker, secret)).id}/reconnect`;
    const client = await newClient(mcpUrl);
    clients.push(client);
    assert.equal(await echo(client, 'granted'), 'granted');

    assert.equal(await as.revokeGrantsFor(), 1);
    const revokedAt = Date.now();
    await sleepUntil(expiredBy((await status(worker, secret)).access_token_expires_at));

    const rejected = (err) => {
      assert.ok(err instanceof McpError, `${err}`);
      assert.equal(err.code, NEEDS_REAUTH);
      assert.ok(err.message.includes(`Open ${reconnectUrl}`), err.message);
      assert.equal(err.data?.reconnect_url, reconnectUrl);
      assert.equal(err.data?.state, 'needs_reauth');
      return true;
    };
    await assert.rejects(echo(client, 'revoked'), rejected);
    const attempts = refreshesOf(as, revokedAt);
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0].error, 'invalid_grant');

    const broken = await status(worker, secret);
    assert.equal(broken.state, 'needs_reauth');
    assert.equal(typeof broken.last_error, 'string');
    assert.equal(broken.next_attempt_at, null);

    // Neither the cron nor another call goes back to the authorization server.
    const tokenRequests = as.tokenRequests.length;
    assert.deepEqual(await runCron(worker), cronSummary(1, 0, 0));
    assert.deepEqual(await runCron(worker), cronSummary(1, 0, 0));
    await assert.rejects(echo(client, 'still revoked'), rejected);
    assert.equal(as.tokenRequests.length, tokenRequests);

    // Reconnect in a browser: same upstream, new grant, same permanent URL.
    const page = await browser.newPage();
    await page.goto(reconnectUrl);
    await loginAndConsent(page);
    await page.waitForSelector('body[data-page="reconnected"]', { timeout: 15_000 });
    await page.close();

    const fresh = await newClient(mcpUrl);
    clients.push(fresh);
    assert.equal(await echo(fresh, 'reconnected'), 'reconnected');
    const healed = await status(worker, secret);
    assert.equal(healed.state, 'active');
    assert.equal(healed.last_error, null);
    assert.equal(as.tokenRequests.filter((r) => r.grant_type === 'authorization_code').length, 2);
  });
});

describe('refresh: the authorization server is down during a cron run', () => {
  let stack;
  let client;
  before(async () => {
    stack = await startStack({ accessTokenTTL: 3 });
  });
  after(() => stopStack(stack, [client]));

  test('state error with backoff, tokens kept, -32002 on an expired token, recovery at the next call', async () => {
    const { as, worker } = stack;
    const { mcpUrl, secret } = await connectHeadless(worker.url);
    client = await newClient(mcpUrl);
    assert.equal(await echo(client, 'up'), 'up');

    // The default 15-minute window makes the 3-second token due at once.
    as.setDown(true);
    const cronStart = Date.now();
    assert.deepEqual(await runCron(worker), cronSummary(1, 1, 0, { transient: 1 }));
    const cronEnd = Date.now();
    const failed = refreshesOf(as, cronStart);
    assert.equal(failed.length, 1);
    assert.equal(failed[0].status, 503);

    const down = await status(worker, secret);
    assert.equal(down.state, 'error');
    assert.equal(typeof down.last_error, 'string');
    assert.equal(typeof down.next_attempt_at, 'string');
    // First failure: the cron retries 30 s later (whole seconds in /status).
    const retryAt = Date.parse(down.next_attempt_at);
    assert.ok(retryAt >= cronStart + 30_000 - 1000 && retryAt <= cronEnd + 30_000, `${down.next_attempt_at}`);

    // Backing off: the cron skips it. A call on the expired token, a few seconds (5 s) after
    // the cron's attempt, tries the token endpoint once itself and fails with -32002.
    assert.deepEqual(await runCron(worker), cronSummary(1, 0, 0));
    await sleepUntil(Math.max(expiredBy(down.access_token_expires_at), failed[0].at + 5_000 + 300));
    await assert.rejects(echo(client, 'down'), (err) => {
      assert.ok(err instanceof McpError, `${err}`);
      assert.equal(err.code, AUTH_SERVER_UNAVAILABLE, err.message);
      return true;
    });
    const attempts = refreshesOf(as, cronStart);
    assert.deepEqual(attempts.map((r) => r.status), [503, 503], 'the call tried once itself');

    // Back up: the next call, a few seconds after that attempt, refreshes with the kept token.
    as.setDown(false);
    await sleepUntil(attempts[1].at + 5_000 + 300);
    const recoveryStart = Date.now();
    assert.equal(await echo(client, 'up again'), 'up again');
    const recovered = refreshesOf(as, recoveryStart);
    assert.deepEqual(recovered.map((r) => r.status), [200]);

    const up = await status(worker, secret);
    assert.equal(up.state, 'active');
    assert.equal(up.last_error, null);
    assert.equal(up.next_attempt_at, null);
    // The cron is no longer backing off: it refreshes the (3-second, so due) token again.
    assert.deepEqual(await runCron(worker), cronSummary(1, 1, 1));
    assert.deepEqual(invalidGrants(as), []);
  });
});

describe('refresh: wrangler dev restarted between a refresh and the next call', () => {
  let stack;
  const clients = [];
  before(async () => {
    stack = await startStack({ accessTokenTTL: 3 });
  });
  after(() => stopStack(stack, clients));

  // The client's session lives at the upstream and the tokens in the connection's storage, so
  // the same client carries on after the restart, and its next call refreshes with the refresh
  // token the cron rotated before it.
  test('the same client carries on, and the rotated refresh token survives the restart', async () => {
    const { as, mcp, worker } = stack;
    const { mcpUrl, secret } = await connectHeadless(worker.url);
    const client = await newClient(mcpUrl);
    clients.push(client);
    assert.equal(await echo(client, 'before'), 'before');

    assert.deepEqual(await runCron(worker), cronSummary(1, 1, 1));
    const [rotation] = refreshesOf(as, 0);
    assert.equal(rotation.status, 200);
    const refreshedAt = Date.parse((await status(worker, secret)).last_refresh_at);

    await worker.restart();
    const restartedAt = Date.now();
    // Let the token the cron got expire, so the next call must refresh with the refresh token
    // that the cron rotated (and persisted) before the restart.
    await sleepUntil(expiredBy((await status(worker, secret)).access_token_expires_at));

    assert.equal(await echo(client, 'after'), 'after');
    assert.deepEqual(mcp.requests.filter((r) => r.at >= restartedAt && r.rpc.includes('initialize')).length, 0, 'the same upstream session');

    const afterRestart = refreshesOf(as, restartedAt);
    assert.equal(afterRestart.length, 1, JSON.stringify(afterRestart.map((r) => [r.status, r.error])));
    assert.equal(afterRestart[0].status, 200);
    assert.equal(afterRestart[0].presented, rotation.issued.refresh_token, 'the refresh token the cron rotated');
    assert.deepEqual(invalidGrants(as), []);
    const now = await status(worker, secret);
    assert.equal(now.state, 'active');
    assert.ok(Date.parse(now.last_refresh_at) > refreshedAt);
  });
});

describe('refresh: 500 connections, a tenth of them due', () => {
  const SHORT = 50;
  const LONG = 450;
  let short; // short-lived tokens: the demo preset
  let long; // hour-long tokens: connected by URL
  let worker;
  const created = { short: [], long: [] };

  before(async () => {
    // Short tokens live 90 s and the window is 60 s: the 50 are due 30 s after they are issued,
    // and a token the cron has just refreshed is not due again, so each run's count is exact.
    const shortAs = await startOAuthServer({ accessTokenTTL: 90 });
    short = { as: shortAs, mcp: await startMcpServer({ issuer: shortAs.issuer }) };
    const longAs = await startOAuthServer({ accessTokenTTL: 3600 });
    long = { as: longAs, mcp: await startMcpServer({ issuer: longAs.issuer }) };
    worker = await startWorker({
      vars: {
        TOKEN_ENCRYPTION_KEY: newKey(),
        ALLOW_LOOPBACK_HTTP: 'true',
        DEMO_SERVER_URL: short.mcp.url,
        REFRESH_WINDOW_SECONDS: '60',
      },
    });
  });
  after(async () => {
    await worker?.stop();
    for (const s of [short, long]) {
      await s?.mcp.stop();
      await s?.as.stop();
    }
  });

  test('each cron run refreshes at most 40, soonest first, and only the due ones', async (t) => {
    const started = Date.now();
    const longPath = `/connect?server=${encodeURIComponent(long.mcp.url)}`;
    // One flow first per server, then the crowd; each connection registers its own client.
    created.short = [await connectHeadless(worker.url)];
    created.short.push(...await pool(Array(SHORT - 1).fill('/connect/demo'), 10, (p) => connectHeadless(worker.url, p)));
    created.long = [await connectHeadless(worker.url, longPath)];
    created.long.push(...await pool(Array(LONG - 1).fill(longPath), 10, (p) => connectHeadless(worker.url, p)));
    t.diagnostic(`created ${SHORT + LONG} connections headless in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(new Set([...created.short, ...created.long].map((c) => c.secret)).size, SHORT + LONG);
    assert.equal(short.as.registrations.length, SHORT);
    assert.equal(long.as.registrations.length, LONG);
    assert.equal(new Set(short.as.registrations.map((r) => r.client_id)).size, SHORT);

    const statuses = (list) => pool(list, 20, (c) => status(worker, c.secret));
    const shortExpiries = (await statuses(created.short)).map((s) => s.access_token_expires_at);
    await sleepUntil(Math.max(...shortExpiries.map((e) => expiredBy(e))) - 60_000);

    // Each connection's access-token expiry, to the millisecond, from the plaintext metadata of
    // its KV mirror: what the cron plans with.
    const listed = () => new Map(kvEntries(worker.persistDir, 'conn:').map((e) => [e.key.slice('conn:'.length), e.metadata]));
    const initial = listed();
    assert.equal(initial.size, SHORT + LONG);
    const shortIds = [...initial].filter(([, m]) => m.upstream === short.mcp.url).map(([id]) => id);
    assert.equal(shortIds.length, SHORT);
    // Soonest expiry first, ties by id, as the plan orders them.
    const soonestFirst = [...shortIds].sort((a, b) => initial.get(a).expires_at - initial.get(b).expires_at || (a < b ? -1 : 1));

    const runs = [];
    let last = initial;
    for (let i = 0; i < 3; i += 1) {
      const from = Date.now();
      const line = await runCron(worker);
      const to = Date.now();
      const now = listed();
      const refreshed = [...now].filter(([id, m]) => m.last_refresh_at !== last.get(id).last_refresh_at).map(([id]) => id);
      runs.push({ line, refreshed: new Set(refreshed), short: refreshesOf(short.as, from, to), long: refreshesOf(long.as, from, to) });
      last = now;
    }
    // Which connections: the 40 that expire soonest, then the other 10, then none.
    assert.deepEqual([...runs[0].refreshed].sort(), soonestFirst.slice(0, 40).sort());
    assert.deepEqual([...runs[1].refreshed].sort(), soonestFirst.slice(40).sort());
    assert.deepEqual([...runs[2].refreshed], []);
    assert.deepEqual(runs.map((r) => r.line), [cronSummary(500, 40, 40), cronSummary(500, 10, 10), cronSummary(500, 0, 0)]);
    assert.deepEqual(runs.map((r) => r.short.length), [40, 10, 0]);
    assert.deepEqual(runs.map((r) => r.long.length), [0, 0, 0]);
    assert.ok(runs.every((r) => r.short.every((q) => q.status === 200)));
    assert.deepEqual(invalidGrants(short.as), []);

    const shortAfter = await statuses(created.short);
    assert.deepEqual(shortAfter.filter((s) => s.last_refresh_at === null || s.state !== 'active').map((s) => s.id), []);
    const longAfter = await statuses(created.long);
    assert.deepEqual(longAfter.filter((s) => s.last_refresh_at !== null).map((s) => s.id), []);
    assert.equal(refreshesOf(long.as, 0).length, 0);
  });
});

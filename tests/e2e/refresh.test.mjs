// Keeping tokens fresh end to end, around the connections' alarms (tests/e2e/alarms.test.mjs has
// the alarms themselves): idle across token lifetimes, on-demand refresh under concurrency, a
// revoked grant and reconnect, an authorization server that is down, and a restart of the
// runtime. Each group runs its own authorization server (oidc-provider, rotating refresh tokens,
// short access tokens), MCP server and Worker.
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
import { connectionRecords, cronLines, cronSummary, newKey, runCron, until } from './support.mjs';

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

const alarmLines = (worker) => readFileSync(worker.logFile, 'utf8').match(/connection [\w-]+: alarm: refreshed/g) ?? [];

describe('refresh: idle across several token lifetimes', () => {
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

    // No MCP calls and no cron run for ~10 s (more than three 3-second lifetimes): the
    // connection's alarms refresh the token.
    const idleStart = Date.now();
    await delay(10_000);
    const idleEnd = Date.now();

    assert.equal(await echo(client, 'after the idle period'), 'after the idle period');

    const duringIdle = refreshesOf(as, idleStart, idleEnd);
    assert.ok(duringIdle.length >= 3, `${duringIdle.length} refreshes while idle`);
    assert.deepEqual(duringIdle.map((r) => r.status), duringIdle.map(() => 200));
    assert.equal(duringIdle[0].resource, mcp.resource, 'the resource indicator is sent on refresh');
    assert.deepEqual(invalidGrants(as), []);
    assert.deepEqual(cronLines(worker), []);

    const seen = assertNoExpiredTokenSeen(mcp, connectedAt);
    assert.deepEqual(seen.filter((r) => r.at >= idleStart && r.at <= idleEnd && r.method === 'POST'), [], 'no MCP calls while idle');
    assert.equal(seen.filter((r) => r.rpc.includes('tools/call')).length, 2);
  });

  test('no token the authorization server issued is readable in storage or in the log, in any form', () => {
    const { as, worker } = stack;
    const issued = as.tokenRequests.filter((r) => r.issued);
    const tokens = issued.flatMap((r) => [r.issued.access_token, r.issued.refresh_token]);
    // The code exchange and one refresh per alarm, each with a new access and refresh token.
    assert.ok(issued.length >= 4, `token responses: ${issued.length}`);
    assert.equal(new Set(tokens).size, tokens.length);

    // The search reaches the connection object's own storage: it finds there the sealed record
    // the object keeps, and only there (KV holds no sealed record).
    const [sealed] = connectionRecords(worker.persistDir).values();
    assert.ok(sealed?.length > 100, 'the sealed record in the connection\'s object');
    const holders = placesHolding(worker.persistDir, sealed);
    assert.ok(holders.some((p) => /^v3\/do\/bindify-Connection\/[0-9a-f]{64}\.sqlite _cf_KV$/.test(p)), `places holding the sealed record: ${holders}`);
    assert.deepEqual(holders.filter((p) => p.startsWith('v3/kv/')), [], 'no sealed record in KV');
    // The search reaches the Worker's log: it holds the alarms' lines.
    assert.ok(alarmLines(worker).length >= 3);

    assert.deepEqual(findExposed(worker.persistDir, tokens, [worker.logFile]), []);
  });
});

describe('refresh: 50 concurrent calls and a cron run at the moment of expiry', () => {
  let stack;
  let client;
  before(async () => {
    stack = await startStack({ accessTokenTTL: 3 });
  });
  after(() => stopStack(stack, [client]));

  // The alarm's refresh fails (the authorization server is down then), so the token expires
  // unrefreshed; once the server is back, 50 calls and a cron run arrive together.
  test('one refresh serves all 50 calls and the cron; no invalid_grant', async () => {
    const { as, mcp, worker } = stack;
    const { mcpUrl, secret } = await connectHeadless(worker.url);
    as.setDown(true);
    const connectedAt = Date.now();
    client = await newClient(mcpUrl);
    const { access_token_expires_at: expiresAt } = await status(worker, secret);
    await until('the alarm\'s failed refresh', async () => (await status(worker, secret)).state === 'error');
    const [failed] = refreshesOf(as, 0);
    assert.equal(failed.status, 503);

    // After the expiry, and after the few seconds a request waits after a failed attempt.
    await sleepUntil(Math.max(expiredBy(expiresAt, 500), failed.at + 5_000 + 300));
    as.setDown(false);
    const windowStart = Date.now();
    const texts = Array.from({ length: 50 }, (_, i) => `call ${i}`);
    const [cron, ...results] = await Promise.all([runCron(worker), ...texts.map((t) => echo(client, t))]);
    const windowEnd = Date.now();

    assert.deepEqual(results, texts);
    const refreshes = refreshesOf(as, windowStart, windowEnd);
    assert.equal(refreshes.length, 1, JSON.stringify(refreshes.map(({ issued, presented, ...r }) => r)));
    assert.equal(refreshes[0].status, 200);
    assert.equal(refreshes[0].presented, failed.presented, 'the refresh token the failed attempt kept');
    assert.deepEqual(invalidGrants(as), []);
    // The cron's visit found the alarm backing off, or the token just refreshed: nothing due.
    assert.deepEqual(cron, cronSummary(1, 1, { notDue: 1 }));
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

    // Neither the cron (which does not visit it: it needs no alarm) nor another call goes back
    // to the authorization server.
    const tokenRequests = as.tokenRequests.length;
    assert.deepEqual(await runCron(worker), cronSummary(1, 0));
    assert.deepEqual(await runCron(worker), cronSummary(1, 0));
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

describe('refresh: the authorization server is down when the alarm fires', () => {
  let stack;
  let client;
  before(async () => {
    stack = await startStack({ accessTokenTTL: 3 });
  });
  after(() => stopStack(stack, [client]));

  test('state error with backoff, tokens kept, -32002 on an expired token, recovery at the next call', async () => {
    const { as, worker } = stack;
    const { mcpUrl, secret } = await connectHeadless(worker.url);
    as.setDown(true);
    const downAt = Date.now();
    client = await newClient(mcpUrl);
    assert.equal(await echo(client, 'up'), 'up');

    await until('the alarm\'s failed refresh', async () => (await status(worker, secret)).state === 'error');
    const failed = refreshesOf(as, downAt);
    assert.equal(failed.length, 1);
    assert.equal(failed[0].status, 503);

    const down = await status(worker, secret);
    assert.equal(down.state, 'error');
    assert.equal(typeof down.last_error, 'string');
    assert.equal(typeof down.next_attempt_at, 'string');
    // First failure: the alarm tries again 30 s later (whole seconds in /status).
    const retryAt = Date.parse(down.next_attempt_at);
    assert.ok(retryAt >= failed[0].at + 30_000 - 1000 && retryAt <= failed[0].at + 30_000, `${down.next_attempt_at}`);

    // Backing off: the cron's visit leaves it. A call on the expired token, a few seconds (5 s)
    // after the alarm's attempt, tries the token endpoint once itself and fails with -32002.
    assert.deepEqual(await runCron(worker), cronSummary(1, 1, { notDue: 1 }));
    await sleepUntil(Math.max(expiredBy(down.access_token_expires_at), failed[0].at + 5_000 + 300));
    await assert.rejects(echo(client, 'down'), (err) => {
      assert.ok(err instanceof McpError, `${err}`);
      assert.equal(err.code, AUTH_SERVER_UNAVAILABLE, err.message);
      return true;
    });
    const attempts = refreshesOf(as, downAt);
    assert.deepEqual(attempts.map((r) => r.status), [503, 503], 'the call tried once itself');

    // Back up: the next call, a few seconds after that attempt, refreshes with the kept token.
    as.setDown(false);
    await sleepUntil(attempts[1].at + 5_000 + 300);
    const recoveryStart = Date.now();
    assert.equal(await echo(client, 'up again'), 'up again');
    const recovered = refreshesOf(as, recoveryStart, Date.now());
    assert.deepEqual(recovered.map((r) => r.status), [200]);
    assert.equal(recovered[0].presented, failed[0].presented);

    const up = await status(worker, secret);
    assert.equal(up.state, 'active');
    assert.equal(up.last_error, null);
    assert.equal(up.next_attempt_at, null);
    // The alarms carry on from the new token.
    await until('an alarm\'s refresh', () => refreshesOf(as, recoveryStart).length >= 2);
    assert.deepEqual(invalidGrants(as), []);
  });
});

describe('refresh: wrangler dev restarted between a refresh and the next call', () => {
  let stack;
  const clients = [];
  before(async () => {
    // Eight seconds: the next alarm is about four seconds after a refresh, so the restart
    // below falls between two refreshes, never into one.
    stack = await startStack({ accessTokenTTL: 8 });
  });
  after(() => stopStack(stack, clients));

  // The client's session lives at the upstream and the tokens in the connection's storage, so
  // the same client carries on after the restart, and the refreshes after it spend the refresh
  // token the last refresh before it rotated.
  test('the same client carries on, and the rotated refresh token survives the restart', async () => {
    const { as, mcp, worker } = stack;
    const { mcpUrl, secret } = await connectHeadless(worker.url);
    const client = await newClient(mcpUrl);
    clients.push(client);
    assert.equal(await echo(client, 'before'), 'before');

    await until('an alarm\'s refresh', () => refreshesOf(as, 0).length >= 1);
    // Restart only once the connection's object has stored what the refresh returned.
    await until('the refresh stored', async () => (await status(worker, secret)).last_refresh_at !== null);
    await worker.restart();
    const restartedAt = Date.now();
    const rotation = refreshesOf(as, 0).filter((r) => r.at < restartedAt).at(-1);
    assert.equal(rotation.status, 200);
    const refreshedAt = Date.parse((await status(worker, secret)).last_refresh_at);

    await until('a refresh after the restart', () => refreshesOf(as, restartedAt).length >= 1);
    assert.equal(await echo(client, 'after'), 'after');
    assert.deepEqual(mcp.requests.filter((r) => r.at >= restartedAt && r.rpc.includes('initialize')).length, 0, 'the same upstream session');

    const afterRestart = refreshesOf(as, restartedAt);
    assert.equal(afterRestart[0].status, 200);
    assert.equal(afterRestart[0].presented, rotation.issued.refresh_token, 'the refresh token rotated before the restart');
    assert.deepEqual(invalidGrants(as), []);
    const now = await status(worker, secret);
    assert.equal(now.state, 'active');
    assert.ok(Date.parse(now.last_refresh_at) > refreshedAt);
  });
});

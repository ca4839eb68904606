// Refresh by Durable Object alarms: each connection's object refreshes its token ahead of expiry
// with no client traffic and no cron run, once per token, never spending a refresh token twice,
// and without writing KV. A revoked grant stops its alarms, a reconnect starts them again and
// revoking the connection ends them. The cron's sweep sets the alarms that are missing, objects
// without the alarm mark first and within its budget.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { startMcpServer } from '../fixtures/mcp-server.mjs';
import { startOAuthServer } from '../fixtures/oauth-server.mjs';
import { launchBrowser, loginAndConsent } from '../lib/browser.mjs';
import { startWorker } from '../lib/worker.mjs';
import { connectHeadless } from './headless.mjs';
import {
  connectionAlarms, cronLines, cronSummary, dropConnectionAlarm, kvEntries, kvWrites,
  makeFromBeforeAlarms, newKey, runCron, until,
} from './support.mjs';

/** An authorization server issuing `ttl`-second tokens, an MCP server, and a Worker. */
async function startStack({ ttl, vars = {} }) {
  const as = await startOAuthServer({ accessTokenTTL: ttl });
  const mcp = await startMcpServer({ issuer: as.issuer });
  const worker = await startWorker({
    vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true', DEMO_SERVER_URL: mcp.url, ...vars },
  });
  return { as, mcp, worker };
}

async function stopStack(stack) {
  await stack?.worker?.stop();
  await stack?.mcp?.stop();
  await stack?.as?.stop();
}

async function status(worker, secret) {
  const response = await fetch(`${worker.url}/s/${secret}/status`);
  assert.equal(response.status, 200);
  return response.json();
}

async function echo(mcpUrl, text) {
  const client = new Client({ name: 'bindify-alarms-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl)));
  try {
    const result = await client.callTool({ name: 'echo', arguments: { text } }, undefined, { timeout: 15_000 });
    assert.notEqual(result.isError, true, JSON.stringify(result));
    return result.content[0].text;
  } finally {
    await client.close();
  }
}

const refreshesOf = (as, from = 0, to = Infinity) => as.tokenRequests.filter((r) => r.grant_type === 'refresh_token' && r.at >= from && r.at <= to);

/**
 * Checks that the token responses of one grant form one chain from its code exchange: each
 * refresh spends the refresh token the previous response issued, before that response's access
 * token expired, and no refresh token is spent twice. Returns the refreshes.
 */
function assertOneRefreshPerToken(as, exchange) {
  const refreshes = as.tokenRequests.filter((r) => r.grant_type === 'refresh_token' && r.at > exchange.at);
  let previous = exchange;
  for (const refresh of refreshes) {
    assert.equal(refresh.status, 200, JSON.stringify({ ...refresh, issued: undefined }));
    assert.equal(refresh.presented, previous.issued.refresh_token, 'spends the refresh token the previous answer issued');
    const expiredAt = previous.at + previous.issued.expires_in * 1000;
    assert.ok(refresh.at < expiredAt, `refreshed ${refresh.at - expiredAt} ms after the token it replaced expired`);
    previous = refresh;
  }
  const spent = refreshes.map((r) => r.presented);
  assert.equal(new Set(spent).size, spent.length, 'no refresh token spent twice');
  assert.deepEqual(as.tokenRequests.filter((r) => r.at > exchange.at && r.error), []);
  return refreshes;
}

const alarmLines = (worker) => readFileSync(worker.logFile, 'utf8').match(/connection [\w-]+: alarm: refreshed/g) ?? [];

describe('alarms: 5-second tokens, no client traffic, no cron', () => {
  let stack;
  before(async () => {
    stack = await startStack({ ttl: 5 });
  });
  after(() => stopStack(stack));

  test('each token is refreshed once, before it expires, and no refresh writes KV', async () => {
    const { as, worker, mcp } = stack;
    const { mcpUrl, secret } = await connectHeadless(worker.url);
    const exchange = as.tokenRequests.find((r) => r.grant_type === 'authorization_code');
    // What the connect flow wrote to KV is there; from the first alarm's refresh on, nothing.
    await until('the first refresh', () => refreshesOf(as).length >= 1);
    const writes = kvWrites(worker.persistDir);
    const idleStart = Date.now();
    await delay(16_000); // more than three lifetimes, with no request and no cron run
    const idleEnd = Date.now();
    assert.deepEqual(kvWrites(worker.persistDir), writes, 'no KV write during routine refreshes');

    const refreshes = assertOneRefreshPerToken(as, exchange);
    const during = refreshes.filter((r) => r.at >= idleStart && r.at <= idleEnd);
    // Each lasts 5 s and must be refreshed before it expires: at least three in 16 s.
    assert.ok(during.length >= 3, `${during.length} refreshes in 16 s`);
    assert.equal(refreshes[0].resource, mcp.resource, 'the resource indicator is sent');
    assert.ok(alarmLines(worker).length >= 3, 'the alarms logged their refreshes');
    assert.deepEqual(cronLines(worker), [], 'no cron run');
    assert.deepEqual(mcp.requests.filter((r) => r.at >= idleStart && r.at <= idleEnd), [], 'no MCP traffic');

    // The token in use is fresh: a call reaches the upstream with it.
    assert.equal(await echo(mcpUrl, 'after the idle period'), 'after the idle period');
    assert.equal((await status(worker, secret)).state, 'active');
    // The mirror was written by the connect flow only, with what a listing shows.
    const [mirror] = kvEntries(worker.persistDir, 'conn:');
    assert.equal(mirror.value, 'v2');
    assert.equal(mirror.metadata.alarm, true);
    assert.equal(mirror.metadata.expires_at, null);
    assert.equal(mirror.metadata.last_refresh_at, undefined);
  });
});

describe('alarms: a revoked grant, a reconnect and a revocation', () => {
  let stack;
  let browser;
  before(async () => {
    stack = await startStack({ ttl: 5 });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stopStack(stack);
  });

  test('invalid_grant stops the alarms, a reconnect starts them, revoking ends them', async () => {
    const { as, worker } = stack;
    const { secret } = await connectHeadless(worker.url);
    const { id } = await status(worker, secret);
    await until('the first refresh', () => refreshesOf(as).length >= 1);

    // The grant is revoked at the authorization server: the next alarm learns it, once.
    assert.equal(await as.revokeGrantsFor(), 1);
    const revokedAt = Date.now();
    await until('needs_reauth', async () => (await status(worker, secret)).state === 'needs_reauth');
    const refused = refreshesOf(as, revokedAt);
    assert.deepEqual(refused.map((r) => r.error), ['invalid_grant']);
    await delay(11_000); // two lifetimes and more
    assert.equal(refreshesOf(as, revokedAt).length, 1, 'no attempt after invalid_grant');
    assert.deepEqual(connectionAlarms(worker.persistDir).get(id), undefined, 'no alarm left');

    // A reconnect binds a new grant: its alarms refresh it.
    const page = await browser.newPage();
    await page.goto(`${worker.url}/manage/${id}/reconnect`);
    await loginAndConsent(page);
    await page.waitForSelector('body[data-page="reconnected"]', { timeout: 15_000 });
    await page.close();
    const exchanges = as.tokenRequests.filter((r) => r.grant_type === 'authorization_code');
    assert.equal(exchanges.length, 2);
    await until('two refreshes of the new grant', () => refreshesOf(as, exchanges[1].at).length >= 2);
    assertOneRefreshPerToken(as, exchanges[1]);
    assert.equal((await status(worker, secret)).state, 'active');

    // Revoking the connection deletes its alarm: no refresh after it.
    const response = await fetch(`${worker.url}/api/connections/${id}`, { method: 'DELETE' });
    assert.equal(response.status, 200);
    const deletedAt = Date.now();
    await delay(11_000);
    assert.deepEqual(refreshesOf(as, deletedAt), []);
    assert.equal(connectionAlarms(worker.persistDir).get(id), undefined);
  });
});

// An object without the alarm it needs: made for real by removing the alarm from the runtime's
// local files while the Worker is stopped (and, for one, its note of its KV mirror and the alarm
// mark in the mirror's metadata). That is what an object created before alarms existed looks
// like (no alarm, no note, no mark), and what an object whose chain of alarms broke looks like
// (no alarm, the mark). The test shows what the sweep does with them; it does not show how a
// chain breaks in production.
describe('the cron\'s sweep: objects without their alarm', () => {
  let stack;
  before(async () => {
    // 40-second tokens: their alarms fire 20 s after they arrive, time enough to stop the
    // Worker, take the alarms away and start it again before that.
    stack = await startStack({ ttl: 40 });
  });
  after(() => stopStack(stack));

  test('the sweep sets missing alarms, and those alarms refresh on time with no further cron run', async () => {
    const { as, worker } = stack;
    const created = [];
    for (let i = 0; i < 3; i += 1) created.push(await connectHeadless(worker.url));
    const ids = [];
    for (const c of created) ids.push((await status(worker, c.secret)).id);
    const [old, broken, intact] = ids;
    const alarms = connectionAlarms(worker.persistDir);
    assert.deepEqual([...alarms.keys()].sort(), [...ids].sort(), 'each object set its alarm');

    await worker.restart({
      whileStopped(persistDir) {
        makeFromBeforeAlarms(persistDir, old);
        dropConnectionAlarm(persistDir, broken);
      },
    });
    const kept = connectionAlarms(worker.persistDir);
    assert.deepEqual([...kept.keys()], [intact], 'the intact object kept its alarm across the restart');

    const line = await runCron(worker);
    assert.deepEqual(line, cronSummary(3, 3, { unmarked: 1, notDue: 3, rearmed: 2 }));
    const rearmed = connectionAlarms(worker.persistDir);
    assert.deepEqual([...rearmed.keys()].sort(), [...ids].sort());
    assert.equal(rearmed.get(old), alarms.get(old), 'the same time as the alarm it lost');
    assert.equal(rearmed.get(broken), alarms.get(broken));
    const mirrors = new Map(kvEntries(worker.persistDir, 'conn:').map((e) => [e.key.slice(5), e]));
    assert.equal(mirrors.get(old).metadata.alarm, true, 'the mark is written');

    // No more cron runs: each alarm refreshes its token.
    const lastAlarm = Math.max(...rearmed.values());
    await until('the three refreshes', () => refreshesOf(as).length >= 3, lastAlarm - Date.now() + 10_000);
    const refreshes = refreshesOf(as);
    assert.equal(refreshes.length, 3);
    assert.ok(refreshes.every((r) => r.status === 200));
    assert.equal(cronLines(worker).length, 1);
    for (const c of created) assert.equal((await status(worker, c.secret)).state, 'active');
  });
});

describe('the cron\'s sweep: within its budget, objects without the alarm mark first', () => {
  let stack;
  before(async () => {
    stack = await startStack({ ttl: 3600, vars: { CRON_MAX_REFRESHES: '5' } });
  });
  after(() => stopStack(stack));

  test('12 connections, 7 of them from before alarms: 5, then 2 of them, then none', async () => {
    const { worker } = stack;
    const ids = [];
    for (let i = 0; i < 12; i += 1) {
      const { secret } = await connectHeadless(worker.url);
      ids.push((await status(worker, secret)).id);
    }
    const earlier = ids.slice(0, 7);
    await worker.restart({
      whileStopped(persistDir) {
        for (const id of earlier) makeFromBeforeAlarms(persistDir, id);
      },
    });
    assert.equal(connectionAlarms(worker.persistDir).size, 5);
    const marked = () => kvEntries(worker.persistDir, 'conn:').filter((e) => e.metadata.alarm === true).length;
    assert.equal(marked(), 5);

    assert.deepEqual(await runCron(worker), cronSummary(12, 5, { unmarked: 7, notDue: 5, rearmed: 5 }));
    assert.equal(marked(), 10);
    assert.deepEqual(await runCron(worker), cronSummary(12, 5, { unmarked: 2, notDue: 5, rearmed: 2 }));
    assert.equal(marked(), 12);
    // All 12 marked now: three slices of the budget (5, 5, 2), the one for the current
    // five-minute run (see core/src/lifecycle/cron.rs), read before and after in case the run
    // starts on a boundary.
    const sliceSize = (at) => [5, 5, 2][Math.floor(at / (5 * 60_000)) % 3];
    const sizes = new Set([sliceSize(Date.now())]);
    const third = await runCron(worker);
    sizes.add(sliceSize(Date.now()));
    assert.ok(
      [...sizes].some((n) => isDeepStrictEqual(third, cronSummary(12, n, { notDue: n }))),
      `${JSON.stringify(third)}: one slice of ${[...sizes].join(' or ')}`,
    );
    const alarms = connectionAlarms(worker.persistDir);
    assert.deepEqual([...alarms.keys()].sort(), [...ids].sort());
    // An hour-long token's alarm: two minutes before it expires.
    for (const alarm of alarms.values()) assert.ok(alarm > Date.now() + 55 * 60_000, new Date(alarm).toISOString());
  });
});

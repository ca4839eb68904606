// Activity per connection, end to end: the Worker in workerd counts the uses of a permanent URL
// (requests, and errors from an upstream that fails), when and from where it was last used, and
// the refreshes the connection's object made; the management API, `bindify list` and `bindify
// status` and the dashboard in Chromium show them; a use from a new country is a notice the
// owner dismisses.
//
// Where a request comes from: workerd under `wrangler dev` gives each request the `request.cf`
// of its `MF-CF-Blob` header (Miniflare's own way to set it), else a placeholder (or the cached
// cf.json of the machine). Every use here names its place in that header, so the places the
// test expects are the ones it sent.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import { startMcpServer } from '../fixtures/mcp-server.mjs';
import { startOAuthServer } from '../fixtures/oauth-server.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { startWorker } from '../lib/worker.mjs';
import { runBindify } from './bindify-cli.mjs';
import { connectInBrowser, newKey } from './support.mjs';

const AMSTERDAM = { colo: 'AMS', country: 'NL' };
const SAO_PAULO = { colo: 'GRU', country: 'BR' };
// Deliveries are batched for 2 s after a use; this is how long a test waits for one.
const DELIVERY_WAIT_MS = 20_000;

describe('activity per connection', () => {
  const adminToken = randomBytes(32).toString('base64url');
  let as;
  let mcp;
  let worker;
  let browser;
  let page;
  let id;
  let mcpUrl;
  // While set, the upstream answers every POST with a 500, as a failing MCP server does.
  let failing = false;

  async function api(method, path, body) {
    const response = await fetch(`${worker.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, json: await response.json() };
  }

  /** One MCP request (an `initialize`) through the permanent URL, from `place`. */
  async function use(place) {
    const response = await fetch(mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'MF-CF-Blob': JSON.stringify(place),
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'activity-test', version: '1' } },
      }),
    });
    await response.arrayBuffer();
    return response.status;
  }

  /** The connection's activity once `ready(activity)` holds (deliveries run after responses). */
  async function activityWhen(ready) {
    const deadline = Date.now() + DELIVERY_WAIT_MS;
    for (;;) {
      const { status, json } = await api('GET', `/api/connections/${id}`);
      assert.equal(status, 200);
      if (ready(json.activity)) return json.activity;
      if (Date.now() > deadline) assert.fail(`activity never got there: ${JSON.stringify(json.activity)}`);
      await delay(250);
    }
  }

  before(async () => {
    as = await startOAuthServer({ accessTokenTTL: 3600 });
    mcp = await startMcpServer({
      issuer: as.issuer,
      intercept: (req, res, url) => {
        if (!failing || req.method !== 'POST' || url.pathname !== '/mcp') return false;
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: 'the server is failing' } }));
        return true;
      },
    });
    worker = await startWorker({
      vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true', ADMIN_TOKEN: adminToken },
    });
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.goto(`${worker.url}/login`);
    await page.fill('input[name="token"]', adminToken);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('body[data-page="dashboard"]');
    ({ mcpUrl } = await connectInBrowser(page, worker.url, { serverUrl: mcp.url }));
    const listed = (await api('GET', '/api/connections')).json.connections;
    assert.equal(listed.length, 1);
    id = listed[0].id;
    assert.equal((await api('PATCH', `/api/connections/${id}`, { label: 'Team wiki' })).status, 200);
  });

  after(async () => {
    await browser?.close();
    await worker?.stop();
    await mcp?.stop();
    await as?.stop();
  });

  test('a new connection has no activity yet', async () => {
    const { json } = await api('GET', `/api/connections/${id}`);
    assert.deepEqual(json.activity, {
      last_used_at: null,
      last_used_from: null,
      requests_24h: 0,
      errors_24h: 0,
      requests_7d: 0,
      errors_7d: 0,
      refreshes: [],
      new_places: [],
    });
  });

  test('requests and errors are counted exactly, with when and where the URL was last used', async () => {
    const started = Date.now();
    for (let i = 0; i < 3; i++) assert.equal(await use(AMSTERDAM), 200);
    failing = true;
    try {
      for (let i = 0; i < 2; i++) assert.equal(await use(AMSTERDAM), 500);
    } finally {
      failing = false;
    }
    const ended = Date.now();
    const activity = await activityWhen((a) => a.requests_24h >= 5);
    assert.equal(activity.requests_24h, 5);
    assert.equal(activity.errors_24h, 2);
    assert.equal(activity.requests_7d, 5);
    assert.equal(activity.errors_7d, 2);
    assert.deepEqual(activity.last_used_from, AMSTERDAM);
    const lastUsed = Date.parse(activity.last_used_at);
    assert.ok(lastUsed >= Math.floor(started / 1000) * 1000 && lastUsed <= ended, activity.last_used_at);
    // The first place a connection is used from is where it starts, not a new place.
    assert.deepEqual(activity.new_places, []);
    // The listing carries the same activity.
    const listed = (await api('GET', '/api/connections')).json.connections;
    assert.deepEqual(listed.find((c) => c.id === id).activity, activity);
  });

  test('a refresh after the upstream refused the token is noted with its trigger and outcome', async () => {
    assert.ok(mcp.revokeSeenTokens() > 0);
    assert.equal(await use(AMSTERDAM), 200);
    const activity = await activityWhen((a) => a.requests_24h >= 6);
    assert.equal(activity.requests_24h, 6, 'the replay after the refresh is the same request');
    assert.equal(activity.errors_24h, 2);
    assert.equal(activity.refreshes.length, 1);
    assert.equal(activity.refreshes[0].trigger, '401');
    assert.equal(activity.refreshes[0].outcome, 'refreshed');
    assert.ok(Number.isFinite(Date.parse(activity.refreshes[0].at)));
  });

  test('bindify list has a LAST USED column and bindify status shows everything', async () => {
    const list = await runBindify(['list'], { workerUrl: worker.url, adminToken });
    assert.equal(list.code, 0, list.stderr);
    const [header, row] = list.stdout.trimEnd().split('\n');
    assert.match(header, /^ID\s+LABEL\s+UPSTREAM\s+STATE\s+LAST USED\s+TOKEN EXPIRES/);
    assert.match(row, new RegExp(`^${id}\\s+Team wiki\\s+\\S+\\s+active\\s+(just now|\\d+ min ago) from AMS \\(NL\\)\\s`));

    const status = await runBindify(['status', 'Team wiki'], { workerUrl: worker.url, adminToken });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /\nLast used: {5}(just now|\d+ min ago) from AMS \(NL\)\n/);
    assert.match(status.stdout, /\nLast 24 h: {5}6 requests, 2 errors\n/);
    assert.match(status.stdout, /\nLast 7 days: {3}6 requests, 2 errors\n/);
    assert.match(status.stdout, /\nRefreshes: {5}\S+Z \((just now|\d+ min ago)\) by upstream 401: refreshed\n/);

    const json = await runBindify(['status', 'Team wiki', '--json'], { workerUrl: worker.url, adminToken });
    assert.equal(json.code, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).activity.requests_7d, 6);
  });

  test('a use from a new country is a notice on the dashboard until the owner dismisses it', async () => {
    assert.equal(await use(SAO_PAULO), 200);
    const activity = await activityWhen((a) => a.new_places.length > 0);
    assert.equal(activity.new_places.length, 1);
    assert.equal(activity.new_places[0].colo, 'GRU');
    assert.equal(activity.new_places[0].country, 'BR');
    assert.equal(activity.new_places[0].novelty, 'country');
    assert.deepEqual(activity.last_used_from, SAO_PAULO);
    assert.equal(activity.requests_24h, 7);

    for (const width of [360, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      await page.goto(`${worker.url}/manage`);
      const card = page.locator(`article.connection[data-id="${id}"]`);
      assert.match(await card.locator('.new-place li').textContent(),
        /^First use from BR \(GRU\) (just now|\d+ min ago) — if that was not you, rotate the URL\.$/);
      assert.match(await card.locator('.last-used').textContent(), /^(just now|\d+ min ago) from GRU \(BR\)$/);
      assert.equal(await card.locator('.uses-24h').textContent(), '7 requests, 2 errors');
      assert.equal(await card.locator('.uses-7d').textContent(), '7 requests, 2 errors');
      await card.locator('details.refreshes summary').click();
      assert.match(await card.locator('.refresh-list li').first().textContent(), / · upstream 401 · refreshed$/);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.equal(overflow, 0, `no horizontal scroll at ${width} px`);
    }
    await page.locator(`article.connection[data-id="${id}"] [data-action="dismiss-notices"]`).click();
    await page.waitForSelector(`article.connection[data-id="${id}"] .new-place`, { state: 'detached' });
    const { json } = await api('GET', `/api/connections/${id}`);
    assert.deepEqual(json.activity.new_places, []);
    await page.reload();
    assert.equal(await page.locator(`article.connection[data-id="${id}"] .new-place`).count(), 0);

    // Known places are no news: Amsterdam and São Paulo again add nothing.
    assert.equal(await use(AMSTERDAM), 200);
    assert.equal(await use(SAO_PAULO), 200);
    const later = await activityWhen((a) => a.requests_24h >= 9);
    assert.deepEqual(later.new_places, []);
  });

  test('dismissing needs a time, and an unknown connection has no activity', async () => {
    const bad = await api('POST', `/api/connections/${id}/dismiss-notices`, { until: 'yesterday' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error, 'invalid_request');
    const unknown = await api('POST', '/api/connections/nope/dismiss-notices', { until: '2026-01-01T00:00:00Z' });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error, 'not_found');
  });
});

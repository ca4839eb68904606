// The owner's side: ADMIN_TOKEN, the dashboard in headless Chromium, and the management API's
// guard (no token, a wrong token, a cookie from another origin, throttling, no token leaks).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { startOAuthServer } from '../fixtures/oauth-server.mjs';
import { startMcpServer } from '../fixtures/mcp-server.mjs';
import { launchBrowser, loginAndConsent } from '../lib/browser.mjs';
import { startWorker } from '../lib/worker.mjs';
import { connectClient, textOf } from './mcp-clients.mjs';
import { errorCode, newKey, secretOf } from './support.mjs';

describe('dashboard and management API', () => {
  const adminToken = randomBytes(24).toString('base64url');
  let as;
  let mcp;
  let worker;
  let browser;
  let page;
  const bodies = [];

  /** fetch that keeps every management response body, to check none leaks a token. */
  async function api(method, path, { token = adminToken, headers = {}, body } = {}) {
    const response = await fetch(`${worker.url}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
      redirect: 'manual',
    });
    const text = await response.text();
    bodies.push(text);
    return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : null };
  }

  before(async () => {
    as = await startOAuthServer({ accessTokenTTL: 60 });
    mcp = await startMcpServer({ issuer: as.issuer });
    worker = await startWorker({
      vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true', DEMO_SERVER_URL: mcp.url, ADMIN_TOKEN: adminToken },
    });
    browser = await launchBrowser();
    page = await browser.newPage();
  });

  after(async () => {
    await browser?.close();
    await worker?.stop();
    await mcp?.stop();
    await as?.stop();
  });

  test('connecting needs the owner: the browser signs in first, then connects', async () => {
    await page.goto(`${worker.url}/connect/demo`);
    await page.waitForSelector('body[data-page="login"]');
    await page.fill('input[name="token"]', 'not-the-token');
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('#login-error');
    assert.match(await page.textContent('#login-error'), /not this deployment's admin token/);

    await page.fill('input[name="token"]', adminToken);
    await page.click('#login-form button[type="submit"]');
    await loginAndConsent(page);
    await page.waitForSelector('body[data-page="success"]');
    assert.ok(secretOf(await page.textContent('#mcp-url')));
  });

  test('the dashboard lists the connection; label, rotate and revoke work from it', async () => {
    await page.goto(`${worker.url}/manage`);
    await page.waitForSelector('body[data-page="dashboard"]');
    const row = page.locator('#connections tbody tr').first();
    assert.equal(await row.locator('.upstream').textContent(), mcp.url);
    assert.equal(await row.locator('.state').textContent(), 'active');

    await row.locator('input.label').fill('Demo at work');
    await row.locator('input.label').press('Enter');
    await page.waitForFunction(() => document.getElementById('status-line').textContent === 'Label saved.');
    const id = await row.getAttribute('data-id');
    assert.equal((await api('GET', `/api/connections/${id}`)).json.label, 'Demo at work');

    // Connect an MCP client, then rotate: the old URL dies at once, the new one works.
    const before = await api('GET', '/api/connections');
    assert.equal(before.json.connections.length, 1);
    page.once('dialog', (dialog) => dialog.accept());
    await row.locator('[data-action=rotate]').click();
    await page.waitForSelector('#new-urls:not([hidden])');
    const newUrl = await page.textContent('#new-urls #mcp-url');
    const client = await connectClient(newUrl);
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'rotated' } })), 'rotated');
    await client.close();

    page.once('dialog', (dialog) => dialog.accept());
    await row.locator('[data-action=revoke]').click();
    await page.waitForFunction(() => document.getElementById('status-line').textContent === 'Connection revoked.');
    const gone = await fetch(newUrl.replace(/mcp$/, 'status'));
    assert.equal(gone.status, 404);
    assert.equal((await api('GET', '/api/connections')).json.connections.length, 0);
  });

  test('rotate through the API: the old URL gets the shared 404, the new one works', async () => {
    await page.goto(`${worker.url}/connect/demo`);
    await loginAndConsent(page);
    await page.waitForSelector('body[data-page="success"]');
    const oldUrl = await page.textContent('#mcp-url');
    // Used once before the rotation, so the Worker has its index entry cached in memory.
    assert.equal((await fetch(oldUrl.replace(/mcp$/, 'status'))).status, 200);
    const [{ id }] = (await api('GET', '/api/connections')).json.connections;
    const rotated = await api('POST', `/api/connections/${id}/rotate`);
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.json.mcp_url, oldUrl);
    const old = await fetch(oldUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    assert.equal(old.status, 404);
    assert.deepEqual(await old.json(), { error: 'not_found', message: 'Nothing is here.' });
    const client = await connectClient(rotated.json.mcp_url);
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'new' } })), 'new');
    await client.close();

    const reconnect = await api('POST', `/api/connections/${id}/reconnect`);
    assert.equal(reconnect.json.reconnect_url, `${worker.url}/manage/${id}/reconnect`);
    const revoked = await api('DELETE', `/api/connections/${id}`);
    assert.deepEqual(revoked.json, { revoked: true, upstream_revocation: 'revoked' });
    assert.equal((await api('GET', `/api/connections/${id}`)).status, 404);
  });

  test('the API refuses no token, a wrong token and a cookie from another origin', async () => {
    const none = await api('GET', '/api/connections', { token: null });
    assert.equal(none.status, 401);
    assert.equal(none.json.error, 'unauthorized');
    const wrong = await api('GET', '/api/connections', { token: 'wrong' });
    assert.equal(wrong.status, 401);

    const cookies = await page.context().cookies(worker.url);
    const session = cookies.find((c) => c.name === 'bindify_admin');
    assert.ok(session && session.httpOnly && session.sameSite === 'Strict');
    const cookie = `bindify_admin=${session.value}`;
    const sameOrigin = await api('GET', '/api/connections', { token: null, headers: { cookie } });
    assert.equal(sameOrigin.status, 200);
    const foreign = await api('DELETE', '/api/connections/anything', { token: null, headers: { cookie, origin: 'https://evil.example' } });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.json.error, 'forbidden_origin');
    const noOrigin = await api('POST', '/api/connect', { token: null, headers: { cookie }, body: { server: 'demo' } });
    assert.equal(noOrigin.status, 403);
  });

  test('no management response contains a token', () => {
    const issued = as.tokenRequests.flatMap((r) => [r.issued?.access_token, r.issued?.refresh_token]).filter(Boolean);
    assert.ok(issued.length >= 2);
    for (const body of bodies) for (const token of issued) assert.ok(!body.includes(token), 'a token leaked');
  });

  test('repeated wrong tokens are slowed down', async () => {
    // Earlier tests made two wrong attempts from this address; a few more reach the limit.
    let last;
    for (let i = 0; i < 6; i += 1) last = await api('GET', '/api/health', { token: `wrong-${i}` });
    assert.equal(last.status, 429);
    assert.equal(last.json.error, 'too_many_attempts');
    assert.ok(Number(last.headers.get('retry-after')) >= 1);
  });
});

describe('deployed without ADMIN_TOKEN', () => {
  let worker;

  before(async () => {
    worker = await startWorker({ vars: { TOKEN_ENCRYPTION_KEY: newKey() } });
  });

  after(async () => {
    await worker?.stop();
  });

  test('refuses to connect or manage, and says how to set it', async () => {
    const connect = await fetch(`${worker.url}/connect/notion`, { redirect: 'manual' });
    assert.equal(connect.status, 503);
    const html = await connect.text();
    assert.equal(errorCode(html), 'admin_token_missing');
    assert.match(html, /wrangler secret put ADMIN_TOKEN/);
    const api = await fetch(`${worker.url}/api/connections`);
    assert.equal(api.status, 503);
    assert.equal((await api.json()).error, 'admin_token_missing');
  });
});

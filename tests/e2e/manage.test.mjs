// The owner's side: ADMIN_TOKEN, the dashboard in headless Chromium, and the management API's
// guard (no token, a wrong token, a cookie from another origin, throttling, no token leaks),
// where signing in may return to, sign-out, reconnecting, a short ADMIN_TOKEN, and open local
// development only on a loopback host.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
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
  let firstUrl; // the permanent URL of the first connection

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

  // What the authorization server saw of revocations.
  const destroyedRefreshTokens = [];
  const revokedGrants = [];
  const currentRefreshToken = () => as.tokenRequests.filter((r) => r.issued?.refresh_token).at(-1).issued.refresh_token;

  before(async () => {
    as = await startOAuthServer({ accessTokenTTL: 60 });
    as.provider.on('refresh_token.destroyed', (token) => destroyedRefreshTokens.push(token.jti));
    as.provider.on('grant.revoked', (_ctx, grantId) => revokedGrants.push(grantId));
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
    firstUrl = await page.textContent('#mcp-url');
    assert.ok(secretOf(firstUrl));
  });

  test('reconnecting keeps the URL and revokes the grant it replaced', async () => {
    await page.goto(`${worker.url}/manage`);
    const id = await page.locator('article.connection').first().getAttribute('data-id');
    const replaced = as.tokenRequests.filter((r) => r.issued?.refresh_token).at(-1).issued.refresh_token;
    const destroyed = destroyedRefreshTokens.length;
    await page.goto(`${worker.url}/manage/${id}/reconnect`);
    await loginAndConsent(page);
    await page.waitForSelector('body[data-page="reconnected"]');
    assert.equal(await page.getAttribute('#replaced-grant', 'data-outcome'), 'revoked');
    assert.ok(destroyedRefreshTokens.slice(destroyed).includes(replaced), 'the replaced refresh token was revoked at the authorization server');
    const fresh = as.tokenRequests.filter((r) => r.issued?.refresh_token).at(-1).issued.refresh_token;
    assert.notEqual(fresh, replaced);
    assert.ok(!destroyedRefreshTokens.includes(fresh), 'the new grant is untouched');
    assert.equal((await api('GET', `/api/connections/${id}`)).json.state, 'active');
    const client = await connectClient(firstUrl);
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'same URL' } })), 'same URL');
    await client.close();
  });

  test('the dashboard lists the connection; label, rotate and revoke work from it', async () => {
    await page.goto(`${worker.url}/manage`);
    await page.waitForSelector('body[data-page="dashboard"]');
    const card = page.locator('article.connection').first();
    assert.equal(await card.locator('.upstream').textContent(), mcp.url);
    // 60-second tokens always expire within the cron's refresh window.
    assert.equal(await card.locator('.badge').getAttribute('data-state'), 'active');
    assert.equal(await card.locator('.badge').textContent(), 'Refreshing soon');

    await card.locator('.edit-label').click();
    await card.locator('.label-edit input').fill('Demo at work');
    await card.locator('.label-edit input').press('Enter');
    await page.waitForFunction(() => document.querySelector('article.connection .label-feedback').textContent === 'Label saved.');
    const id = await card.getAttribute('data-id');
    assert.equal((await api('GET', `/api/connections/${id}`)).json.label, 'Demo at work');

    // Connect an MCP client, then rotate: the old URL dies at once, the new one works.
    const before = await api('GET', '/api/connections');
    assert.equal(before.json.connections.length, 1);
    await card.locator('[data-action=rotate]').click();
    await page.click('#rotate-dialog button[value=confirm]');
    await page.waitForSelector('#new-urls:not([hidden])');
    const newUrl = await page.textContent('#new-urls #mcp-url');
    const client = await connectClient(newUrl);
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'rotated' } })), 'rotated');
    await client.close();

    // Revoking from the dashboard revokes the grant at the authorization server (RFC 7009): the
    // refresh token and its grant are gone.
    const refreshToken = currentRefreshToken();
    const grants = revokedGrants.length;
    await card.locator('[data-action=revoke]').click();
    await page.click('#revoke-dialog button[value=confirm]');
    await page.waitForFunction(() => document.getElementById('status-line').textContent.startsWith('Revoked'));
    assert.equal(await page.textContent('#status-line'), 'Revoked \u201cDemo at work\u201d. Its tokens were revoked at the authorization server.');
    assert.ok(destroyedRefreshTokens.includes(refreshToken), 'the refresh token was revoked at the authorization server');
    assert.equal(revokedGrants.length, grants + 1, 'the grant was revoked at the authorization server');
    assert.equal(await page.isVisible('#no-connections'), true);
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
    const refreshToken = currentRefreshToken();
    const grants = revokedGrants.length;
    const revoked = await api('DELETE', `/api/connections/${id}`);
    assert.deepEqual(revoked.json, { revoked: true, upstream_revocation: 'revoked' });
    assert.ok(destroyedRefreshTokens.includes(refreshToken), 'the refresh token was revoked at the authorization server');
    assert.equal(revokedGrants.length, grants + 1, 'the grant was revoked at the authorization server');
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

  test('signing in returns only to Bindify pages; a custom server still needs confirming', async () => {
    const signIn = (next) => fetch(`${worker.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: adminToken, next }).toString(),
    });
    for (const hostile of ['/\t/evil.example', '//evil.example', '/\\evil.example', 'https://evil.example/', '/api/connections', '/s/x/reconnect']) {
      const response = await signIn(hostile);
      assert.equal(response.status, 302, hostile);
      assert.equal(response.headers.get('location'), '/manage', JSON.stringify(hostile));
    }
    // The encoded form from a link: /login?next=/%09/evil.example
    const form = await (await fetch(`${worker.url}/login?next=/%09/evil.example`)).text();
    assert.match(form, /<input type="hidden" name="next" value="\/manage">/);

    // A sign-in that returns to connect an arbitrary server lands on the confirmation page.
    const attacker = `${mcp.url}?from=attacker`;
    const response = await signIn(`/connect?server=${encodeURIComponent(attacker)}`);
    assert.equal(response.status, 302);
    const location = response.headers.get('location');
    assert.equal(location, `/connect?server=${encodeURIComponent(attacker)}`);
    const cookie = response.headers.get('set-cookie').split(';')[0];
    const seen = [as.registrations.length, as.authorizationRequests.length];
    const landed = await fetch(`${worker.url}${location}`, { redirect: 'manual', headers: { cookie } });
    assert.equal(landed.status, 200);
    assert.match(await landed.text(), /data-page="confirm"/);
    assert.deepEqual([as.registrations.length, as.authorizationRequests.length], seen, 'no flow started');
  });

  test('an oversized sign-in form is refused unread', async () => {
    const big = new URLSearchParams({ token: adminToken, next: '/manage', pad: 'x'.repeat(10_000) }).toString();
    const declared = await fetch(`${worker.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: big,
    });
    // Streamed without a length: the read stops once the limit is passed.
    const chunks = [big.slice(0, 3000), big.slice(3000)];
    const streamed = await fetch(`${worker.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new ReadableStream({
        pull(controller) {
          const chunk = chunks.shift();
          if (chunk) controller.enqueue(new TextEncoder().encode(chunk));
          else controller.close();
        },
      }),
      duplex: 'half',
    });
    for (const response of [declared, streamed]) {
      assert.equal(response.status, 413);
      assert.equal(response.headers.get('set-cookie'), null);
      assert.match(await response.text(), /too large to be a sign-in/);
    }
  });

  test('sign-out needs the Worker\'s own origin', async () => {
    const cookie = `bindify_admin=${(await page.context().cookies(worker.url)).find((c) => c.name === 'bindify_admin').value}`;
    for (const headers of [{}, { origin: 'https://evil.example' }, { origin: 'null' }]) {
      const refused = await fetch(`${worker.url}/logout`, { method: 'POST', headers: { cookie, ...headers } });
      assert.equal(refused.status, 403, JSON.stringify(headers));
      assert.equal((await refused.json()).error, 'forbidden_origin');
      assert.equal(refused.headers.get('set-cookie'), null);
    }
    // The dashboard's own Sign out works and ends the session in the browser.
    await page.goto(`${worker.url}/manage`);
    await page.click('#logout');
    await page.waitForSelector('body[data-page="login"]');
    assert.equal((await page.context().cookies(worker.url)).find((c) => c.name === 'bindify_admin'), undefined);
    await page.goto(`${worker.url}/manage`);
    await page.waitForSelector('body[data-page="login"]');
    await page.fill('input[name="token"]', adminToken);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('body[data-page="dashboard"]');
  });

  test('no management response contains a token', () => {
    const issued = as.tokenRequests.flatMap((r) => [r.issued?.access_token, r.issued?.refresh_token]).filter(Boolean);
    assert.ok(issued.length >= 2);
    for (const body of bodies) for (const token of issued) assert.ok(!body.includes(token), 'a token leaked');
  });

  test('repeated wrong tokens are slowed down, and the right one still gets in', async () => {
    // Earlier tests sent two wrong tokens from this address; a few more reach the limit.
    let last;
    for (let i = 0; i < 6; i += 1) last = await api('GET', '/api/health', { token: `wrong-${i}` });
    assert.equal(last.status, 429);
    assert.equal(last.json.error, 'too_many_attempts');
    assert.ok(Number(last.headers.get('retry-after')) >= 1);
    // The owner is never locked out: the right token is checked before the throttle.
    assert.equal((await api('GET', '/api/health')).status, 200);
  });
});

describe('a short ADMIN_TOKEN', () => {
  let worker;
  const shortToken = randomBytes(15).toString('base64url'); // 20 bytes

  before(async () => {
    worker = await startWorker({ vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true', ADMIN_TOKEN: shortToken } });
  });

  after(async () => {
    await worker?.stop();
  });

  test('is refused everywhere, with a page that says how to make a good one', async () => {
    for (const path of ['/manage', '/connect/notion', '/login']) {
      const response = await fetch(`${worker.url}${path}`, { redirect: 'manual' });
      assert.equal(response.status, 503, path);
      const html = await response.text();
      assert.equal(errorCode(html), 'admin_token_weak', path);
      assert.match(html, /ADMIN_TOKEN has 20 bytes; it needs at least 32/);
      assert.match(html, /openssl rand -base64 32 \| npx wrangler secret put ADMIN_TOKEN/);
    }
    const login = await fetch(`${worker.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: shortToken }).toString(),
    });
    assert.equal(login.status, 503);
    assert.equal(login.headers.get('set-cookie'), null);
    const apiCall = await fetch(`${worker.url}/api/connections`, { headers: { authorization: `Bearer ${shortToken}` } });
    assert.equal(apiCall.status, 503);
    const body = await apiCall.json();
    assert.equal(body.error, 'admin_token_weak');
    assert.match(body.message, /openssl rand -base64 32/);
  });
});

describe('local development without ADMIN_TOKEN', () => {
  let worker;

  before(async () => {
    worker = await startWorker({ vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true' } });
  });

  after(async () => {
    await worker?.stop();
  });

  /** GET `path` with the Host header set to `host` (fetch cannot set Host). */
  function getWithHost(path, host) {
    return new Promise((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port: worker.port, path, headers: { host } }, (response) => {
        let body = '';
        response.on('data', (chunk) => { body += chunk; });
        response.on('end', () => resolve({ status: response.statusCode, body }));
      });
      request.on('error', reject);
      request.end();
    });
  }

  test('is open only to requests addressed to a loopback host', async () => {
    for (const host of [`127.0.0.1:${worker.port}`, `localhost:${worker.port}`, `[::1]:${worker.port}`]) {
      const open = await getWithHost('/manage', host);
      assert.equal(open.status, 200, host);
      assert.match(open.body, /id="open-notice"/);
    }
    // Any other host name is refused before routing (a name that resolves to the loopback
    // address is how DNS rebinding reaches a local Worker), so open mode never reaches it.
    for (const host of ['bindify.example.workers.dev', 'localhost.evil.example', '10.0.0.2']) {
      for (const path of ['/manage', '/api/connections']) {
        const refused = await getWithHost(path, host);
        assert.equal(refused.status, 403, `${host}${path}`);
        assert.equal(JSON.parse(refused.body).error, 'forbidden_host');
      }
    }
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

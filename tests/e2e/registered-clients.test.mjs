// Clients the owner registered by hand, for servers without dynamic registration (GitHub,
// Asana): oidc-provider with registration turned off and the client added as an operator would,
// the demo MCP server behind it, the Worker in workerd, the owner in headless Chromium and with
// the `bindify` CLI. The client is entered on the error page where the need shows up, on the
// dashboard, or with `bindify connect --client-id --client-secret-stdin`, and kept sealed per
// issuer. Also: the client credentials grant, asked again when its token expires, and the
// GitHub preset, shown once its authorization server has a client.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { startMcpServer } from '../fixtures/mcp-server.mjs';
import { startOAuthServer } from '../fixtures/oauth-server.mjs';
import { launchBrowser, loginAndConsent } from '../lib/browser.mjs';
import { filesContaining } from '../lib/kv.mjs';
import { getFreePort } from '../lib/ports.mjs';
import { startWorker } from '../lib/worker.mjs';
import { runBindify } from './bindify-cli.mjs';
import { connectClient, textOf } from './mcp-clients.mjs';
import { kvKeys, newKey, secretOf } from './support.mjs';

const CLIENT_ID = 'owner-registered-app';
const CLIENT_SECRET = `app-secret-${randomBytes(12).toString('hex')}`;
const MACHINE_ID = 'machine-client';
const MACHINE_SECRET = `machine-secret-${randomBytes(12).toString('hex')}`;

describe('clients the owner registered', () => {
  const adminToken = randomBytes(24).toString('base64url');
  let as;
  let mcp;
  let worker;
  let browser;
  let page;

  async function api(method, path, body) {
    const response = await fetch(`${worker.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    assert.ok(!text.includes(CLIENT_SECRET) && !text.includes(MACHINE_SECRET), `no secret in ${path}`);
    return { status: response.status, json: text ? JSON.parse(text) : null };
  }

  async function signIn() {
    await page.goto(`${worker.url}/manage`);
    if (await page.$('body[data-page="login"]')) {
      await page.fill('input[name="token"]', adminToken);
      await page.click('#login-form button[type="submit"]');
      await page.waitForSelector('body[data-page="dashboard"]');
    }
  }

  /** Pastes the server URL on the landing page and confirms it. */
  async function pasteServer() {
    await page.goto(`${worker.url}/`);
    await page.fill('#connect-form input[name="server"]', mcp.url);
    await page.click('#connect-form button[type="submit"]');
    await page.waitForSelector('body[data-page="confirm"]');
    await page.click('#confirm-form button[type="submit"]');
  }

  before(async () => {
    const port = await getFreePort();
    const callback = `http://127.0.0.1:${port}/oauth/callback`;
    as = await startOAuthServer({ registration: false, clientCredentials: true, accessTokenTTL: 5 });
    await as.preRegister({
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [callback],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    });
    await as.preRegister({
      client_id: MACHINE_ID,
      client_secret: MACHINE_SECRET,
      redirect_uris: [],
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    mcp = await startMcpServer({ issuer: as.issuer });
    worker = await startWorker({
      port,
      vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true', ADMIN_TOKEN: adminToken },
    });
    browser = await launchBrowser();
    page = await browser.newPage();
    await signIn();
  });

  after(async () => {
    await browser?.close();
    await worker?.stop();
    await mcp?.stop();
    await as?.stop();
  });

  test('a server without dynamic registration asks for the client on its error page', async () => {
    await pasteServer();
    await page.waitForSelector('body[data-page="error:registration_unsupported"]');
    assert.equal(await page.textContent('#redirect-uri'), `${worker.url}/oauth/callback`);
    assert.equal(await page.textContent('#error-code'), 'registration_unsupported');
    await page.fill('#client-form input[name="client_id"]', CLIENT_ID);
    await page.fill('#client-form input[name="client_secret"]', CLIENT_SECRET);
    await page.click('#client-form button[type="submit"]');
    await loginAndConsent(page);
    await page.waitForSelector('body[data-page="success"]');
    const url = await page.textContent('#mcp-url');
    assert.ok(secretOf(url));
    // The authorization and the code exchange used the entered client and its secret.
    assert.equal(as.authorizationRequests.at(-1).client_id, CLIENT_ID);
    const exchange = as.tokenRequests.at(-1);
    assert.deepEqual([exchange.grant_type, exchange.client_id, exchange.status], ['authorization_code', CLIENT_ID, 200]);
    assert.equal(as.registrations.length, 0, 'nothing was registered');
    assert.deepEqual(filesContaining(worker.persistDir, CLIENT_SECRET), [], 'the secret is stored only sealed');
    assert.equal(kvKeys(worker.persistDir).filter((k) => k.startsWith('owner-client:')).length, 1);
    const client = await connectClient(url);
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'registered' } })), 'registered');
    await client.close();
  });

  test('the next connection to that server uses the entered client at once', async () => {
    await pasteServer();
    await loginAndConsent(page);
    await page.waitForSelector('body[data-page="success"]');
    assert.equal(as.authorizationRequests.at(-1).client_id, CLIENT_ID);
  });

  test('the dashboard lists it, forgets it, and takes a client entered there', async () => {
    await page.goto(`${worker.url}/manage`);
    const item = page.locator(`#client-list li[data-issuer="${as.issuer}"]`);
    assert.equal(await item.locator('code.client-id').textContent(), CLIENT_ID);
    assert.equal(await page.textContent('#dashboard-redirect-uri'), `${worker.url}/oauth/callback`);
    await item.locator('[data-action="forget-client"]').click();
    await page.waitForFunction(() => /Forgot the client/.test(document.getElementById('client-feedback').textContent));
    assert.deepEqual((await api('GET', '/api/clients')).json, { clients: [] });

    await page.fill('#client-add input[name="server"]', mcp.url);
    await page.fill('#client-add input[name="client_id"]', CLIENT_ID);
    await page.fill('#client-add input[name="client_secret"]', CLIENT_SECRET);
    await page.click('#client-add button[type="submit"]');
    await page.waitForSelector(`#client-list li[data-issuer="${as.issuer}"]`);
    assert.deepEqual((await api('GET', '/api/clients')).json, {
      clients: [{ issuer: as.issuer, client_id: CLIENT_ID }],
    });
  });

  test('bindify connect --client-id --client-secret-stdin saves the client before the browser flow', async () => {
    assert.equal((await api('DELETE', '/api/clients', { issuer: as.issuer })).status, 200);
    assert.equal((await api('DELETE', '/api/clients', { issuer: as.issuer })).status, 404);
    let opened = false;
    const run = await runBindify(['connect', mcp.url, '--client-id', CLIENT_ID, '--client-secret-stdin', '--timeout', '60'], {
      workerUrl: worker.url,
      adminToken,
      input: `${CLIENT_SECRET}\n`,
      onStderr: (stderr) => {
        const link = /Open this link to authorize: (\S+)/.exec(stderr)?.[1];
        if (link && !opened) {
          opened = true;
          page.goto(link).then(() => loginAndConsent(page)).catch((err) => console.error('browser step failed:', err));
        }
      },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`Saved the client ${CLIENT_ID} for ${as.issuer.replaceAll('.', '\\.')}: every connection there uses it\\.`));
    assert.ok(secretOf(/Your permanent MCP URL: (\S+)/.exec(run.stdout)?.[1]));
    assert.equal(as.authorizationRequests.at(-1).client_id, CLIENT_ID);
    assert.ok(!run.stdout.includes(CLIENT_SECRET) && !run.stderr.includes(CLIENT_SECRET));
  });

  test('client credentials connect without a browser and are asked again when the token expires', async () => {
    const run = await runBindify(['connect', mcp.url, '--client-id', MACHINE_ID, '--client-secret-stdin', '--client-credentials'], {
      workerUrl: worker.url,
      adminToken,
      input: MACHINE_SECRET,
    });
    assert.equal(run.code, 0, run.stderr);
    const url = /Your permanent MCP URL: (\S+)/.exec(run.stdout)?.[1];
    const grants = () => as.tokenRequests.filter((r) => r.grant_type === 'client_credentials' && r.status === 200);
    assert.equal(grants().length, 1);
    assert.equal(grants()[0].client_id, MACHINE_ID);
    const status = async () => (await fetch(url.replace(/mcp$/, 'status'))).json();
    const first = await status();
    assert.equal(first.kind, 'client_credentials');
    assert.equal(first.refreshable, true);
    let client = await connectClient(url);
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'machine' } })), 'machine');
    await client.close();
    // Once the 5-second token has expired, the next request gets a new one the same way.
    const expiry = Date.parse(first.access_token_expires_at);
    while (Date.now() < expiry) await new Promise((resolve) => setTimeout(resolve, 250));
    client = await connectClient(url);
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'again' } })), 'again');
    await client.close();
    assert.equal(grants().length, 2);
    assert.ok(as.tokenRequests.every((r) => r.grant_type !== 'refresh_token' || r.client_id !== MACHINE_ID));
    assert.notEqual((await status()).access_token_expires_at, first.access_token_expires_at);
  });
});

describe('GitHub and Asana presets', () => {
  test('appear only once their authorization server has a client', async () => {
    const plain = await startWorker({ vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true' } });
    const withGithub = await startWorker({
      vars: {
        TOKEN_ENCRYPTION_KEY: newKey(),
        ALLOW_LOOPBACK_HTTP: 'true',
        OAUTH_CLIENTS: JSON.stringify({ 'https://github.com/login/oauth': { client_id: 'Iv1.x', client_secret: 's' } }),
      },
    });
    try {
      const slugs = async (worker) => [...(await (await fetch(`${worker.url}/`)).text()).matchAll(/data-preset="([a-z]+)"/g)].map((m) => m[1]);
      assert.deepEqual(await slugs(plain), ['notion', 'linear', 'sentry']);
      assert.deepEqual(await slugs(withGithub), ['notion', 'linear', 'sentry', 'github']);
    } finally {
      await plain.stop();
      await withGithub.stop();
    }
  });
});

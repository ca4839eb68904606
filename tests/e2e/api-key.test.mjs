// Connections with an API key, or with no credential at all: a server built on the official MCP
// SDK behind a header check (tests/fixtures/api-key-server.mjs), the Worker in workerd with
// ADMIN_TOKEN set, the owner in headless Chromium and with the `bindify` CLI. The key goes
// upstream in its header in place of a bearer token, is stored only sealed, and the permanent
// URL, status, the dashboard, reconnecting (a new key), rotation and revocation work as for an
// OAuth connection.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { startApiKeyServer } from '../fixtures/api-key-server.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { filesContaining } from '../lib/kv.mjs';
import { startWorker } from '../lib/worker.mjs';
import { runBindify } from './bindify-cli.mjs';
import { connectClient, textOf } from './mcp-clients.mjs';
import { connectionKeys, errorCode, newKey, secretOf } from './support.mjs';

const KEY = `sk-live-${randomBytes(12).toString('hex')}`;

describe('connections with an API key or none', () => {
  const adminToken = randomBytes(24).toString('base64url');
  let keyed;
  let open;
  let worker;
  let browser;
  let page;
  let mcpUrl;
  let id;

  async function api(method, path, body) {
    const response = await fetch(`${worker.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    assert.ok(!text.includes(KEY), `the API never shows the key: ${path}`);
    return { status: response.status, json: text ? JSON.parse(text) : null };
  }

  /** The key form for `server`, signed in: from the landing page's second form. */
  async function keyForm(server) {
    await page.goto(`${worker.url}/`);
    await page.fill('#api-key-start input[name="server"]', server);
    await page.click('#api-key-start button[type="submit"]');
    await page.waitForSelector('body[data-page="api-key"], body[data-page="login"]');
    if (await page.$('body[data-page="login"]')) {
      await page.fill('input[name="token"]', adminToken);
      await page.click('#login-form button[type="submit"]');
      await page.waitForSelector('body[data-page="api-key"]');
    }
  }

  async function submitKey(header, value) {
    await page.fill('input[name="header_name"]', header);
    await page.fill('input[name="api_key"]', value);
    await page.click('#api-key-form button[type="submit"]');
    await page.waitForLoadState('load');
  }

  before(async () => {
    keyed = await startApiKeyServer({ header: 'X-API-Key', key: KEY });
    open = await startApiKeyServer({ key: null });
    worker = await startWorker({
      vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true', ADMIN_TOKEN: adminToken },
    });
    browser = await launchBrowser();
    page = await browser.newPage();
  });

  after(async () => {
    await browser?.close();
    await worker?.stop();
    await keyed?.stop();
    await open?.stop();
  });

  test('the landing page offers it; a key the server takes becomes a permanent URL', async () => {
    await keyForm(keyed.url);
    assert.equal(await page.textContent('#key-host'), new URL(keyed.url).host);
    assert.equal(await page.inputValue('input[name="header_name"]'), 'Authorization');
    await submitKey('X-API-Key', KEY);
    await page.waitForSelector('body[data-page="success"]');
    mcpUrl = await page.textContent('#mcp-url');
    assert.ok(secretOf(mcpUrl));
    // Bindify checked the key before storing anything.
    assert.equal(keyed.requests.at(-1).key, KEY);
    assert.deepEqual(filesContaining(worker.persistDir, KEY), [], 'the key is stored only sealed');
  });

  test('the key goes upstream in its header, never a bearer token or the client\'s own', async () => {
    const seen = keyed.requests.length;
    const client = await connectClient(mcpUrl);
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'keyed' } })), 'keyed');
    await client.close();
    // A client that sends a key and a token of its own: the upstream gets the stored key only.
    const raw = await fetch(mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'x-api-key': 'the-clients-own',
        authorization: 'Bearer the-clients-own',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
    });
    assert.equal(raw.status, 200);
    await raw.arrayBuffer();
    const used = keyed.requests.slice(seen);
    assert.ok(used.length >= 3);
    for (const request of used) {
      assert.equal(request.key, KEY);
      assert.equal(request.authorization, null);
      assert.equal(request.status === 401, false);
    }
  });

  test('status, the API and the dashboard name the kind; nothing expires', async () => {
    const status = await (await fetch(mcpUrl.replace(/mcp$/, 'status'))).json();
    assert.equal(status.kind, 'api_key');
    assert.equal(status.state, 'active');
    assert.equal(status.refreshable, false);
    assert.equal(status.access_token_expires_at, null);
    assert.equal(status.grant_expires_at, null);
    const listed = (await api('GET', '/api/connections')).json.connections;
    assert.equal(listed.length, 1);
    id = listed[0].id;
    assert.equal(listed[0].kind, 'api_key');
    await page.goto(`${worker.url}/manage`);
    const card = page.locator(`article.connection[data-id="${id}"]`);
    assert.equal(await card.locator('dd.kind').getAttribute('data-kind'), 'api_key');
    assert.equal(await card.locator('dd.kind').textContent(), 'API key');
    assert.match(await card.locator('.next-step').textContent(), /Bindify sends the API key on every request/);
    assert.equal(await card.locator('dd.expires').count(), 0);
  });

  test('a key the service replaced is named; a new one entered at the reconnect link restores the same URL', async () => {
    const NEW_KEY = `${KEY}-2`;
    keyed.setKey(NEW_KEY);
    const response = await fetch(mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
    });
    assert.equal(response.status, 200);
    const error = (await response.json()).error;
    const link = `${worker.url}/manage/${id}/reconnect`;
    assert.equal(error.code, -32006);
    assert.equal(
      error.message,
      `Bindify: the MCP server ${keyed.url} refused the API key. If it was revoked or replaced, the owner can enter the new one at ${link}; this URL keeps working afterwards.`,
    );
    assert.deepEqual(error.data, { upstream: keyed.url, reconnect_url: link, source: 'upstream_server' });
    assert.equal((await (await fetch(mcpUrl.replace(/mcp$/, 'status'))).json()).state, 'active', 'not marked as lost');

    await page.goto(link);
    await page.waitForSelector('body[data-page="api-key"]');
    assert.equal(await page.inputValue('input[name="header_name"]'), 'X-API-Key');
    assert.equal(await page.getAttribute('input[name="reconnect"]', 'value'), id);
    await submitKey('X-API-Key', NEW_KEY);
    await page.waitForSelector('body[data-page="reconnected"]');
    const client = await connectClient(mcpUrl);
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'again' } })), 'again');
    await client.close();
    assert.equal(keyed.requests.at(-1).key, NEW_KEY);
    assert.deepEqual(filesContaining(worker.persistDir, NEW_KEY), []);
    keyed.setKey(KEY);
    await page.goto(link);
    await submitKey('X-API-Key', KEY);
    await page.waitForSelector('body[data-page="reconnected"]');
  });

  test('rotation gives a new URL; revocation ends it (nothing to revoke upstream)', async () => {
    const rotated = await api('POST', `/api/connections/${id}/rotate`);
    assert.equal(rotated.status, 200);
    const old = await fetch(mcpUrl.replace(/mcp$/, 'status'));
    assert.equal(old.status, 404);
    const client = await connectClient(rotated.json.mcp_url);
    assert.equal(textOf(await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })), '5');
    await client.close();
    const revoked = await api('DELETE', `/api/connections/${id}`);
    assert.deepEqual(revoked.json, { revoked: true, upstream_revocation: 'unsupported' });
    assert.equal((await fetch(rotated.json.mcp_url.replace(/mcp$/, 'status'))).status, 404);
  });

  test('a wrong key, a header Bindify must not send, and no key for a server that wants one store nothing', async () => {
    const before = connectionKeys(worker.persistDir);
    await keyForm(keyed.url);
    await submitKey('X-API-Key', 'not-the-key');
    assert.equal(errorCode(await page.content()), 'api_key_refused');
    assert.equal(await page.textContent('#error-detail'), 'the MCP server refused the API key (HTTP 401)');

    await keyForm(keyed.url);
    await submitKey('Host', KEY);
    assert.equal(errorCode(await page.content()), 'credentials_invalid');
    assert.equal(
      await page.textContent('#error-detail'),
      'Bindify cannot send the header "Host": it is set by HTTP, the MCP transport or a proxy',
    );

    await keyForm(keyed.url);
    await submitKey('X-API-Key', '');
    assert.equal(errorCode(await page.content()), 'authorization_required');
    assert.deepEqual(connectionKeys(worker.persistDir), before);
  });

  test('a post without the form\'s confirmation is refused', async () => {
    const response = await fetch(`${worker.url}/connect/key`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: (await page.context().cookies(worker.url)).map((c) => `${c.name}=${c.value}`).join('; ') },
      body: new URLSearchParams({ server: keyed.url, header_name: 'X-API-Key', api_key: KEY, confirm: 'forged' }).toString(),
    });
    assert.equal(response.status, 403);
    assert.equal(errorCode(await response.text()), 'confirmation_invalid');
  });

  test('an open server is connected with no key, and sends none', async () => {
    await keyForm(open.url);
    await submitKey('Authorization', '');
    await page.waitForSelector('body[data-page="success"]');
    const url = await page.textContent('#mcp-url');
    const seen = open.requests.length;
    const client = await connectClient(url);
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'open' } })), 'open');
    await client.close();
    for (const request of open.requests.slice(seen)) {
      assert.equal(request.key, null);
      assert.equal(request.authorization, null);
    }
    assert.equal((await (await fetch(url.replace(/mcp$/, 'status'))).json()).kind, 'open');
  });

  test('bindify connect --api-key-stdin connects without a browser', async () => {
    const run = await runBindify(['connect', keyed.url, '--api-key-stdin', '--header', 'X-API-Key'], {
      workerUrl: worker.url,
      adminToken,
      input: `${KEY}\n`,
    });
    assert.equal(run.code, 0, run.stderr);
    const url = /Your permanent MCP URL: (\S+)/.exec(run.stdout)?.[1];
    assert.ok(secretOf(url), run.stdout);
    const client = await connectClient(url);
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'cli' } })), 'cli');
    await client.close();
    const status = await runBindify(['status', new URL(keyed.url).host], { workerUrl: worker.url, adminToken });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^Kind: +API key$/m);
    assert.ok(!status.stdout.includes(KEY) && !run.stdout.includes(KEY) && !run.stderr.includes(KEY));

    const refused = await runBindify(['connect', keyed.url, '--api-key-stdin', '--header', 'X-API-Key'], {
      workerUrl: worker.url,
      adminToken,
      input: 'wrong',
    });
    assert.equal(refused.code, 2);
    assert.equal(
      refused.stderr.trim(),
      `error: the Worker cannot connect ${keyed.url} this way (api_key_refused): the MCP server refused the API key (HTTP 401). Nothing was stored. Check the key and the header it goes in, then try again`,
    );
  });
});

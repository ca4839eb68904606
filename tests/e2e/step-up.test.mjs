// Scope step-up through every path: the demo MCP server (the SDK's Streamable HTTP and HTTP+SSE
// transports) behind oidc-provider, answering `403` with `WWW-Authenticate: Bearer
// error="insufficient_scope"` while a test says so, the Worker in workerd, the owner in headless
// Chromium, and SDK clients on the permanent `/mcp` and `/sse` URLs (the second bridged to the
// Streamable upstream), plus a Streamable client bridged to an SSE-only upstream. The client
// gets an error with the owner's reconnect link, the reconnect asks for the stored scopes and
// the same URLs work again; the third authorization for the same scopes is the last.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { RESOURCE_SCOPE } from '../fixtures/constants.mjs';
import { startMcpServer } from '../fixtures/mcp-server.mjs';
import { startOAuthServer } from '../fixtures/oauth-server.mjs';
import { launchBrowser, loginAndConsent } from '../lib/browser.mjs';
import { startWorker } from '../lib/worker.mjs';
import { connectClient, textOf } from './mcp-clients.mjs';
import { newKey } from './support.mjs';

describe('scope step-up', () => {
  const adminToken = randomBytes(24).toString('base64url');
  let as;
  let mcp;
  let sseOnly;
  let worker;
  let browser;
  let page;
  let urls;
  let bridged;
  // While true, the upstreams answer every request that carries a token with insufficient_scope.
  let refusing = false;
  let refused = 0;

  function intercept(origin) {
    return async (req, res) => {
      if (!refusing || !/^Bearer /i.test(req.headers.authorization ?? '')) return false;
      refused += 1;
      res.writeHead(403, {
        'content-type': 'application/json',
        'www-authenticate': `Bearer error="insufficient_scope", scope="${RESOURCE_SCOPE} offline_access", resource_metadata="${origin()}/.well-known/oauth-protected-resource/mcp"`,
      });
      res.end(JSON.stringify({ error: 'insufficient_scope', error_description: 'this request needs more scopes' }));
      return true;
    };
  }

  /** Connects `how` ({preset} or {serverUrl}) in the browser; the URLs the success page shows. */
  async function connect(how) {
    await page.goto(`${worker.url}/`);
    if (how.preset) {
      await page.click(`a[data-preset="${how.preset}"]`);
    } else {
      await page.fill('#connect-form input[name="server"]', how.serverUrl);
      await page.click('#connect-form button[type="submit"]');
      await page.waitForSelector('body[data-page="confirm"]');
      await page.click('#confirm-form button[type="submit"]');
    }
    await loginAndConsent(page);
    await page.waitForSelector('body[data-page="success"]');
    return { mcp: await page.textContent('#mcp-url'), sse: await page.textContent('#sse-url') };
  }

  /** What an SDK client meets connecting to `url` (of `kind`): the error it rejects with. */
  async function refusal(url, kind) {
    try {
      const client = await connectClient(url, { kind });
      await client.close();
    } catch (error) {
      return error;
    }
    assert.fail(`${kind} connected although the upstream refuses`);
  }

  async function works(url, kind) {
    const client = await connectClient(url, { kind });
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: kind } })), kind);
    await client.close();
  }

  before(async () => {
    as = await startOAuthServer({ accessTokenTTL: 3600 });
    let mcpOrigin = '';
    let sseOrigin = '';
    mcp = await startMcpServer({ issuer: as.issuer, intercept: intercept(() => mcpOrigin) });
    mcpOrigin = new URL(mcp.url).origin;
    sseOnly = await startMcpServer({ issuer: as.issuer, transports: ['sse'], intercept: intercept(() => sseOrigin) });
    sseOrigin = new URL(sseOnly.sseUrl).origin;
    worker = await startWorker({
      vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true', DEMO_SERVER_URL: mcp.url, ADMIN_TOKEN: adminToken },
    });
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.goto(`${worker.url}/manage`);
    await page.fill('input[name="token"]', adminToken);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('body[data-page="dashboard"]');
    urls = await connect({ preset: 'demo' });
    bridged = await connect({ serverUrl: sseOnly.sseUrl });
  });

  after(async () => {
    await browser?.close();
    await worker?.stop();
    await sseOnly?.stop();
    await mcp?.stop();
    await as?.stop();
  });

  test('an insufficient_scope answer reaches the client as an error with the reconnect link, on /mcp and /sse', async () => {
    const id = (await (await fetch(urls.mcp.replace(/mcp$/, 'status'))).json()).id;
    const link = `${worker.url}/manage/${id}/reconnect`;
    refusing = true;
    for (const kind of ['streamable', 'sse']) {
      const error = await refusal(kind === 'sse' ? urls.sse : urls.mcp, kind);
      assert.equal(error.code, -32009, `${kind}: ${error.message}`);
      assert.match(
        error.message,
        new RegExp(`Bindify: the MCP server ${mcp.url.replaceAll('.', '\\.')} needs more access for this request \\(scopes: ${RESOURCE_SCOPE} offline_access\\)\\. The owner can authorize the connection again with these scopes at ${link.replaceAll('.', '\\.')}; this URL keeps working afterwards\\.`),
      );
      assert.deepEqual(error.data, {
        upstream: mcp.url,
        scopes: [RESOURCE_SCOPE, 'offline_access'],
        reconnect_url: link,
        state: 'insufficient_scope',
        source: 'upstream_server',
      });
      assert.ok(!JSON.stringify(error.data).includes('/s/'), 'no URL secret');
    }
  });

  test('the reconnect asks for the stored union and the same URLs work again', async () => {
    const id = (await (await fetch(urls.mcp.replace(/mcp$/, 'status'))).json()).id;
    await page.goto(`${worker.url}/manage/${id}/reconnect`);
    await loginAndConsent(page);
    await page.waitForSelector('body[data-page="reconnected"]');
    assert.equal(as.authorizationRequests.at(-1).scope, `${RESOURCE_SCOPE} offline_access`);
    refusing = false;
    await works(urls.mcp, 'streamable');
    await works(urls.sse, 'sse');
  });

  test('a Streamable client bridged to an SSE-only upstream gets the same error', async () => {
    refusing = true;
    const error = await refusal(bridged.mcp, 'streamable');
    assert.equal(error.code, -32009, error.message);
    assert.equal(error.data.upstream, sseOnly.sseUrl);
    assert.equal(error.data.state, 'insufficient_scope');
    refusing = false;
  });

  test('the third authorization for the same scopes is the last: then the error has no link', async () => {
    const id = (await (await fetch(urls.mcp.replace(/mcp$/, 'status'))).json()).id;
    refusing = true;
    // The reconnect above asked for a new scope, so it was the first for these scopes: two more
    // are offered, then none.
    for (let round = 0; round < 2; round += 1) {
      assert.equal((await refusal(urls.mcp, 'streamable')).data.state, 'insufficient_scope', `round ${round}`);
      await page.goto(`${worker.url}/manage/${id}/reconnect`);
      await loginAndConsent(page);
      await page.waitForSelector('body[data-page="reconnected"]');
      assert.equal(as.authorizationRequests.at(-1).scope, `${RESOURCE_SCOPE} offline_access`);
    }
    const error = await refusal(urls.mcp, 'streamable');
    assert.equal(error.code, -32009);
    assert.match(
      error.message,
      new RegExp(`keeps refusing this request for lack of the scopes ${RESOURCE_SCOPE} offline_access, although they were authorized 3 times in a row\\. Authorizing again will not help: the server's operator must grant them\\.`),
    );
    assert.deepEqual(error.data, {
      upstream: mcp.url,
      scopes: [RESOURCE_SCOPE, 'offline_access'],
      state: 'insufficient_scope_exhausted',
      source: 'upstream_server',
    });
    assert.ok(refused > 0);
    refusing = false;
    await works(urls.mcp, 'streamable');
  });
});

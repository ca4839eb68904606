// The connect flow end to end: Bindify in workerd, a real OAuth server (oidc-provider), an MCP
// server from the official SDK that accepts only that server's tokens, and headless Chromium.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import { startOAuthServer } from '../fixtures/oauth-server.mjs';
import { startMcpServer } from '../fixtures/mcp-server.mjs';
import { launchBrowser, loginAndConsent } from '../lib/browser.mjs';
import { findExposed } from '../lib/kv.mjs';
import { getFreePort } from '../lib/ports.mjs';
import { startWorker } from '../lib/worker.mjs';
import {
  authorizeAt, callback, confirmConnect, connectInBrowser, connectionKeys, errorCode, kvKeys, newKey, secretOf, startFlow,
} from './support.mjs';

describe('connect flow', () => {
  let as;
  // Code exchanges only: tokens live 5 s here, so the connections made so far keep refreshing
  // on their alarms while a test runs.
  const codeExchanges = () => as.tokenRequests.filter((r) => r.grant_type === 'authorization_code').length;
  let mcp;
  let worker;
  let browser;

  before(async () => {
    as = await startOAuthServer({ accessTokenTTL: 5 });
    mcp = await startMcpServer({ issuer: as.issuer });
    worker = await startWorker({
      vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true', DEMO_SERVER_URL: mcp.url },
    });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await worker?.stop();
    await mcp?.stop();
    await as?.stop();
  });

  test('the landing page lists Notion, the demo service and a URL form', async () => {
    const response = await fetch(`${worker.url}/`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^text\/html/);
    assert.match(response.headers.get('content-security-policy'), /frame-ancestors 'none'/);
    const html = await response.text();
    assert.match(html, /href="\/connect\/notion"/);
    assert.match(html, /href="\/connect\/demo"/);
    assert.match(html, /<form class="connect" id="connect-form" action="\/connect" method="get">/);
  });

  test('a browser connects once and leaves with two permanent URLs; tokens are stored sealed', async () => {
    const page = await browser.newPage();
    const before = connectionKeys(worker.persistDir);
    const seenRequests = mcp.requests.length;
    const { mcpUrl, sseUrl } = await connectInBrowser(page, worker.url, { preset: 'demo' });

    // First contact: an MCP initialize without a token, answered 401 with a challenge that names
    // the protected resource metadata (RFC 9728 §5.1), which is what Bindify reads next.
    const [probe, metadata] = mcp.requests.slice(seenRequests);
    assert.deepEqual([probe.method, probe.path, probe.rpc, probe.authorization, probe.status], ['POST', '/mcp', ['initialize'], null, 401]);
    assert.deepEqual([metadata.method, metadata.url, metadata.status], ['GET', '/.well-known/oauth-protected-resource/mcp', 200]);

    const secret = secretOf(mcpUrl);
    assert.ok(secret, `permanent URL ${mcpUrl}`);
    assert.equal(mcpUrl, `${worker.url}/s/${secret}/mcp`);
    assert.equal(sseUrl, `${worker.url}/s/${secret}/sse`);
    for (const id of ['setup-claude-ai', 'setup-claude-desktop', 'setup-claude-code']) {
      assert.ok(await page.isVisible(`#${id}`), id);
    }
    assert.match(await page.textContent('#code-command'), new RegExp(`claude mcp add --transport http bindify ${mcpUrl}`));
    // Copy puts the URL on the clipboard, and says so only then.
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: worker.url });
    for (const target of ['mcp-url', 'sse-url', 'code-command']) {
      await page.click(`button[data-copy-target="${target}"]`);
      await page.waitForFunction((t) => document.querySelector(`button[data-copy-target="${t}"]`).textContent !== 'Copy', target);
      assert.equal(await page.textContent(`button[data-copy-target="${target}"]`), 'Copied');
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), await page.textContent(`#${target}`));
    }
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `claude mcp add --transport http bindify ${mcpUrl}`);

    // The authorization server saw PKCE S256, the resource indicator and one code exchange.
    const authorize = as.authorizationRequests.at(-1);
    assert.equal(authorize.code_challenge_method, 'S256');
    assert.equal(authorize.resource, mcp.resource);
    const exchanges = as.tokenRequests.filter((r) => r.grant_type === 'authorization_code');
    assert.equal(exchanges.length, 1);
    assert.equal(exchanges[0].resource, mcp.resource);
    assert.equal(exchanges[0].status, 200);

    // /status reports the connection and never a token.
    const status = await fetch(`${worker.url}/s/${secret}/status`);
    assert.equal(status.status, 200);
    const body = await status.json();
    assert.equal(body.upstream, mcp.url);
    assert.equal(body.state, 'active');
    assert.equal(body.refreshable, true);
    // The expiry is the moment the token arrived plus its `expires_in` (RFC 6749 §5.1); /status
    // shows whole seconds, truncated.
    const expected = exchanges[0].at + exchanges[0].issued.expires_in * 1000;
    const shown = Date.parse(body.access_token_expires_at);
    assert.ok(shown >= expected - 2000 && shown <= expected + 1000, `expires ${body.access_token_expires_at}, expected ${new Date(expected).toISOString()}`);
    assert.equal(body.last_refresh_at, null);

    // One record and one URL index entry; neither tokens nor the URL secret are on disk.
    const added = connectionKeys(worker.persistDir).filter((k) => !before.includes(k));
    assert.equal(added.filter((k) => k.startsWith('conn:')).length, 1);
    assert.equal(added.filter((k) => k.startsWith('url:')).length, 1);
    // (refresh.test.mjs searches again after refreshes, and the Worker's log too.)
    const issued = exchanges[0].issued;
    const values = [issued.access_token, issued.refresh_token, secret];
    assert.ok(values.every((value) => value?.length > 20));
    assert.deepEqual(findExposed(worker.persistDir, values), [], 'stored readable');
    await page.close();
  });

  test('a pasted MCP URL first shows its host; only the confirmation form starts the flow', async () => {
    const before = kvKeys(worker.persistDir);
    const seen = { registrations: as.registrations.length, authorizations: as.authorizationRequests.length, tokens: codeExchanges() };
    const page = await fetch(`${worker.url}/connect?server=${encodeURIComponent(mcp.url)}`, { redirect: 'manual' });
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /data-page="confirm"/);
    assert.equal(/<span id="confirm-host">([^<]+)<\/span>/.exec(html)?.[1], new URL(mcp.url).host);
    assert.match(html, /<form class="connect" id="confirm-form" action="\/connect" method="post">/);
    const token = /name="confirm" value="([^"]+)"/.exec(html)?.[1];
    assert.ok(token);
    // Showing the page started nothing: no flow stored, nothing registered or authorized.
    assert.deepEqual(kvKeys(worker.persistDir), before);
    assert.deepEqual(
      { registrations: as.registrations.length, authorizations: as.authorizationRequests.length, tokens: codeExchanges() },
      seen,
    );

    const post = (fields, headers = {}) => fetch(`${worker.url}/connect`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields).toString(),
    });
    // Without the token, with a forged one, with one for another server, from another origin.
    const other = `http://127.0.0.1:${await getFreePort()}/mcp`;
    for (const [fields, headers] of [
      [{ server: mcp.url }, {}],
      [{ server: mcp.url, confirm: 'forged' }, {}],
      [{ server: other, confirm: token }, {}],
      [{ server: mcp.url, confirm: token }, { origin: 'https://evil.example' }],
    ]) {
      const refused = await post(fields, headers);
      assert.equal(refused.status, 403, JSON.stringify(fields));
      assert.equal(errorCode(await refused.text()), 'confirmation_invalid');
    }
    assert.deepEqual(kvKeys(worker.persistDir), before);

    const started = await post({ server: mcp.url, confirm: token }, { origin: worker.url });
    assert.equal(started.status, 302);
    const location = new URL(started.headers.get('location'));
    assert.equal(`${location.origin}${location.pathname}`, `${as.issuer}/auth`);
    assert.equal(location.searchParams.get('resource'), mcp.resource);
    assert.match(started.headers.get('set-cookie'), /^bindify_flow_/);
    assert.equal(kvKeys(worker.persistDir).filter((k) => k.startsWith('flow:')).length, before.filter((k) => k.startsWith('flow:')).length + 1);
  });

  test('a pasted MCP URL connects too, with a client registered for this authorization alone', async () => {
    const registrations = as.registrations.length;
    const earlier = new Set(as.registrations.map((r) => r.client_id));
    const page = await browser.newPage();
    const { mcpUrl } = await connectInBrowser(page, worker.url, { serverUrl: mcp.url });
    assert.ok(secretOf(mcpUrl));
    // One registration for this connection, under a client id no earlier connection uses: two
    // connections to one account never share a client (docs/providers.md).
    assert.equal(as.registrations.length, registrations + 1);
    const registered = as.registrations.at(-1);
    assert.equal(registered.status, 201);
    assert.ok(!earlier.has(registered.client_id), 'a new client id');
    assert.equal(as.authorizationRequests.at(-1).client_id, registered.client_id);
    assert.equal(as.tokenRequests.at(-1).client_id, registered.client_id);
    // Nothing about the client is kept outside the connection's own record.
    assert.deepEqual(kvKeys(worker.persistDir).filter((k) => k.startsWith('client:') || k.startsWith('owner-client:')), []);
    await page.close();
  });

  test('an unknown secret gets the same 404 as any unknown path', async () => {
    const unknownSecret = await fetch(`${worker.url}/s/${'A'.repeat(43)}/status`);
    const malformed = await fetch(`${worker.url}/s/short/status`);
    const unknownPath = await fetch(`${worker.url}/no/such/page`);
    const bodies = await Promise.all([unknownSecret, malformed, unknownPath].map((r) => r.text()));
    for (const r of [unknownSecret, malformed, unknownPath]) {
      assert.equal(r.status, 404);
      assert.equal(r.headers.get('content-type'), 'application/json');
    }
    assert.equal(bodies[0], bodies[2]);
    assert.equal(bodies[1], bodies[2]);
  });

  test('declining consent shows access_denied and stores nothing', async () => {
    const before = connectionKeys(worker.persistDir);
    const page = await browser.newPage();
    await page.goto(`${worker.url}/connect/demo`);
    await page.waitForURL((url) => url.pathname.includes('/interaction/'));
    await page.click('a:has-text("Cancel")');
    await page.waitForSelector('body[data-page="error:access_denied"]');
    assert.match(await page.textContent('#error-detail'), /declined/);
    assert.equal((await page.goto(page.url())).status(), 400, 'the same callback again finds its state used');
    assert.deepEqual(connectionKeys(worker.persistDir), before);
    await page.close();
  });

  test('a completed callback cannot be replayed', async () => {
    const page = await browser.newPage();
    const { callbackUrl } = await connectInBrowser(page, worker.url, { preset: 'demo' });
    const before = connectionKeys(worker.persistDir);
    const replay = await page.goto(callbackUrl);
    assert.equal(replay.status(), 400);
    assert.equal(errorCode(await page.content()), 'state_used');
    assert.deepEqual(connectionKeys(worker.persistDir), before);
    await page.close();
  });

  test('a state from another browser is refused before the code is used', async () => {
    const before = connectionKeys(worker.persistDir);
    const exchanges = codeExchanges();
    const { state } = await startFlow(worker.url, '/connect/demo');
    const foreign = await callback(worker.url, { code: 'stolen-code', state });
    assert.equal(foreign.status, 403);
    assert.equal(errorCode(foreign.body), 'state_foreign');
    const otherCookie = await callback(worker.url, { code: 'stolen-code', state }, `bindify_flow_x=${'y'.repeat(43)}`);
    assert.equal(errorCode(otherCookie.body), 'state_foreign');
    assert.equal(codeExchanges(), exchanges, 'no code exchange was attempted');
    assert.deepEqual(connectionKeys(worker.persistDir), before);
  });

  test('missing, forged and tampered states are refused', async () => {
    const before = connectionKeys(worker.persistDir);
    const missing = await callback(worker.url, { code: 'c' });
    assert.equal(missing.status, 400);
    assert.equal(errorCode(missing.body), 'state_missing');

    const forged = await callback(worker.url, { code: 'c', state: 'forged-state-value' });
    assert.equal(forged.status, 400);
    assert.equal(errorCode(forged.body), 'state_invalid');

    const { state, cookie } = await startFlow(worker.url, '/connect/demo');
    const flipped = state.slice(0, 30) + (state[30] === 'A' ? 'B' : 'A') + state.slice(31);
    const tampered = await callback(worker.url, { code: 'c', state: flipped }, cookie);
    assert.equal(tampered.status, 400);
    assert.equal(errorCode(tampered.body), 'state_invalid');
    assert.deepEqual(connectionKeys(worker.persistDir), before);
  });

  test('an error from the authorization server and a bad code are reported, nothing stored', async () => {
    const before = connectionKeys(worker.persistDir);
    let flow = await startFlow(worker.url, '/connect/demo');
    const serverError = await callback(worker.url, {
      state: flow.state, error: 'server_error', error_description: 'the database is on fire', iss: as.issuer,
    }, flow.cookie);
    assert.equal(serverError.status, 502);
    assert.equal(errorCode(serverError.body), 'authorization_error');
    assert.match(serverError.body, /the database is on fire/);

    flow = await startFlow(worker.url, '/connect/demo');
    const badCode = await callback(worker.url, { state: flow.state, code: 'not-a-real-code', iss: as.issuer }, flow.cookie);
    assert.equal(badCode.status, 502);
    assert.equal(errorCode(badCode.body), 'token_exchange_failed');
    assert.equal(as.tokenRequests.at(-1).error, 'invalid_grant');
    assert.deepEqual(connectionKeys(worker.persistDir), before);
  });

  test('unusable servers are refused with a page that says why', async () => {
    const before = kvKeys(worker.persistDir);
    const cases = [
      ['/connect?server=http://example.com/mcp', 400, 'insecure_upstream'],
      ['/connect?server=not%20a%20url', 400, 'invalid_server_url'],
      ['/connect', 400, 'server_missing'],
      ['/connect/nonexistent', 404, 'unknown_preset'],
    ];
    for (const [path, status, code] of cases) {
      const response = await fetch(`${worker.url}${path}`, { redirect: 'manual' });
      assert.equal(response.status, status, path);
      assert.equal(errorCode(await response.text()), code, path);
    }
    // A host name in Unicode: Bindify carries no Unicode IDNA data and asks for the xn-- form.
    const unicode = await fetch(`${worker.url}/connect?server=${encodeURIComponent('https://bücher.example/mcp')}`, { redirect: 'manual' });
    assert.equal(unicode.status, 400);
    const unicodePage = await unicode.text();
    assert.equal(errorCode(unicodePage), 'invalid_server_url');
    assert.match(unicodePage, /<h1>The server&#39;s host name is not ASCII<\/h1>/);
    assert.match(unicodePage, /e\.g\. https:\/\/xn--bcher-kva\.example\/mcp for bücher\.example/);
    // A server nobody answers for fails once confirmed.
    const unreachable = await confirmConnect(worker.url, `http://127.0.0.1:${await getFreePort()}/mcp`);
    assert.equal(unreachable.status, 502);
    assert.equal(errorCode(unreachable.body), 'discovery_failed');
    assert.deepEqual(kvKeys(worker.persistDir), before);
  });

  test('without a valid state, the callback shows a generic page and none of the query', async () => {
    const description = 'Your account is locked: call +1 555 0100 now';
    const { state, cookie } = await startFlow(worker.url, '/connect/demo');
    for (const [query, code] of [
      [{ error: 'access_denied', error_description: description }, 'state_missing'],
      [{ error: 'server_error', error_description: description, state: 'forged-state-value' }, 'state_invalid'],
      [{ error: 'access_denied', error_description: description, state: `${state}x` }, 'state_invalid'],
    ]) {
      const page = await callback(worker.url, query, cookie);
      assert.equal(page.status, 400);
      assert.equal(errorCode(page.body), code);
      assert.ok(!page.body.includes('555 0100'), 'the query text is on the page');
    }
  });

  test('a callback without iss is refused when the server promised to send it', async () => {
    // oidc-provider advertises authorization_response_iss_parameter_supported (RFC 9207).
    const metadata = await (await fetch(`${as.issuer}/.well-known/oauth-authorization-server`)).json();
    assert.equal(metadata.authorization_response_iss_parameter_supported, true);
    const before = connectionKeys(worker.persistDir);
    // A real authorization with a real code, whose way back loses `iss`.
    const { location, cookie } = await startFlow(worker.url, '/connect/demo');
    const back = await authorizeAt(location.href);
    assert.equal(`${back.origin}${back.pathname}`, `${worker.url}/oauth/callback`);
    assert.ok(back.searchParams.get('code'));
    assert.equal(back.searchParams.get('iss'), as.issuer);
    const exchanges = codeExchanges();
    const query = Object.fromEntries(back.searchParams);
    delete query.iss;
    const stripped = await callback(worker.url, query, cookie);
    assert.equal(stripped.status, 400);
    assert.equal(errorCode(stripped.body), 'issuer_missing');
    assert.equal(codeExchanges(), exchanges, 'the code was not exchanged');
    assert.deepEqual(connectionKeys(worker.persistDir), before);
  });

  test('servers without S256 or without open registration are refused, nothing stored', async () => {
    const noPkce = await startOAuthServer({ s256: false });
    const noPkceMcp = await startMcpServer({ issuer: noPkce.issuer });
    const closed = await startOAuthServer({ registration: false });
    const closedMcp = await startMcpServer({ issuer: closed.issuer });
    const refusing = await startOAuthServer({ registration: 'refuse' });
    const refusingMcp = await startMcpServer({ issuer: refusing.issuer });
    try {
      const before = kvKeys(worker.persistDir);
      for (const [server, status, code] of [
        [noPkceMcp.url, 502, 'pkce_unsupported'],
        [closedMcp.url, 502, 'registration_unsupported'],
        [refusingMcp.url, 502, 'registration_refused'],
      ]) {
        const response = await confirmConnect(worker.url, server);
        assert.equal(response.status, status, code);
        assert.equal(errorCode(response.body), code);
      }
      assert.equal(refusing.registrations.length, 1, 'the refusing server was asked once');
      assert.deepEqual(kvKeys(worker.persistDir), before);
    } finally {
      await Promise.all([noPkceMcp.stop(), closedMcp.stop(), refusingMcp.stop()]);
      await Promise.all([noPkce.stop(), closed.stop(), refusing.stop()]);
    }
  });
});

describe('connect flow: configuration failures and expiry', () => {
  let as;
  let mcp;
  const workers = {};

  before(async () => {
    as = await startOAuthServer({ accessTokenTTL: 5 });
    mcp = await startMcpServer({ issuer: as.issuer });
    const base = { ALLOW_LOOPBACK_HTTP: 'true', DEMO_SERVER_URL: mcp.url };
    [workers.shortState, workers.noKey, workers.badKey] = await Promise.all([
      startWorker({ vars: { ...base, TOKEN_ENCRYPTION_KEY: newKey(), CONNECT_STATE_TTL_SECONDS: '1' } }),
      startWorker({ vars: base }),
      startWorker({ vars: { ...base, TOKEN_ENCRYPTION_KEY: 'c2hvcnQ=' } }),
    ]);
  });

  after(async () => {
    await Promise.all(Object.values(workers).map((w) => w.stop()));
    await mcp?.stop();
    await as?.stop();
  });

  test('an expired state is refused', async () => {
    const { state, cookie } = await startFlow(workers.shortState.url, '/connect/demo');
    await delay(1500);
    const expired = await callback(workers.shortState.url, { code: 'c', state }, cookie);
    assert.equal(expired.status, 400);
    assert.equal(errorCode(expired.body), 'state_expired');
    assert.match(expired.body, /took too long/);
    assert.deepEqual(connectionKeys(workers.shortState.persistDir), []);
  });

  test('a missing encryption key refuses to connect and stores nothing', async () => {
    const registrations = as.registrations.length;
    const response = await fetch(`${workers.noKey.url}/connect/demo`, { redirect: 'manual' });
    assert.equal(response.status, 500);
    const html = await response.text();
    assert.equal(errorCode(html), 'encryption_key_missing');
    assert.match(html, /wrangler secret put TOKEN_ENCRYPTION_KEY/);
    const cb = await callback(workers.noKey.url, { code: 'c', state: 's' });
    assert.equal(errorCode(cb.body), 'encryption_key_missing');
    assert.deepEqual(kvKeys(workers.noKey.persistDir), []);
    assert.equal(as.registrations.length, registrations, 'nothing reached the authorization server');
  });

  test('a malformed encryption key refuses to connect and stores nothing', async () => {
    const response = await fetch(`${workers.badKey.url}/connect/demo`, { redirect: 'manual' });
    assert.equal(response.status, 500);
    const html = await response.text();
    assert.equal(errorCode(html), 'encryption_key_malformed');
    assert.match(html, /got 5 bytes/);
    assert.deepEqual(kvKeys(workers.badKey.persistDir), []);
  });
});

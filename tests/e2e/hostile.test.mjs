// A hostile upstream cannot turn the permanent URL against its owner: its pages never render
// on Bindify's origin, its cookies and links never arrive, its redirects are not followed, its
// refusals do not make Bindify rotate the grant on every request, its legacy streams cannot
// point Bindify elsewhere or keep it waiting, and nothing it does puts the URL secret in an
// error. An authorization server that never answers, or metadata that never ends, cannot stall
// a connection either. Every peer is real (oidc-provider, the MCP SDK's server, Chromium);
// tests/fixtures/hostile.mjs switches the misbehaviours on.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import { startHostileUpstream } from '../fixtures/hostile.mjs';
import { startMcpServer } from '../fixtures/mcp-server.mjs';
import { startOAuthServer } from '../fixtures/oauth-server.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { startWorker } from '../lib/worker.mjs';
import { connectHeadless } from './headless.mjs';
import { connectClient, textOf } from './mcp-clients.mjs';
import { errorCode, newKey } from './support.mjs';

const CSP = "sandbox; default-src 'none'";
const UPSTREAM_BAD_ANSWER = -32005;
const UPSTREAM_REFUSED_TOKEN = -32006;
const UPSTREAM_UNREACHABLE = -32003;
const AUTH_SERVER_UNAVAILABLE = -32002;
// A request that stays unanswered fails the test instead of hanging it.
const PATIENCE_MS = 60_000;

const initialize = (id) => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'hostile-test', version: '1' } },
});

const post = (url, message, headers = {}) => fetch(url, {
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
  body: JSON.stringify(message),
  signal: AbortSignal.timeout(PATIENCE_MS),
});

/** The answer carries Bindify's sandbox and none of the upstream's browser-facing fields. */
function assertSandboxed(response) {
  assert.equal(response.headers.get('content-security-policy'), CSP);
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  for (const name of ['set-cookie', 'refresh', 'link', 'location']) assert.equal(response.headers.get(name), null, name);
}

/** The last JSON-RPC message of an answer that is JSON or a short SSE stream. */
async function lastMessage(response) {
  const text = await response.text();
  if (text.startsWith('{') || text.startsWith('[')) return JSON.parse(text);
  const data = text.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).filter(Boolean);
  assert.ok(data.length, `no message in ${JSON.stringify(text)}`);
  return JSON.parse(data.at(-1));
}

/** An SSE response's text so far; `until(check)` reads on until `check(text)` holds. */
function eventText(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const read = { text: '' };
  read.until = async (check) => {
    while (!check(read.text)) {
      const { value, done } = await reader.read();
      if (done) break;
      read.text += decoder.decode(value, { stream: true });
    }
    return read.text;
  };
  return read;
}

async function status(worker, secret) {
  const response = await fetch(`${worker.url}/s/${secret}/status`);
  assert.equal(response.status, 200);
  const text = await response.text();
  assert.ok(!text.includes(secret), 'the status document carries no secret');
  return JSON.parse(text);
}

async function waitFor(what, check, ms = 15_000) {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await delay(50)) {
    if (check()) return;
  }
  assert.fail(`${what} did not happen`);
}

describe('a hostile Streamable HTTP upstream', () => {
  let as;
  let hostile;
  let worker;
  let conn;
  let id;
  const secrets = [];

  before(async () => {
    as = await startOAuthServer({ accessTokenTTL: 600 });
    hostile = await startHostileUpstream({ issuer: as.issuer });
    worker = await startWorker({
      vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true', DEMO_SERVER_URL: hostile.url },
    });
    conn = await connectHeadless(worker.url);
    secrets.push(conn.secret);
    id = (await status(worker, conn.secret)).id;
  });

  afterEach(() => hostile.behave());

  after(async () => {
    await worker?.stop();
    await hostile?.stop();
    await as?.stop();
  });

  test('an HTML page with a script becomes a JSON-RPC error naming the upstream, and never runs', async () => {
    hostile.misbehave('html');
    const message = `Bindify did not relay the answer of the MCP server ${hostile.url}: it answered HTTP 200 with content type "text/html; charset=utf-8", and only application/json and text/event-stream answers are relayed.`;
    const error = { code: UPSTREAM_BAD_ANSWER, message, data: { upstream: hostile.url, status: 200, source: 'upstream_server' } };

    const get = await fetch(conn.mcpUrl, { headers: { accept: 'text/event-stream' }, signal: AbortSignal.timeout(PATIENCE_MS) });
    assert.equal(get.status, 502);
    assert.equal(get.headers.get('content-type'), 'application/json');
    assertSandboxed(get);
    assert.deepEqual(await get.json(), { jsonrpc: '2.0', id: null, error });

    const call = await post(conn.mcpUrl, initialize('html-1'));
    assert.equal(call.status, 200);
    assert.equal(call.headers.get('content-type'), 'application/json');
    assertSandboxed(call);
    assert.deepEqual(await call.json(), { jsonrpc: '2.0', id: 'html-1', error });

    // A browser opening the permanent URL gets the error as text; the upstream's script does
    // not run on Bindify's origin.
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const response = await page.goto(conn.mcpUrl);
      assert.equal(response.status(), 502);
      assert.equal(await page.title(), '');
      assert.ok((await page.textContent('body')).includes('Bindify did not relay the answer'));
    } finally {
      await browser.close();
    }
  });

  test('Set-Cookie, Refresh and Link never reach the client, and every relayed answer is sandboxed', async () => {
    hostile.misbehave('extra-headers');
    const init = await post(conn.mcpUrl, initialize(1));
    assert.equal(init.status, 200);
    assertSandboxed(init);
    const session = init.headers.get('mcp-session-id');
    assert.ok(session, 'the upstream session id still crosses');
    assert.equal((await lastMessage(init)).result.protocolVersion, '2025-06-18');
    const headers = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' };

    // A 202 without a body or a content type (Node sends it chunked and empty) passes as is.
    const note = await post(conn.mcpUrl, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
    assert.equal(note.status, 202);
    assert.equal(note.headers.get('content-type'), null);
    assertSandboxed(note);
    assert.equal(await note.text(), '');

    const controller = new AbortController();
    const stream = await fetch(conn.mcpUrl, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
    assert.equal(stream.status, 200);
    assert.equal(stream.headers.get('content-type'), 'text/event-stream');
    assertSandboxed(stream);
    controller.abort();

    const ended = await fetch(conn.mcpUrl, { method: 'DELETE', headers });
    assert.equal(ended.status, 200);
    assertSandboxed(ended);
  });

  test('a redirect to another host is refused, and that host sees nothing', async () => {
    hostile.misbehave('redirect');
    const message = `Bindify did not relay the answer of the MCP server ${hostile.url}: it answered a redirect (HTTP 307), and only application/json and text/event-stream answers are relayed.`;
    const call = await post(conn.mcpUrl, initialize('r-1'));
    assert.equal(call.status, 200);
    assertSandboxed(call);
    assert.deepEqual(await call.json(), {
      jsonrpc: '2.0', id: 'r-1', error: { code: UPSTREAM_BAD_ANSWER, message, data: { upstream: hostile.url, status: 307, source: 'upstream_server' } },
    });
    const get = await fetch(conn.mcpUrl, { headers: { accept: 'text/event-stream' } });
    assert.equal(get.status, 502);
    assertSandboxed(get);
    assert.equal((await get.json()).error.code, UPSTREAM_BAD_ANSWER);
    assert.deepEqual(hostile.elsewhere.requests, []);
  });

  test('an upstream that refuses every token gets one refresh, not one per request', async () => {
    const refreshes = () => as.tokenRequests.filter((r) => r.grant_type === 'refresh_token');
    const refreshesBefore = refreshes().length;
    const seen = hostile.requests.length;
    hostile.misbehave('refuse');
    const reconnectUrl = `${worker.url}/manage/${id}/reconnect`;

    const answers = [];
    for (const requestId of ['t-1', 't-2', 't-3']) {
      const response = await post(conn.mcpUrl, initialize(requestId));
      answers.push({ response, body: await response.json(), retryAfter: response.headers.get('retry-after') });
    }

    // One refresh, for the first refusal; it succeeded at the authorization server.
    const made = refreshes().slice(refreshesBefore);
    assert.deepEqual(made.map((r) => r.status), [200]);
    // The first request was replayed once with the new token, refused again; the next two
    // were refused once each and not replayed.
    const tokens = hostile.requests.slice(seen).filter((r) => r.authorization);
    assert.deepEqual(tokens.map((r) => r.status), [401, 401, 401, 401]);
    assert.notEqual(tokens[0].authorization, tokens[1].authorization);
    assert.equal(new Set(tokens.slice(1).map((r) => r.authorization)).size, 1);

    const [first, ...limited] = answers;
    assert.equal(first.retryAfter, null);
    assert.deepEqual(first.body, {
      jsonrpc: '2.0',
      id: 't-1',
      error: {
        code: UPSTREAM_REFUSED_TOKEN,
        message: `Bindify: the MCP server ${hostile.url} refused the access token, and a renewed token did not help. If this persists, the owner can authorize the connection again at ${reconnectUrl}.`,
        data: { upstream: hostile.url, reconnect_url: reconnectUrl, retry_at: null, source: 'upstream_server' },
      },
    });
    for (const { response } of answers) {
      assert.equal(response.status, 200);
      assertSandboxed(response);
    }
    for (const [i, { body, retryAfter }] of limited.entries()) {
      assert.equal(body.id, `t-${i + 2}`);
      assert.equal(body.error.code, UPSTREAM_REFUSED_TOKEN);
      assert.match(body.error.data.retry_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(body.error.message, `Bindify: the MCP server ${hostile.url} refused the access token, and a renewed token did not help. Bindify renews a refused token at most once a minute; the next renewal may happen after ${body.error.data.retry_at}. If this persists, the owner can authorize the connection again at ${reconnectUrl}.`);
      assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 60, `Retry-After: ${retryAfter}`);
    }
    // The grant was not given up on: the owner decides, and a recovered upstream just works.
    assert.equal((await status(worker, conn.secret)).state, 'active');
    hostile.behave();
    const recovered = await post(conn.mcpUrl, initialize('t-4'));
    assert.equal((await lastMessage(recovered)).result.protocolVersion, '2025-06-18');
    assert.equal(refreshes().length, refreshesBefore + 1);
  });

  test('the legacy stream and its message endpoint are sandboxed, and the secret stays in the path', async () => {
    const controller = new AbortController();
    const stream = await fetch(conn.sseUrl, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
    assert.equal(stream.status, 200);
    assert.equal(stream.headers.get('content-type'), 'text/event-stream');
    assertSandboxed(stream);
    const first = await eventText(stream).until((t) => t.includes('\n\n'));
    const endpoint = new URL(/^data: (.+)$/m.exec(first)[1]);
    assert.equal(`${endpoint.origin}${endpoint.pathname}`, conn.sseUrl.replace(/sse$/, 'message'));
    assert.deepEqual([...endpoint.searchParams.keys()], ['session']);
    assert.ok(!endpoint.search.includes(conn.secret));

    const accepted = await post(endpoint.href, initialize('l-1'));
    assert.equal(accepted.status, 202);
    assertSandboxed(accepted);
    assert.equal(await accepted.text(), '');
    controller.abort();
  });

  test('the reconnect link of an error leads to the dashboard, and the old link no longer carries the secret on', async () => {
    const response = await fetch(`${worker.url}/s/${conn.secret}/reconnect`, { redirect: 'manual' });
    assert.equal(response.status, 302);
    assert.equal(response.headers.get('location'), `/manage/${id}/reconnect`);
    const unknown = await fetch(`${worker.url}/s/${'B'.repeat(43)}/reconnect`, { redirect: 'manual' });
    assert.equal(unknown.status, 404);
  });

  test('metadata that never ends is read no further than its cap, and the connect attempt fails cleanly', async () => {
    hostile.misbehave('endless-metadata');
    const response = await fetch(`${worker.url}/connect/demo`, { redirect: 'manual', signal: AbortSignal.timeout(PATIENCE_MS) });
    assert.equal(response.status, 502);
    assert.equal(errorCode(await response.text()), 'discovery_failed');
    // Discovery asks for the metadata at the challenge's URL and the well-known ones.
    assert.ok(hostile.metadataStreams.length >= 1);
    for (const served of hostile.metadataStreams) {
      await waitFor('Bindify closing the metadata stream', () => served.closed);
      // 256 KiB are read; the next 64 KiB chunks may sit in socket buffers. A reader that
      // stopped only at its 10-second timeout would have been sent 12.8 MiB.
      assert.ok(served.written < 1024 * 1024, `written: ${served.written}`);
    }
  });

  test('a rotated URL replays nothing on Last-Event-ID, and its session is gone', async () => {
    const other = await connectHeadless(worker.url);
    secrets.push(other.secret);
    const otherId = (await status(worker, other.secret)).id;
    const controller = new AbortController();
    const stream = await fetch(other.sseUrl, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
    const events = eventText(stream);
    const first = await events.until((t) => t.includes('\n\n'));
    const session = /^id: ([A-Za-z0-9_-]+)\.1$/m.exec(first)[1];
    const endpoint = /^data: (.+)$/m.exec(first)[1];
    assert.equal((await post(endpoint, initialize(1))).status, 202);
    assert.match(await events.until((t) => t.includes('"id":1')), /"protocolVersion":"2025-06-18"/);

    // The URL is rotated (the isolate still remembers the old index entry).
    const rotated = await fetch(`${worker.url}/api/connections/${otherId}/rotate`, { method: 'POST' });
    assert.equal(rotated.status, 200);
    controller.abort();

    const resumed = await fetch(other.sseUrl, { headers: { accept: 'text/event-stream', 'last-event-id': `${session}.1` } });
    assert.equal(resumed.status, 404);
    assert.deepEqual(await resumed.json(), { error: 'not_found', message: 'Nothing is here.' });
    const message = await post(endpoint, { jsonrpc: '2.0', id: 2, method: 'tools/list' });
    assert.equal(message.status, 404);
    assert.deepEqual(await message.json(), { error: 'not_found', message: 'Nothing is here.' });
  });

  // Last in this group: it reads the log of everything above.
  test("Bindify's own log lines carry no URL secret", () => {
    const log = readFileSync(worker.logFile, 'utf8');
    // The dev server's access log records request paths, secrets included (so does the
    // platform's request log; see SECURITY.md): the search does reach them.
    assert.ok(secrets.every((secret) => log.includes(secret)));
    const own = log.split('\n').filter((line) => !line.startsWith('[wrangler:'));
    assert.deepEqual(own.filter((line) => secrets.some((secret) => line.includes(secret))), []);
  });
});

describe('a hostile legacy (HTTP+SSE) upstream', () => {
  let as;
  let hostile;
  let worker;
  let conn;

  before(async () => {
    as = await startOAuthServer({ accessTokenTTL: 600 });
    hostile = await startHostileUpstream({ issuer: as.issuer, transports: ['sse'] });
    worker = await startWorker({
      vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true', DEMO_SERVER_URL: hostile.sseUrl },
    });
    conn = await connectHeadless(worker.url);
  });

  afterEach(() => hostile.behave());

  after(async () => {
    await worker?.stop();
    await hostile?.stop();
    await as?.stop();
  });

  /** A bridged `initialize`: the answer, and the message on its stream. */
  async function bridged(requestId) {
    const response = await post(conn.mcpUrl, initialize(requestId));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    return { response, message: await lastMessage(response) };
  }

  test('an endpoint on another origin is refused with an error naming the upstream, and that origin sees nothing', async () => {
    hostile.misbehave('foreign-endpoint');
    const { response, message } = await bridged('f-1');
    assert.deepEqual(message, {
      jsonrpc: '2.0',
      id: 'f-1',
      error: {
        code: UPSTREAM_UNREACHABLE,
        message: `Bindify could not reach the MCP server ${hostile.sseUrl}: the endpoint points to a different origin than the upstream's SSE stream`,
        data: { upstream: hostile.sseUrl, source: 'upstream_server' },
      },
    });
    assert.deepEqual(hostile.elsewhere.requests, []);
    assertSandboxed(response);
  });

  test('a stream that never names its endpoint is given up after its byte budget', async () => {
    hostile.misbehave('no-endpoint');
    const { response, message } = await bridged('n-1');
    assert.deepEqual(message, {
      jsonrpc: '2.0',
      id: 'n-1',
      error: {
        code: UPSTREAM_UNREACHABLE,
        message: `Bindify could not reach the MCP server ${hostile.sseUrl}: the server sent more than 65536 bytes without naming an endpoint`,
        data: { upstream: hostile.sseUrl, source: 'upstream_server' },
      },
    });
    assertSandboxed(response);
  });

  test('reconnects to a legacy stream that keeps dropping back off', async () => {
    const client = await connectClient(conn.sseUrl, { kind: 'sse' });
    try {
      assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'up' } })), 'up');
      const streams = () => hostile.requests.filter((r) => r.method === 'GET' && r.path === '/sse').length;
      const before = streams();
      hostile.misbehave('drop-stream'); // cuts the open stream; every new one is cut at once
      await delay(6_000);
      // Waiting 1 s, then 2 s, then 4 s between attempts, six seconds hold two reconnects (a
      // third only on a very fast clock); reconnecting without a pause makes dozens.
      const reconnects = streams() - before;
      assert.ok(reconnects >= 1 && reconnects <= 3, `reconnects in 6 s: ${reconnects}`);
    } finally {
      await client.close();
    }
  });

  // Last in this group: it rotates the connection's URL.
  test('a rotated URL loses its bridged session: its stream, DELETE and requests get 404', async () => {
    const init = await post(conn.mcpUrl, initialize('b-1'));
    assert.equal(init.status, 200);
    const session = init.headers.get('mcp-session-id');
    assert.match(session, /^bindify-bridge-/);
    assert.equal((await lastMessage(init)).id, 'b-1');
    const headers = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' };
    const live = await fetch(conn.mcpUrl, { headers: { accept: 'text/event-stream', ...headers }, signal: AbortSignal.timeout(PATIENCE_MS) });
    assert.equal(live.status, 200);
    await live.body.cancel();

    const id = (await status(worker, conn.secret)).id;
    assert.equal((await fetch(`${worker.url}/api/connections/${id}/rotate`, { method: 'POST' })).status, 200);

    const stream = await fetch(conn.mcpUrl, { headers: { accept: 'text/event-stream', ...headers }, signal: AbortSignal.timeout(PATIENCE_MS) });
    assert.equal(stream.status, 404);
    assert.deepEqual(await stream.json(), { error: 'not_found', message: 'Nothing is here.' });
    const ended = await fetch(conn.mcpUrl, { method: 'DELETE', headers });
    assert.equal(ended.status, 404);
    const call = await post(conn.mcpUrl, { jsonrpc: '2.0', id: 'b-2', method: 'tools/list' }, headers);
    assert.equal(call.status, 404);
  });
});

describe('an authorization server whose token endpoint never answers', () => {
  let as;
  let mcp;
  let worker;

  before(async () => {
    as = await startOAuthServer({ accessTokenTTL: 3 });
    mcp = await startMcpServer({ issuer: as.issuer });
    worker = await startWorker({
      vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true', DEMO_SERVER_URL: mcp.url },
    });
  });

  after(async () => {
    as?.setHeld(false);
    await worker?.stop();
    await mcp?.stop();
    await as?.stop();
  });

  test('holds the refresh lock no longer than one token request, and every caller gets an answer', async () => {
    const { mcpUrl, secret } = await connectHeadless(worker.url);
    const expiry = Date.parse((await status(worker, secret)).access_token_expires_at);
    await delay(Math.max(0, expiry + 1500 - Date.now()));
    as.setHeld(true);

    // Two callers at once on the expired token: one refreshes, the other waits for the lock.
    const answers = await Promise.all(['h-1', 'h-2'].map(async (requestId) => {
      const response = await post(mcpUrl, initialize(requestId));
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() };
    }));
    for (const [i, answer] of answers.entries()) {
      assert.equal(answer.status, 200);
      // The next request may try again 5 s after the held attempt started: already past.
      assert.equal(answer.retryAfter, '1');
      assert.equal(answer.body.id, `h-${i + 1}`);
      assert.equal(answer.body.error.code, AUTH_SERVER_UNAVAILABLE);
      assert.equal(answer.body.error.data.source, 'authorization_server');
      assert.match(answer.body.error.message, /^Bindify: the authorization server \S+ is unavailable, so the access token could not be renewed\. The next request tries again\.$/);
    }
    const broken = await status(worker, secret);
    assert.equal(broken.state, 'error');
    assert.match(broken.last_error, /no complete answer within 10 s/);

    as.setHeld(false);
    await waitFor('the held request to be answered', () => as.tokenRequests.some((r) => r.held));
    assert.equal(as.tokenRequests.filter((r) => r.held).length, 1, 'one token request reached the server');
  });
});

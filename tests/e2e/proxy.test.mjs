// The permanent URL speaks MCP: the official SDK's clients over Streamable HTTP and HTTP+SSE,
// mcp-remote as Claude Desktop runs it, both transport bridges, transparent refresh through the
// upstream's 401, and every bad input answered exactly without reaching the upstream.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { startOAuthServer } from '../fixtures/oauth-server.mjs';
import { startMcpServer } from '../fixtures/mcp-server.mjs';
import { nextSeq } from '../fixtures/sequence.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { node22, testsDir } from '../lib/paths.mjs';
import { startWorker } from '../lib/worker.mjs';
import { connectClient, exerciseEverything, textOf } from './mcp-clients.mjs';
import { connectInBrowser, newKey, secretOf, sseEvents } from './support.mjs';

const TTL = 4;

describe('MCP through the permanent URL', () => {
  let as;
  let full;
  let streamableOnly;
  let sseOnly;
  let worker;
  let browser;
  const urls = {};

  before(async () => {
    as = await startOAuthServer({ accessTokenTTL: TTL });
    [full, streamableOnly, sseOnly] = await Promise.all([
      startMcpServer({ issuer: as.issuer }),
      startMcpServer({ issuer: as.issuer, transports: ['streamable'] }),
      startMcpServer({ issuer: as.issuer, transports: ['sse'] }),
    ]);
    worker = await startWorker({
      vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true', DEMO_SERVER_URL: full.url },
    });
    browser = await launchBrowser();
    const page = await browser.newPage();
    urls.full = await connectInBrowser(page, worker.url, { preset: 'demo' });
    urls.streamableOnly = await connectInBrowser(page, worker.url, { serverUrl: streamableOnly.url });
    urls.sseOnly = await connectInBrowser(page, worker.url, { serverUrl: sseOnly.sseUrl });
    await page.close();
  });

  after(async () => {
    await browser?.close();
    await worker?.stop();
    await Promise.all([full, streamableOnly, sseOnly].map((s) => s?.stop()));
    await as?.stop();
  });

  test('Streamable HTTP client: tools, resources, streamed progress, elicitation', async () => {
    const seen = full.requests.length;
    const client = await connectClient(urls.full.mcpUrl);
    await exerciseEverything(client);
    // Every request reached the upstream with Bindify's bearer token, the client's stream for
    // server messages (GET) included.
    const later = full.requests.slice(seen);
    assert.ok(later.every((r) => r.authorization));
    assert.ok(later.some((r) => r.method === 'GET' && r.path === '/mcp'), 'the GET stream reached the upstream');
    await client.close();
  });

  test('HTTP+SSE client: the same, through a session Bindify holds', async () => {
    const client = await connectClient(urls.full.sseUrl, { kind: 'sse' });
    await exerciseEverything(client);
    await client.close();
  });

  test('bridge: an HTTP+SSE client in front of an upstream that speaks only Streamable HTTP', async () => {
    const seen = streamableOnly.requests.length;
    const client = await connectClient(urls.streamableOnly.sseUrl, { kind: 'sse' });
    await exerciseEverything(client);
    assert.ok(streamableOnly.requests.slice(seen).every((r) => r.path === '/mcp'), 'only Streamable HTTP reached it');
    await client.close();
  });

  test('bridge: a Streamable HTTP client in front of an upstream that speaks only HTTP+SSE', async () => {
    const seen = sseOnly.requests.length;
    const client = await connectClient(urls.sseOnly.mcpUrl);
    await exerciseEverything(client);
    const later = sseOnly.requests.slice(seen);
    assert.ok(later.some((r) => r.path === '/sse' && r.authorization), 'the legacy stream was used');
    await client.close();
  });

  test('one session across several token lifetimes, through the upstream 401 path', async () => {
    const client = await connectClient(urls.full.mcpUrl);
    const echo = async (text) => assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text } })), text);
    const refreshes = (from, to = Infinity) => as.tokenRequests.filter((r) => r.grant_type === 'refresh_token' && r.seq > from && r.seq < to);
    const calls = (from) => full.requests.filter((r) => r.seq > from && r.rpc.includes('tools/call'));

    await echo('round 0');
    const start = nextSeq();
    // The token has expired: Bindify refreshes before sending, and the upstream sees no 401.
    await delay(TTL * 1000 + 500);
    await echo('round 1');
    assert.equal(refreshes(start).length, 1);
    assert.deepEqual(calls(start).map((r) => r.status), [200]);
    const current = refreshes(start)[0].issued.access_token;
    assert.equal(calls(start)[0].authorization, current);

    // The upstream revokes every token it has seen, the current one included, long before it
    // expires: the next call gets a 401 upstream with that token, Bindify refreshes once and
    // replays the call with the new token, and the client sees only the answer.
    full.revokeSeenTokens();
    const revoked = nextSeq();
    await echo('round 2');
    const [refused, replayed, ...more] = calls(revoked);
    assert.deepEqual(more, []);
    assert.equal(refused.status, 401);
    assert.equal(refused.authorization, current, 'the refused request carried the current token');
    assert.equal(replayed.status, 200);
    const between = refreshes(refused.seq, replayed.seq);
    assert.equal(between.length, 1, 'exactly one refresh between the 401 and the replay');
    assert.equal(between[0].status, 200);
    assert.equal(replayed.authorization, between[0].issued.access_token, 'the replay carried the refreshed token');
    assert.notEqual(replayed.authorization, refused.authorization);
    assert.equal(refreshes(revoked).length, 1);

    await delay(TTL * 1000 + 500);
    await echo('last');
    const all = refreshes(start);
    assert.equal(all.length, 3, JSON.stringify(all.map(({ issued, presented, ...r }) => r)));
    assert.ok(all.every((r) => r.status === 200 && r.resource === full.resource));
    assert.deepEqual(as.tokenRequests.filter((r) => r.error === 'invalid_grant'), []);
    await client.close();
  });

  test('mcp-remote, as Claude Desktop runs it, lists tools over /sse and over /mcp', async () => {
    const bin = `${testsDir}/node_modules/mcp-remote/dist/proxy.js`;
    for (const [url, transport] of [[urls.full.sseUrl, 'sse-only'], [urls.full.mcpUrl, 'http-only']]) {
      const client = new Client({ name: 'claude-desktop-like', version: '1.0.0' });
      await client.connect(new StdioClientTransport({
        command: node22,
        args: [bin, url, '--transport', transport, '--allow-http'],
        env: { ...process.env, MCP_REMOTE_CONFIG_DIR: `${testsDir}/.artifacts/mcp-remote` },
        stderr: 'ignore',
      }));
      const tools = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(tools.includes('echo'), `${transport}: ${tools}`);
      await client.close();
    }
  });

  test('an idle HTTP+SSE stream gets its endpoint first and a keepalive comment within 25 s', async () => {
    const controller = new AbortController();
    const response = await fetch(urls.full.sseUrl, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const started = Date.now();
    while (!text.includes(': keepalive') && Date.now() - started < 25_000) {
      const { value, done } = await Promise.race([reader.read(), delay(25_000 - (Date.now() - started)).then(() => ({ done: true }))]);
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    controller.abort();
    // The first event names the message endpoint under the same secret, with an id to resume by.
    const first = text.split('\n\n')[0];
    assert.match(first, /^id: [A-Za-z0-9_-]+\.1$/m);
    assert.match(first, /^event: endpoint$/m);
    assert.match(first, new RegExp(`^data: ${urls.full.sseUrl.replace(/sse$/, 'message').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\?session=`, 'm'));
    assert.ok(text.includes(': keepalive'), `no keepalive within 25 s: ${JSON.stringify(text)}`);
  });

  test("the upstream never gets the client's credentials, cookies, address or Referer, and only Bindify's token", async () => {
    // Everything a client or a browser could send that is not for the upstream, plus one
    // end-to-end field that must arrive, so the record is known to show the client's fields.
    const clientToken = `client-${randomBytes(16).toString('hex')}`;
    const cookie = `bindify_admin=${randomBytes(16).toString('hex')}; other=${randomBytes(8).toString('hex')}`;
    const sent = {
      authorization: `Bearer ${clientToken}`,
      'proxy-authorization': `Basic ${Buffer.from(`user:${clientToken}`).toString('base64')}`,
      cookie,
      referer: urls.full.mcpUrl,
      origin: worker.url,
      'x-forwarded-for': '203.0.113.7',
      forwarded: 'for=203.0.113.7',
      'x-real-ip': '203.0.113.7',
      'x-client-note': 'end to end',
    };
    const issued = () => new Set(as.tokenRequests.filter((r) => r.issued).map((r) => r.issued.access_token));
    const dropped = ['proxy-authorization', 'cookie', 'referer', 'origin', 'x-forwarded-for', 'forwarded', 'x-real-ip'];
    const secrets = [clientToken, ...cookie.split('; ').map((c) => c.split('=')[1]), secretOf(urls.full.mcpUrl), '203.0.113.7'];

    for (const [url, Transport] of [[urls.full.mcpUrl, StreamableHTTPClientTransport], [urls.full.sseUrl, SSEClientTransport]]) {
      const mark = nextSeq();
      const client = new Client({ name: 'bindify-headers', version: '1.0.0' });
      await client.connect(new Transport(new URL(url), { requestInit: { headers: sent } }));
      assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'headers' } })), 'headers');
      await client.close();

      const seen = full.requests.filter((r) => r.seq > mark);
      assert.ok(seen.some((r) => r.rpc.includes('tools/call')), `${url}: the call reached the upstream`);
      const tokens = issued();
      for (const r of seen) {
        const where = `${url}: ${r.method} ${r.path}`;
        assert.deepEqual(dropped.filter((name) => name in r.headers), [], where);
        assert.ok(tokens.has(r.authorization), `${where}: the upstream got a token the authorization server issued`);
        assert.equal(r.headers.authorization, `Bearer ${r.authorization}`, where);
        const everything = JSON.stringify([r.url, r.headers]);
        assert.deepEqual(secrets.filter((secret) => everything.includes(secret)), [], where);
      }
      // A Streamable HTTP request is forwarded with its end-to-end fields; a legacy session's
      // requests upstream are Bindify's own.
      if (Transport === StreamableHTTPClientTransport) {
        assert.ok(seen.filter((r) => r.method === 'POST').every((r) => r.headers['x-client-note'] === 'end to end'));
      }
    }
  });

  test('an HTTP+SSE stream resumes with Last-Event-ID: the events it missed, in order, and nothing twice', async () => {
    const open = async (lastEventId) => {
      const response = await fetch(urls.full.sseUrl, {
        headers: { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'text/event-stream');
      return sseEvents(response);
    };
    const post = async (endpoint, message) => {
      const response = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message) });
      assert.equal(response.status, 202);
    };

    const first = await open();
    const endpoint = await first.next();
    assert.equal(endpoint.event, 'endpoint');
    const session = /^([A-Za-z0-9_-]+)\.1$/.exec(endpoint.id)?.[1];
    assert.ok(session, endpoint.id);
    // The client goes away; what the session sends meanwhile waits in its log.
    await first.cancel();
    await post(endpoint.data, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'resume', version: '1' } } });
    await post(endpoint.data, { jsonrpc: '2.0', method: 'notifications/initialized' });
    await post(endpoint.data, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'missed' } } });

    // Resuming after the endpoint event replays the two answers, numbered after it.
    const resumed = await open(`${session}.1`);
    const answers = [await resumed.next(), await resumed.next()];
    assert.deepEqual(answers.map((e) => [e.id, e.event]), [[`${session}.2`, 'message'], [`${session}.3`, 'message']]);
    const [initialized, echoed] = answers.map((e) => JSON.parse(e.data));
    assert.equal(initialized.id, 1);
    assert.equal(initialized.result.protocolVersion, '2024-11-05');
    assert.deepEqual([echoed.id, echoed.result.content[0].text], [2, 'missed']);
    await resumed.cancel();

    // Resuming after the last event seen replays nothing: the next event is a new answer.
    const again = await open(`${session}.3`);
    await post(endpoint.data, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'new' } } });
    const next = await again.next();
    assert.equal(next.id, `${session}.4`);
    assert.deepEqual(JSON.parse(next.data).result.content[0].text, 'new');
    await again.cancel();
  });

  // A Streamable HTTP session lives at the upstream, so it outlives Bindify's runtime: the same
  // client carries on in the same upstream session, without initializing again.
  test('a Streamable HTTP session resumes after a restart of wrangler dev', async () => {
    const client = await connectClient(urls.full.mcpUrl);
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'before' } })), 'before');
    const session = full.requests.filter((r) => r.rpc.includes('tools/call')).at(-1).sessionId;
    assert.ok(session);
    await worker.restart();
    const restarted = nextSeq();
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'after' } })), 'after');
    const later = full.requests.filter((r) => r.seq > restarted);
    assert.deepEqual(later.filter((r) => r.rpc.includes('initialize')).length, 0, 'no new upstream session');
    assert.deepEqual(later.filter((r) => r.rpc.includes('tools/call')).map((r) => [r.sessionId, r.status]), [[session, 200]]);
    await client.close();
  });

  // A legacy HTTP+SSE session lives in Bindify's session object, whose memory a restart
  // clears: its messages and its resumption get the shared 404, which tells a client to start
  // a new session, and a new session works.
  test('an HTTP+SSE session cut by a restart fails with a 404 on its next message, and a new session works', async () => {
    const client = await connectClient(urls.full.sseUrl, { kind: 'sse' });
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'before' } })), 'before');
    await worker.restart();
    const outcome = await Promise.race([
      client.callTool({ name: 'echo', arguments: { text: 'after' } }).then(textOf, (e) => e),
      delay(15_000).then(() => 'hang'),
    ]);
    assert.ok(outcome instanceof Error, String(outcome));
    assert.equal(outcome.message, 'Error POSTing to endpoint (HTTP 404): {"error":"not_found","message":"Nothing is here."}');
    await client.close();

    const fresh = await connectClient(urls.full.sseUrl, { kind: 'sse' });
    assert.equal(textOf(await fresh.callTool({ name: 'echo', arguments: { text: 'fresh' } })), 'fresh');
    await fresh.close();
  });

  // Last in this group: it looks at every request the upstreams received above.
  test('no upstream URL ever carried a token or the URL secret', () => {
    const tokens = as.tokenRequests.filter((r) => r.issued).flatMap((r) => [r.issued.access_token, r.issued.refresh_token]).filter(Boolean);
    assert.ok(tokens.length >= 6, `tokens issued: ${tokens.length}`);
    const secrets = [...tokens, ...Object.values(urls).map((u) => secretOf(u.mcpUrl))];
    const requests = [full, streamableOnly, sseOnly].flatMap((s) => s.requests);
    assert.ok(requests.length > 50, `requests: ${requests.length}`);
    const carrying = requests.filter((r) => secrets.some((secret) => r.url.includes(secret)));
    assert.deepEqual(carrying.map((r) => `${r.method} ${r.path}: its query holds a token or a URL secret`), []);
  });
});

describe('MCP through the permanent URL: bad input', () => {
  let as;
  let mcp;
  let down;
  let worker;
  let browser;
  let url;
  let downUrl;

  before(async () => {
    as = await startOAuthServer({ accessTokenTTL: 60 });
    [mcp, down] = await Promise.all([
      startMcpServer({ issuer: as.issuer }),
      startMcpServer({ issuer: as.issuer }),
    ]);
    worker = await startWorker({
      vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true', DEMO_SERVER_URL: mcp.url },
    });
    browser = await launchBrowser();
    const page = await browser.newPage();
    url = (await connectInBrowser(page, worker.url, { preset: 'demo' })).mcpUrl;
    downUrl = (await connectInBrowser(page, worker.url, { serverUrl: down.url })).mcpUrl;
    await page.close();
  });

  after(async () => {
    await browser?.close();
    await worker?.stop();
    await mcp?.stop();
    await as?.stop();
  });

  const post = (target, body, headers = {}) => fetch(target, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body,
  });

  async function expectRefusal(response, status, code, id = null) {
    assert.equal(response.status, status);
    assert.equal(response.headers.get('content-type'), 'application/json');
    const body = await response.json();
    assert.equal(body.jsonrpc, '2.0');
    assert.equal(body.id, id);
    assert.equal(body.error.code, code);
    return body;
  }

  test('each bad input gets its exact answer and the upstream sees nothing', async () => {
    const seen = mcp.requests.length;
    const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });

    const wrongSecret = await post(url.replace(secretOf(url), 'B'.repeat(43)), initialize);
    assert.equal(wrongSecret.status, 404);
    assert.deepEqual(await wrongSecret.json(), { error: 'not_found', message: 'Nothing is here.' });

    const parse = await expectRefusal(await post(url, '{"jsonrpc":'), 400, -32700);
    assert.match(parse.error.message, /^Parse error/);
    await expectRefusal(await post(url, '{"jsonrpc":"2.0","id":5,"method":7}'), 400, -32600, 5);
    await expectRefusal(await post(url, '{"jsonrpc":"1.0","id":"a","method":"ping"}'), 400, -32600, 'a');
    await expectRefusal(await post(url, '[]'), 400, -32600);
    await expectRefusal(await post(url, ''), 400, -32700);

    const huge = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(5 * 1024 * 1024) } } });
    await expectRefusal(await post(url, huge), 413, -32600);

    const foreign = await expectRefusal(await post(url, initialize, { origin: 'https://evil.example' }), 403, -32004);
    assert.match(foreign.error.message, /Origin/);

    const put = await fetch(url, { method: 'PUT', body: initialize });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get('allow'), 'GET, POST, DELETE');

    const message = url.replace(/\/mcp$/, '/message?session=nope');
    await expectRefusal(await post(message, '{oops'), 400, -32700);

    assert.equal(mcp.requests.length, seen, 'no bad input reached the upstream');
  });

  test('revisions 2025-03-26, 2025-06-18 and 2025-11-25 each work, with their headers carried through', async () => {
    // The answer to a POST is JSON or a short SSE stream; this reads the JSON-RPC message either way.
    const message = async (response) => {
      const text = await response.text();
      if (text.startsWith('{')) return JSON.parse(text);
      const data = text.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).filter(Boolean);
      return JSON.parse(data.at(-1));
    };
    for (const version of ['2025-03-26', '2025-06-18', '2025-11-25']) {
      const init = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }));
      assert.equal(init.status, 200, version);
      const session = init.headers.get('mcp-session-id');
      assert.ok(session, `${version}: the upstream's session id reaches the client`);
      assert.equal((await message(init)).result.protocolVersion, version);
      const headers = { 'mcp-session-id': session, 'mcp-protocol-version': version };
      const initialized = await post(url, '{"jsonrpc":"2.0","method":"notifications/initialized"}', headers);
      assert.equal(initialized.status, 202, version);
      const call = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: version } } }), headers);
      assert.equal(call.status, 200);
      assert.equal((await message(call)).result.content[0].text, version);
      const seen = mcp.requests.at(-1);
      assert.equal(seen.sessionId, session);
      assert.equal(seen.protocolVersion, version);
      const ended = await fetch(url, { method: 'DELETE', headers });
      assert.equal(ended.status, 200, `${version}: DELETE ends the session`);
      const gone = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping' }), headers);
      assert.equal(gone.status, 404, `${version}: a deleted session answers 404, so the client re-initializes`);
    }
  });

  test('an upstream that is down gets a JSON-RPC error naming it, with the request id', async () => {
    await down.stop();
    const initialize = JSON.stringify({ jsonrpc: '2.0', id: 'init-1', method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
    const response = await post(downUrl, initialize);
    const body = await expectRefusal(response, 200, -32003, 'init-1');
    assert.match(body.error.message, new RegExp(`could not reach the MCP server ${down.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.equal(response.headers.get('retry-after'), '10');
  });

  test('a revoked grant is a JSON-RPC error with the reconnect link, never a bare 401', async () => {
    const client = await connectClient(url);
    await as.revokeGrantsFor();
    mcp.revokeSeenTokens();
    const error = await client.callTool({ name: 'echo', arguments: { text: 'x' } }).catch((e) => e);
    assert.ok(error instanceof McpError, String(error));
    assert.equal(error.code, -32001);
    const status = await (await fetch(url.replace(/mcp$/, 'status'))).json();
    assert.equal(status.state, 'needs_reauth');
    // The way back is the dashboard's page for the connection, which needs the owner; the
    // error, which clients show to the model and write to logs, carries no URL secret.
    const reconnectUrl = `${worker.url}/manage/${status.id}/reconnect`;
    assert.ok(error.message.includes(`Open ${reconnectUrl} in a browser`), error.message);
    assert.equal(error.data?.reconnect_url, reconnectUrl);
    assert.ok(!JSON.stringify({ message: error.message, data: error.data }).includes(secretOf(url)));
    await client.close();
  });
});

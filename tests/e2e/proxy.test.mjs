// The permanent URL speaks MCP: the official SDK's clients over Streamable HTTP and HTTP+SSE,
// mcp-remote as Claude Desktop runs it, both transport bridges, transparent refresh through the
// upstream's 401, and every bad input answered exactly without reaching the upstream.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

import { startOAuthServer } from '../fixtures/oauth-server.mjs';
import { startMcpServer } from '../fixtures/mcp-server.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { node22, testsDir } from '../lib/paths.mjs';
import { startWorker } from '../lib/worker.mjs';
import { connectClient, exerciseEverything, textOf } from './mcp-clients.mjs';
import { connectInBrowser, newKey, secretOf } from './support.mjs';

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
    // Every request reached the upstream with Bindify's bearer token.
    assert.ok(full.requests.slice(seen).every((r) => r.authorization));
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
    const refreshesBefore = as.tokenRequests.filter((r) => r.grant_type === 'refresh_token').length;
    for (let round = 0; round < 3; round += 1) {
      assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: `round ${round}` } })), `round ${round}`);
      if (round === 1) {
        // The upstream revokes every token it has seen: the next call gets a 401 upstream.
        full.revokeSeenTokens();
      } else {
        await delay(TTL * 1000 + 500);
      }
    }
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'last' } })), 'last');
    assert.ok(full.requests.some((r) => r.status === 401), 'the upstream answered 401 at least once');
    const refreshes = as.tokenRequests.filter((r) => r.grant_type === 'refresh_token').slice(refreshesBefore);
    assert.ok(refreshes.length >= 2, `refreshes: ${refreshes.length}`);
    assert.ok(refreshes.every((r) => r.status === 200 && r.resource === full.resource));
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

  test('a Streamable HTTP session survives a restart of wrangler dev', async () => {
    const client = await connectClient(urls.full.mcpUrl);
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'before' } })), 'before');
    await worker.restart();
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'after' } })), 'after');
    await client.close();
  });

  test('an HTTP+SSE stream cut by a restart ends in a clean error, and a new session works', async () => {
    const client = await connectClient(urls.full.sseUrl, { kind: 'sse' });
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'before' } })), 'before');
    await worker.restart();
    const outcome = await Promise.race([
      client.callTool({ name: 'echo', arguments: { text: 'after' } }).then(textOf, (e) => e),
      delay(15_000).then(() => 'hang'),
    ]);
    assert.notEqual(outcome, 'hang', 'the call must not hang');
    if (outcome !== 'after') assert.ok(outcome instanceof Error, String(outcome));
    await client.close().catch(() => {});
    const fresh = await connectClient(urls.full.sseUrl, { kind: 'sse' });
    assert.equal(textOf(await fresh.callTool({ name: 'echo', arguments: { text: 'fresh' } })), 'fresh');
    await fresh.close();
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

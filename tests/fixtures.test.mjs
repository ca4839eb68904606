// Proves the test peers are real and behave like hosted OAuth MCP servers, with no Bindify in
// the loop: the MCP SDK's own client authorizes against the oidc-provider AS and talks to the
// MCP server; refresh rotation, reuse detection, expiry and outages behave as specified. Last,
// the Worker harness (lib/worker.mjs) runs a stand-in Worker, so it is known to work before
// Bindify's own build is tried under it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import { discoverAuthorizationServerMetadata, refreshAuthorization } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InvalidGrantError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { ElicitRequestSchema, LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { decodeJwt } from 'jose';

import { GREETING } from './fixtures/mcp-tools.mjs';
import { startMcpServer } from './fixtures/mcp-server.mjs';
import { startOAuthServer } from './fixtures/oauth-server.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { filesContaining } from './lib/kv.mjs';
import { authorizeManually, connectSdkClient, MemoryOAuthClientProvider, startCallbackServer, tokenRequest } from './lib/oauth-client.mjs';
import { startWorker } from './lib/worker.mjs';

let browser;
let callback;

before(async () => {
  browser = await launchBrowser();
  callback = await startCallbackServer();
});

after(async () => {
  await browser?.close();
  await callback?.stop();
});

describe('default AS and MCP server', () => {
  let as;
  let mcp;
  let streamable; // { client, oauth } connected over Streamable HTTP
  let sse; // { client, oauth } connected over HTTP+SSE

  before(async () => {
    as = await startOAuthServer({ accessTokenTTL: 30 });
    mcp = await startMcpServer({ issuer: as.issuer });
  });

  after(async () => {
    await streamable?.client.close();
    await sse?.client.close();
    await mcp?.stop();
    await as?.stop();
  });

  test('a request without a token gets 401 pointing at the protected resource metadata', async () => {
    const response = await postInitialize(mcp.url);
    assert.equal(response.status, 401);
    const metadataUrl = `${mcp.origin}/.well-known/oauth-protected-resource/mcp`;
    assert.equal(response.headers.get('www-authenticate'), `Bearer resource_metadata="${metadataUrl}"`);

    const metadata = await (await fetch(metadataUrl)).json();
    assert.deepEqual(metadata, {
      resource: mcp.url,
      authorization_servers: [as.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp'],
    });

    const sseResponse = await fetch(mcp.sseUrl);
    assert.equal(sseResponse.status, 401);
    assert.match(sseResponse.headers.get('www-authenticate'), /resource_metadata=".*\/oauth-protected-resource\/sse"/);

    const forged = await postInitialize(mcp.url, 'not-a-jwt');
    assert.equal(forged.status, 401);
    assert.match(forged.headers.get('www-authenticate'), /error="invalid_token"/);
  });

  test('the SDK client authorizes (registration, PKCE S256, resource) and calls tools over Streamable HTTP', async () => {
    streamable = await connectSdkClient({ url: mcp.url, browser, callbackUrl: callback.url });
    const { client, oauth } = streamable;

    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ['add', 'ask_user', 'echo', 'slow_progress']);
    const echoed = await client.callTool({ name: 'echo', arguments: { text: 'héllo' } });
    assert.deepEqual(echoed.content, [{ type: 'text', text: 'héllo' }]);
    const greeting = await client.readResource({ uri: 'demo://greeting' });
    assert.equal(greeting.contents[0].text, GREETING);

    const registration = as.registrations.at(-1);
    assert.equal(registration.status, 201);
    assert.equal(registration.metadata.token_endpoint_auth_method, 'none');
    const authorization = as.authorizationRequests.at(-1);
    assert.equal(authorization.code_challenge_method, 'S256');
    assert.equal(authorization.resource, mcp.url);
    const exchange = as.tokenRequests.at(-1);
    assert.deepEqual(
      { grant_type: exchange.grant_type, resource: exchange.resource, status: exchange.status },
      { grant_type: 'authorization_code', resource: mcp.url, status: 200 },
    );

    const { access_token: accessToken, refresh_token: refreshToken } = oauth.tokens();
    assert.deepEqual([exchange.issued.access_token, exchange.issued.refresh_token], [accessToken, refreshToken]);
    assert.ok(refreshToken, 'a refresh token is issued without asking for offline_access');
    const claims = decodeJwt(accessToken);
    assert.equal(claims.aud, mcp.url);
    assert.equal(claims.iss, as.issuer);
    assert.equal(claims.exp - claims.iat, 30);
    assert.equal(claims.scope, 'mcp');
    const toolCall = mcp.requests.find((r) => r.rpc.includes('tools/call'));
    assert.equal(toolCall.authorization, accessToken);
    assert.ok(toolCall.sessionId);
  });

  test('progress notifications and elicitation reach the client', async () => {
    const { client } = streamable;
    const progress = [];
    const result = await client.callTool(
      { name: 'slow_progress', arguments: { steps: 3, intervalMs: 20 } },
      undefined,
      { onprogress: (p) => progress.push(p.progress) },
    );
    assert.deepEqual(result.content, [{ type: 'text', text: 'done: 3 steps' }]);
    assert.deepEqual(progress, [1, 2, 3]);

    client.setRequestHandler(ElicitRequestSchema, async (request) => ({
      action: 'accept',
      content: { answer: `blue, to "${request.params.message}"` },
    }));
    const answer = await client.callTool({ name: 'ask_user', arguments: { question: 'Colour?' } });
    assert.deepEqual(JSON.parse(answer.content[0].text), { action: 'accept', content: { answer: 'blue, to "Colour?"' } });
  });

  test('the legacy HTTP+SSE transport is its own resource', async () => {
    sse = await connectSdkClient({ url: mcp.sseUrl, kind: 'sse', browser, callbackUrl: callback.url });
    const sum = await sse.client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
    assert.deepEqual(sum.content, [{ type: 'text', text: '5' }]);

    const sseToken = sse.oauth.tokens().access_token;
    assert.equal(decodeJwt(sseToken).aud, mcp.sseUrl);
    const wrongAudience = await postInitialize(mcp.url, sseToken);
    assert.equal(wrongAudience.status, 401);
    assert.match(wrongAudience.headers.get('www-authenticate'), /error="invalid_token"/);
  });

  test('refresh rotates the refresh token; reusing a used one gets invalid_grant and revokes the grant', async () => {
    const { oauth } = streamable;
    const metadata = await discoverAuthorizationServerMetadata(as.issuer);
    const refresh = (refreshToken) => refreshAuthorization(as.issuer, {
      metadata, clientInformation: oauth.clientInformation(), refreshToken, resource: new URL(mcp.url),
    });
    const first = oauth.tokens().refresh_token;

    const rotated = await refresh(first);
    assert.notEqual(rotated.refresh_token, first);
    assert.notEqual(rotated.access_token, oauth.tokens().access_token);
    assert.equal((await postInitialize(mcp.url, rotated.access_token)).status, 200);

    await assert.rejects(refresh(first), InvalidGrantError);
    // The reuse revoked the grant, so the refresh token that replaced `first` is dead too.
    await assert.rejects(refresh(rotated.refresh_token), InvalidGrantError);

    const refreshes = as.tokenRequests.filter((r) => r.grant_type === 'refresh_token').slice(-3);
    assert.deepEqual(refreshes.map((r) => [r.status, r.error ?? null, r.resource]), [
      [200, null, mcp.url],
      [400, 'invalid_grant', mcp.url],
      [400, 'invalid_grant', mcp.url],
    ]);
  });

  test('setDown makes the token endpoint answer 503 without spending the refresh token', async () => {
    const { oauth } = sse;
    const metadata = await discoverAuthorizationServerMetadata(as.issuer);
    const refresh = () => refreshAuthorization(as.issuer, {
      metadata, clientInformation: oauth.clientInformation(), refreshToken: oauth.tokens().refresh_token, resource: new URL(mcp.sseUrl),
    });

    as.setDown(true);
    try {
      await assert.rejects(refresh(), (err) => err.errorCode === 'temporarily_unavailable');
    } finally {
      as.setDown(false);
    }
    const down = as.tokenRequests.at(-1);
    assert.deepEqual([down.status, down.grant_type, down.client_id], [503, 'refresh_token', oauth.clientInformation().client_id]);

    oauth.saveTokens(await refresh());
    assert.equal(as.tokenRequests.at(-1).status, 200);
  });

  test('closeSessions ends sessions: their next request gets 404', async () => {
    const { client, oauth } = streamable;
    const sessionId = client.transport.sessionId;
    await mcp.closeSessions();
    const response = await fetch(mcp.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${oauth.tokens().access_token}`,
        'mcp-session-id': sessionId,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    assert.equal(response.status, 404);
  });

  test('revokeGrantsFor makes the next refresh fail with invalid_grant', async () => {
    const { oauth } = sse;
    assert.equal(await as.revokeGrantsFor(oauth.clientInformation().client_id), 1);
    const metadata = await discoverAuthorizationServerMetadata(as.issuer);
    await assert.rejects(refreshAuthorization(as.issuer, {
      metadata, clientInformation: oauth.clientInformation(), refreshToken: oauth.tokens().refresh_token, resource: new URL(mcp.sseUrl),
    }), InvalidGrantError);
  });
});

test('a hand-rolled client without scope is served; of two concurrent refreshes with one token, one loses the grant', async () => {
  const as = await startOAuthServer({ accessTokenTTL: 30 });
  const resource = 'http://127.0.0.1:9/mcp'; // any loopback resource is accepted
  try {
    const { clientId, tokens, tokenEndpoint } = await authorizeManually({ issuer: as.issuer, resource, browser, callbackUrl: callback.url });
    assert.equal(as.authorizationRequests.at(-1).scope, undefined);
    assert.equal(tokens.scope, 'mcp');
    assert.equal(decodeJwt(tokens.access_token).aud, resource);

    const refresh = () => tokenRequest(tokenEndpoint, { grant_type: 'refresh_token', client_id: clientId, refresh_token: tokens.refresh_token, resource });
    const outcomes = await Promise.all([refresh(), refresh()]);
    assert.deepEqual(outcomes.map(({ status, body }) => [status, body.error ?? null]), [[200, null], [400, 'invalid_grant']]);
    const winner = outcomes[0].body.refresh_token;
    const afterRace = await tokenRequest(tokenEndpoint, { grant_type: 'refresh_token', client_id: clientId, refresh_token: winner, resource });
    assert.equal(afterRace.body.error, 'invalid_grant', 'the losing reuse revoked the grant');
  } finally {
    await as.stop();
  }
});

test('issuer with a path, metadata only at the root, no challenge, and expiring access tokens', async () => {
  const as = await startOAuthServer({ issuerPath: '/tenant', accessTokenTTL: 2 });
  const mcp = await startMcpServer({ issuer: as.issuer, transports: ['streamable'], challenge: false, metadataAt: 'root' });
  let connection;
  try {
    const unauthenticated = await postInitialize(mcp.url);
    assert.equal(unauthenticated.status, 401);
    assert.equal(unauthenticated.headers.get('www-authenticate'), 'Bearer');
    assert.equal((await fetch(`${mcp.origin}/.well-known/oauth-protected-resource/mcp`)).status, 404);

    // The SDK client falls back to the root metadata and to discovery below the issuer's path.
    connection = await connectSdkClient({ url: mcp.url, browser, callbackUrl: callback.url });
    const echoed = await connection.client.callTool({ name: 'echo', arguments: { text: 'tenant' } });
    assert.deepEqual(echoed.content, [{ type: 'text', text: 'tenant' }]);

    const { access_token: accessToken } = connection.oauth.tokens();
    assert.equal(as.issuer, `${as.origin}/tenant`);
    assert.equal(decodeJwt(accessToken).iss, as.issuer);
    assert.equal((await postInitialize(mcp.url, accessToken)).status, 200);
    await delay(3000);
    const expired = await postInitialize(mcp.url, accessToken);
    assert.equal(expired.status, 401);
    assert.match(expired.headers.get('www-authenticate'), /^Bearer error="invalid_token"/);
  } finally {
    await connection?.client.close();
    await mcp.stop();
    await as.stop();
  }
});

test('an AS without S256 in its metadata is refused by the SDK client', async () => {
  const as = await startOAuthServer({ s256: false });
  const mcp = await startMcpServer({ issuer: as.issuer, transports: ['streamable'] });
  try {
    const metadata = await (await fetch(`${as.issuer}/.well-known/openid-configuration`)).json();
    assert.deepEqual(metadata.code_challenge_methods_supported, ['plain']);
    const client = new Client({ name: 'fixtures-test', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: new MemoryOAuthClientProvider(callback.url) });
    await assert.rejects(client.connect(transport), /S256|code challenge/i);
    assert.equal(as.authorizationRequests.length, 0);
  } finally {
    await mcp.stop();
    await as.stop();
  }
});

test('registration: false offers no registration; \'refuse\' offers one that says no', async () => {
  const closed = await startOAuthServer({ registration: false });
  const refusing = await startOAuthServer({ registration: 'refuse' });
  const register = (issuer) => fetch(`${issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [callback.url], token_endpoint_auth_method: 'none' }),
  });
  try {
    const closedMetadata = await (await fetch(`${closed.issuer}/.well-known/openid-configuration`)).json();
    assert.equal(closedMetadata.registration_endpoint, undefined);
    assert.equal((await register(closed.issuer)).status, 404);

    const refusingMetadata = await (await fetch(`${refusing.issuer}/.well-known/openid-configuration`)).json();
    assert.equal(refusingMetadata.registration_endpoint, `${refusing.issuer}/reg`);
    const refused = await register(refusing.issuer);
    assert.equal(refused.status, 400);
    assert.equal((await refused.json()).error, 'invalid_client_metadata');
    assert.deepEqual(refusing.registrations.map((r) => [r.status, r.metadata.redirect_uris[0]]), [[400, callback.url]]);
  } finally {
    await closed.stop();
    await refusing.stop();
  }
});

test('startWorker runs a Worker under wrangler dev with .dev.vars, KV, a Durable Object, cron and restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bindify-standin-'));
  const main = join(dir, 'index.js');
  const config = join(dir, 'wrangler.toml');
  writeFileSync(main, STAND_IN_WORKER);
  writeFileSync(config, STAND_IN_CONFIG);
  let worker;
  try {
    await assert.rejects(startWorker({ main: join(dir, 'missing.js'), config }), /missing\.js is missing: build the Worker first/);

    worker = await startWorker({ main, config, vars: { SECRET: 'from-dev-vars', GREETING: 'overridden' } });
    const get = async (path) => (await fetch(`${worker.url}${path}`)).text();
    assert.equal(await get('/vars'), 'from-dev-vars overridden');
    assert.equal(await get('/put?value=plaintext-canary-4711'), 'stored');
    assert.equal(await get('/count'), '1');
    assert.deepEqual(await worker.cron(), { status: 200, body: 'ok' });
    assert.equal(await get('/last-cron'), '*/5 * * * *');

    await worker.restart();
    assert.equal(await get('/get'), 'plaintext-canary-4711', 'KV survives a restart');
    assert.equal(await get('/count'), '2', 'Durable Object storage survives a restart');
    await worker.stop();

    assert.ok(filesContaining(worker.persistDir, 'plaintext-canary-4711').length > 0);
    assert.deepEqual(filesContaining(worker.persistDir, 'never-stored'), []);
  } finally {
    await worker?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

// A stand-in for the Bindify build, with the same kinds of bindings, and a [build] step that
// would fail if startWorker ran it.
const STAND_IN_CONFIG = `name = "standin"
main = "index.js"
compatibility_date = "2025-09-01"

[build]
command = "exit 1"

[[kv_namespaces]]
binding = "VAULT"
id = "standin-vault"

[[durable_objects.bindings]]
name = "COUNTER"
class_name = "Counter"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Counter"]

[triggers]
crons = ["*/5 * * * *"]

[vars]
GREETING = "from-toml"
`;

const STAND_IN_WORKER = `import { DurableObject } from 'cloudflare:workers';

export class Counter extends DurableObject {
  async fetch() {
    const count = ((await this.ctx.storage.get('count')) ?? 0) + 1;
    await this.ctx.storage.put('count', count);
    return new Response(String(count));
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case '/vars': return new Response(env.SECRET + ' ' + env.GREETING);
      case '/put': await env.VAULT.put('value', url.searchParams.get('value')); return new Response('stored');
      case '/get': return new Response(await env.VAULT.get('value'));
      case '/count': return env.COUNTER.get(env.COUNTER.idFromName('one')).fetch(request);
      case '/last-cron': return new Response(await env.VAULT.get('cron'));
      default: return new Response('not found', { status: 404 });
    }
  },
  async scheduled(event, env) {
    await env.VAULT.put('cron', event.cron);
  },
};
`;

/** POSTs an initialize request, reads the whole answer, returns { status, headers, body }. */
async function postInitialize(url, token) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw-fetch', version: '1' } },
    }),
  });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

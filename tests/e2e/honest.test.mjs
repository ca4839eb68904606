// Failures that say what really happened: Bindify's own storage failing under a connection,
// the encryption key missing, malformed or changed, and an authorization server down for long
// enough that the background retries wait minutes, after which the first call works. Each
// group runs its own authorization server (oidc-provider), MCP server (the SDK's) and Worker.
import assert from 'node:assert/strict';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';

import { startMcpServer } from '../fixtures/mcp-server.mjs';
import { startOAuthServer } from '../fixtures/oauth-server.mjs';
import { startWorker } from '../lib/worker.mjs';
import { connectHeadless } from './headless.mjs';
import { newKey } from './support.mjs';

const AUTH_SERVER_UNAVAILABLE = -32002;
const STORAGE_FAILED = -32007;
const MISCONFIGURED = -32008;
/** Bindify's attempts at a failing token endpoint on behalf of requests are this far apart. */
const DEMAND_REFRESH_INTERVAL_MS = 5_000;

const NOT_INVOLVED = 'The MCP server and its authorization server are not involved.';
const storageMessage = (failed) => `Bindify's own storage failed: ${failed}. ${NOT_INVOLVED} The operator can look at the Worker's log (\`npx wrangler tail\`) and at Cloudflare's status page for Durable Objects. Try again in a minute.`;
const RECORD_UNREADABLE = storageMessage('the Durable Object that holds this connection could not read or write its record');
const OBJECT_SILENT = storageMessage('the Durable Object that holds this connection did not answer');
const KEY_MISSING = `Bindify is not configured: TOKEN_ENCRYPTION_KEY is not set, so no connection can be opened. ${NOT_INVOLVED} The operator must set it to the key the connections were stored with: \`npx wrangler secret put TOKEN_ENCRYPTION_KEY\` (a Worker without connections can take a new one from \`openssl rand -base64 32\`).`;
const KEY_MALFORMED = `Bindify is not configured: TOKEN_ENCRYPTION_KEY is not valid base64; it must be 32 random bytes in base64, generated with \`openssl rand -base64 32\`. ${NOT_INVOLVED} The operator must set it again: \`npx wrangler secret put TOKEN_ENCRYPTION_KEY\`.`;
const PREVIOUS_MALFORMED = `Bindify is not configured: TOKEN_ENCRYPTION_KEY_PREVIOUS must be the previous TOKEN_ENCRYPTION_KEY, 32 bytes in base64 (it decodes to 5 bytes). ${NOT_INVOLVED} The operator must set it again to the key the older connections were stored with (\`npx wrangler secret put TOKEN_ENCRYPTION_KEY_PREVIOUS\`), or delete it if none was stored with that key (\`npx wrangler secret delete TOKEN_ENCRYPTION_KEY_PREVIOUS\`).`;
const KEY_CHANGED = `Bindify is misconfigured: this connection's record does not open with the configured TOKEN_ENCRYPTION_KEY; it was stored under another key. ${NOT_INVOLVED} If the key was changed, the operator puts the old key back, or sets it as TOKEN_ENCRYPTION_KEY_PREVIOUS (\`npx wrangler secret put TOKEN_ENCRYPTION_KEY_PREVIOUS\`) and raises TOKEN_ENCRYPTION_KEY_VERSION by one (see docs/configuration.md).`;

async function startStack({ accessTokenTTL }) {
  const as = await startOAuthServer({ accessTokenTTL });
  const mcp = await startMcpServer({ issuer: as.issuer });
  const vars = { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true', DEMO_SERVER_URL: mcp.url };
  const worker = await startWorker({ vars });
  return { as, mcp, worker, vars };
}

async function stopStack(stack, clients = []) {
  await Promise.allSettled(clients.map((c) => c.close()));
  await stack?.worker?.stop();
  await stack?.mcp?.stop();
  await stack?.as?.stop();
}

async function newClient(mcpUrl) {
  const client = new Client({ name: 'bindify-honest-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl)));
  return client;
}

async function echo(client, text) {
  const result = await client.callTool({ name: 'echo', arguments: { text } }, undefined, { timeout: 15_000 });
  assert.notEqual(result.isError, true, JSON.stringify(result));
  return result.content[0].text;
}

/** A JSON-RPC request to a permanent URL, as any MCP client sends it. */
async function call(mcpUrl, id, method = 'tools/list') {
  const response = await fetch(mcpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id, method, params: {} }),
  });
  return { response, body: await response.json() };
}

async function status(worker, secret) {
  const response = await fetch(`${worker.url}/s/${secret}/status`);
  return { response, body: await response.json() };
}

/** The sqlite file of connection `id`'s Durable Object in the Worker's persisted state. */
function connectionObjectFile(persistDir, id) {
  const dir = join(persistDir, 'v3', 'do', 'bindify-Connection');
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.sqlite') && n !== 'metadata.sqlite')) {
    const db = new DatabaseSync(join(dir, name), { readOnly: true });
    try {
      if (db.prepare('SELECT name FROM __miniflare_do_name').get()?.name === id) return join(dir, name);
    } finally {
      db.close();
    }
  }
  throw new Error(`no Durable Object file for connection ${id} under ${dir}`);
}

/** Replaces the stored record with bytes the runtime cannot deserialize: every read fails. */
function spoilRecord(file) {
  const db = new DatabaseSync(file);
  try {
    const { changes } = db.prepare("UPDATE _cf_KV SET value = ? WHERE key = 'record'").run(Buffer.from([0xff, 0x0f, 0x99, 0x99]));
    assert.equal(changes, 1, 'the record was there to spoil');
  } finally {
    db.close();
  }
}

/** Makes the whole database unreadable (its write-ahead log included): the object cannot start. */
function destroyDatabase(file) {
  writeFileSync(file, Buffer.alloc(8192, 'x'));
  for (const companion of [`${file}-wal`, `${file}-shm`]) rmSync(companion, { force: true });
}

const sandboxed = (response) => {
  assert.equal(response.headers.get('content-security-policy'), "sandbox; default-src 'none'");
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
};

describe("honest: Bindify's own storage fails under a connection", () => {
  let stack;
  const conns = {};
  before(async () => {
    stack = await startStack({ accessTokenTTL: 600 });
    for (const name of ['unreadable', 'silent']) {
      const conn = await connectHeadless(stack.worker.url);
      conn.id = (await status(stack.worker, conn.secret)).body.id;
      const client = await newClient(conn.mcpUrl);
      assert.equal(await echo(client, `${name} works`), `${name} works`);
      await client.close();
      conns[name] = conn;
    }
    await stack.worker.stop();
    spoilRecord(connectionObjectFile(stack.worker.persistDir, conns.unreadable.id));
    destroyDatabase(connectionObjectFile(stack.worker.persistDir, conns.silent.id));
    await stack.worker.restart();
  });
  after(() => stopStack(stack));

  for (const [name, message, storage] of [
    ['unreadable', RECORD_UNREADABLE, 'connection_record'],
    ['silent', OBJECT_SILENT, 'connection_object'],
  ]) {
    test(`a ${name === 'unreadable' ? 'record that cannot be read' : 'Durable Object that cannot start'} is Bindify's storage failing, on /mcp, /sse, status and the API`, async () => {
      const { as, mcp, worker } = stack;
      const conn = conns[name];
      const tokenRequests = as.tokenRequests.length;
      const upstreamRequests = mcp.requests.length;
      const error = { code: STORAGE_FAILED, message, data: { source: 'bindify_storage', error: 'storage_unavailable', storage } };

      const { response, body } = await call(conn.mcpUrl, 'st-1');
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('retry-after'), '60');
      sandboxed(response);
      assert.deepEqual(body, { jsonrpc: '2.0', id: 'st-1', error });

      // A stream (no request id) gets the same error with its HTTP status.
      const get = await fetch(conn.mcpUrl, { headers: { accept: 'text/event-stream' } });
      assert.equal(get.status, 503);
      assert.deepEqual(await get.json(), { jsonrpc: '2.0', id: null, error });
      const sse = await fetch(conn.sseUrl, { headers: { accept: 'text/event-stream' } });
      assert.equal(sse.status, 503);
      sandboxed(sse);
      assert.deepEqual(await sse.json(), { jsonrpc: '2.0', id: null, error });

      const shown = await status(worker, conn.secret);
      assert.equal(shown.response.status, 503);
      assert.equal(shown.response.headers.get('retry-after'), '60');
      assert.deepEqual(shown.body, { error: 'storage_unavailable', message, source: 'bindify_storage' });

      const api = await fetch(`${worker.url}/api/connections/${conn.id}`);
      assert.equal(api.status, 503);
      assert.deepEqual(await api.json(), { error: 'storage_unavailable', message, source: 'bindify_storage' });

      // Nothing reached the authorization server or the upstream, and nothing blames them.
      assert.equal(as.tokenRequests.length, tokenRequests);
      assert.equal(mcp.requests.length, upstreamRequests);
      for (const text of [message, JSON.stringify(body)]) {
        assert.ok(!text.includes(mcp.url) && !text.includes(as.issuer) && !text.includes('1970'), text);
      }
    });
  }
});

describe('honest: the encryption key is missing, malformed or changed', () => {
  let stack;
  let conn;
  before(async () => {
    stack = await startStack({ accessTokenTTL: 600 });
    conn = await connectHeadless(stack.worker.url);
  });
  after(() => stopStack(stack));

  test('each is a configuration error that names what to set (a malformed previous key names itself), and the right key brings everything back', async () => {
    const { worker, vars } = stack;
    const client = await newClient(conn.mcpUrl);
    assert.equal(await echo(client, 'sealed'), 'sealed');
    await client.close();
    const otherKey = newKey();
    const cases = [
      ['missing', { ...vars, TOKEN_ENCRYPTION_KEY: undefined }, 'encryption_key_missing', 'TOKEN_ENCRYPTION_KEY', KEY_MISSING],
      ['malformed', { ...vars, TOKEN_ENCRYPTION_KEY: 'not base64!' }, 'encryption_key_malformed', 'TOKEN_ENCRYPTION_KEY', KEY_MALFORMED],
      ['previous malformed', { ...vars, TOKEN_ENCRYPTION_KEY_PREVIOUS: 'c2hvcnQ=' }, 'encryption_key_malformed', 'TOKEN_ENCRYPTION_KEY_PREVIOUS', PREVIOUS_MALFORMED],
      ['changed', { ...vars, TOKEN_ENCRYPTION_KEY: otherKey }, 'encryption_key_mismatch', 'TOKEN_ENCRYPTION_KEY_PREVIOUS', KEY_CHANGED],
    ];
    for (const [name, changed, code, variable, message] of cases) {
      await worker.restart({ vars: Object.fromEntries(Object.entries(changed).filter(([, v]) => v !== undefined)) });
      const error = { code: MISCONFIGURED, message, data: { source: 'bindify_configuration', error: code, variable } };

      const { response, body } = await call(conn.mcpUrl, `key-${name}`);
      assert.equal(response.status, 200, name);
      assert.equal(response.headers.get('retry-after'), null, name);
      assert.deepEqual(body, { jsonrpc: '2.0', id: `key-${name}`, error }, name);

      const sse = await fetch(conn.sseUrl, { headers: { accept: 'text/event-stream' } });
      assert.equal(sse.status, 500, name);
      assert.deepEqual(await sse.json(), { jsonrpc: '2.0', id: null, error }, name);

      const shown = await status(worker, conn.secret);
      assert.equal(shown.response.status, 500, name);
      assert.deepEqual(shown.body, { error: code, message, source: 'bindify_configuration' }, name);

      // No key value ever appears; an unknown secret is still the one 404.
      for (const key of [vars.TOKEN_ENCRYPTION_KEY, otherKey]) {
        assert.ok(!JSON.stringify([body, shown.body]).includes(key), name);
      }
      const unknown = await fetch(`${worker.url}/s/${'A'.repeat(43)}/mcp`, { method: 'POST', body: '{}' });
      assert.equal(unknown.status, 404, name);
      assert.deepEqual(await unknown.json(), { error: 'not_found', message: 'Nothing is here.' }, name);
    }

    // The key the connections were stored with: nothing was lost.
    await worker.restart({ vars });
    const again = await newClient(conn.mcpUrl);
    assert.equal(await echo(again, 'unsealed'), 'unsealed');
    await again.close();
  });
});

describe('honest: an authorization server down until the background retries wait minutes', () => {
  let stack;
  let client;
  before(async () => {
    stack = await startStack({ accessTokenTTL: 3 });
  });
  after(() => stopStack(stack, [client]));

  test('the first call after it is back succeeds, with exactly one refresh and no refresh token spent twice', async () => {
    const { as, worker } = stack;
    const { mcpUrl, secret } = await connectHeadless(worker.url);
    client = await newClient(mcpUrl);
    assert.equal(await echo(client, 'up'), 'up');

    // The token endpoint goes down; the connection's alarm finds it down.
    as.setDown(true);
    const outageStart = Date.now();
    const attempts = () => as.tokenRequests.filter((r) => r.grant_type === 'refresh_token' && r.at >= outageStart);
    for (const deadline = Date.now() + 10_000; attempts().length === 0 && Date.now() < deadline;) await delay(100);
    assert.deepEqual(attempts().map((r) => r.status), [503]);
    const { access_token_expires_at: expiresAt } = (await status(worker, secret)).body;

    // Calls on the expired token: each one, a few seconds after the last attempt, tries the
    // token endpoint once and says it is down; every failure doubles the background wait.
    await delay(Math.max(Date.parse(expiresAt) + 1300 - Date.now(), attempts()[0].at + DEMAND_REFRESH_INTERVAL_MS + 200 - Date.now(), 0));
    for (let i = 1; i <= 3; i += 1) {
      await assert.rejects(echo(client, `down ${i}`), (err) => {
        assert.ok(err instanceof McpError, `${err}`);
        assert.equal(err.code, AUTH_SERVER_UNAVAILABLE, err.message);
        const retryAt = /The next request after (\S+Z) tries again \(in [1-5] s\)\.$/.exec(err.message)?.[1];
        // The issuer as Bindify stores it: a URL, with the path "/".
        const issuer = new URL(as.issuer).href;
        assert.ok(err.message.includes(`Bindify: the authorization server ${issuer} is unavailable, so the access token could not be renewed.`), err.message);
        assert.deepEqual(err.data, { authorization_server: issuer, retry_at: retryAt, state: 'error', source: 'authorization_server' });
        return true;
      });
      assert.equal(attempts().length, 1 + i, 'one attempt per call');
      await delay(DEMAND_REFRESH_INTERVAL_MS + 200);
    }
    const down = (await status(worker, secret)).body;
    assert.equal(down.state, 'error');
    const backgroundWait = Date.parse(down.next_attempt_at) - Date.now();
    assert.ok(backgroundWait > 3 * 60_000, `the alarm's next attempt is minutes away (${down.next_attempt_at})`);
    // The cron's visit leaves it alone meanwhile.
    await worker.cron();
    assert.equal(attempts().length, 4);
    assert.deepEqual(attempts().map((r) => r.status), [503, 503, 503, 503]);

    // Back up: the very next call gets a token.
    as.setDown(false);
    const recovered = Date.now();
    assert.equal(await echo(client, 'back'), 'back');
    const backAt = Date.now();
    const refreshes = as.tokenRequests.filter((r) => r.grant_type === 'refresh_token' && r.at >= recovered && r.at <= backAt);
    assert.deepEqual(refreshes.map((r) => r.status), [200], 'exactly one refresh');
    // oidc-provider rotates refresh tokens and answers a reused one with invalid_grant.
    assert.deepEqual(as.tokenRequests.filter((r) => r.error === 'invalid_grant'), []);

    const up = (await status(worker, secret)).body;
    assert.equal(up.state, 'active');
    assert.equal(up.last_error, null);
    assert.equal(up.next_attempt_at, null);
    assert.equal(await echo(client, 'still up'), 'still up');
  });
});

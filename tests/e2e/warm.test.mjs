// Warm requests and the revocation bound: a client keeps calling an old permanent URL through a
// warm isolate while its owner rotates the URL, or revokes the connection. The isolate answers
// from the grant it holds without asking the connection's object, so the old URL may answer for
// a while; REVOCATION_BOUND_SECONDS says how long at most, and this is what is checked: it
// answers until at most the bound after the rotation or revocation returned (plus the margin
// below), and from its first 404 on never again. The bound is set short (2 s) for the test;
// with 0 the object is asked on every request and the old URL stops at once.
//
// Scheduling margin: 500 ms. A request's "sent" time is taken by the test before fetch, the
// Worker decides on its own clock, which workerd advances at I/O, and the rotation takes effect
// in the object at some moment before its API answer returns.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import { startMcpServer } from '../fixtures/mcp-server.mjs';
import { startOAuthServer } from '../fixtures/oauth-server.mjs';
import { startWorker } from '../lib/worker.mjs';
import { connectHeadless } from './headless.mjs';
import { newKey } from './support.mjs';

const BOUND_MS = 2_000;
const MARGIN_MS = 500;
const NOT_FOUND = { error: 'not_found', message: 'Nothing is here.' };
const PROTOCOL = '2025-06-18';

/** A raw Streamable HTTP client of one permanent URL: exact statuses and bodies. */
async function session(mcpUrl) {
  const post = async (message, sessionId) => {
    const response = await fetch(mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': PROTOCOL,
        ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
      },
      body: JSON.stringify(message),
      signal: AbortSignal.timeout(15_000),
    });
    return { status: response.status, headers: response.headers, body: await response.text() };
  };
  const init = await post({
    jsonrpc: '2.0', id: 0, method: 'initialize',
    params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'bindify-warm-test', version: '1.0.0' } },
  });
  assert.equal(init.status, 200, init.body);
  const id = init.headers.get('mcp-session-id');
  assert.ok(id, 'the upstream gave a session');
  assert.equal((await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, id)).status, 202);
  let next = 1;
  return {
    /** One tools/call echo: when it was sent, its status, and its body. */
    async echo(text) {
      const sent = Date.now();
      const answer = await post({ jsonrpc: '2.0', id: next++, method: 'tools/call', params: { name: 'echo', arguments: { text } } }, id);
      return { sent, status: answer.status, body: answer.body, text };
    },
  };
}

/** An authorization server, an MCP server and a Worker with the demo preset and `vars`. */
async function startStack(vars) {
  const as = await startOAuthServer({ accessTokenTTL: 3600 });
  const mcp = await startMcpServer({ issuer: as.issuer });
  const worker = await startWorker({
    vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true', DEMO_SERVER_URL: mcp.url, ...vars },
  });
  return { as, mcp, worker };
}

async function stopStack(stack) {
  await stack?.worker?.stop();
  await stack?.mcp?.stop();
  await stack?.as?.stop();
}

async function connectionId(worker, secret) {
  const response = await fetch(`${worker.url}/s/${secret}/status`);
  assert.equal(response.status, 200);
  return (await response.json()).id;
}

/**
 * Calls `client` every 50 ms while `act` runs and until the bound and two more seconds have
 * passed after it returned. Returns the calls and when `act` started and returned.
 */
async function callThrough(client, act) {
  const calls = [];
  let stopAt = Infinity;
  const calling = (async () => {
    for (let i = 0; Date.now() < stopAt; i += 1) {
      calls.push(await client.echo(`call ${i}`));
      await delay(50);
    }
  })();
  await delay(1_000);
  const started = Date.now();
  const acted = await act();
  const returned = Date.now();
  stopAt = returned + BOUND_MS + 2_000;
  await calling;
  return { calls, started, returned, acted };
}

/** The JSON-RPC message of an answer, whether JSON or a one-event SSE stream. */
function rpcResult(body) {
  const data = body.trimStart().startsWith('{')
    ? body
    : body.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('');
  return JSON.parse(data);
}

/** What the old URL did once `act` returned: exact outcomes, and when it last answered. */
function assertBoundHeld({ calls, started, returned }) {
  for (const call of calls) {
    if (call.status === 200) {
      assert.equal(rpcResult(call.body).result.content[0].text, call.text);
    } else {
      assert.equal(call.status, 404, call.body);
      assert.deepEqual(JSON.parse(call.body), NOT_FOUND);
    }
  }
  assert.deepEqual(calls.filter((c) => c.sent < started).map((c) => c.status), calls.filter((c) => c.sent < started).map(() => 200), 'before: every call answered');
  const firstGone = calls.findIndex((c) => c.status === 404);
  assert.ok(firstGone > 0, 'the old URL stopped answering');
  assert.deepEqual(calls.slice(firstGone).map((c) => c.status), calls.slice(firstGone).map(() => 404), 'once gone, never again');
  const lastAnswered = calls[firstGone - 1];
  assert.ok(
    lastAnswered.sent <= returned + BOUND_MS + MARGIN_MS,
    `answered a call sent ${lastAnswered.sent - returned} ms after the change returned (bound ${BOUND_MS} ms)`,
  );
  return { answeredAfter: calls.filter((c) => c.status === 200 && c.sent >= returned).length, lastAnsweredMs: lastAnswered.sent - returned };
}

describe(`warm requests: the revocation bound (REVOCATION_BOUND_SECONDS=${BOUND_MS / 1000})`, () => {
  let stack;
  before(async () => {
    stack = await startStack({ REVOCATION_BOUND_SECONDS: String(BOUND_MS / 1000) });
  });
  after(() => stopStack(stack));

  test('a rotated-away URL answers at most the bound after the rotation, then 404 for good', async (t) => {
    const { worker } = stack;
    const { mcpUrl, secret } = await connectHeadless(worker.url);
    const id = await connectionId(worker, secret);
    const client = await session(mcpUrl);
    const run = await callThrough(client, async () => {
      const response = await fetch(`${worker.url}/api/connections/${id}/rotate`, { method: 'POST' });
      assert.equal(response.status, 200);
      return response.json();
    });
    assert.equal(run.acted.old_url_answers_for_seconds, BOUND_MS / 1000);
    const seen = assertBoundHeld(run);
    t.diagnostic(`the old URL answered ${seen.answeredAfter} calls after the rotation returned, the last sent ${seen.lastAnsweredMs} ms after it`);
    // The new URL works, with a session of its own.
    const fresh = await session(run.acted.mcp_url);
    assert.equal((await fresh.echo('new URL')).status, 200);
  });

  test('a revoked connection\'s URL answers at most the bound after the revocation, then 404 for good', async (t) => {
    const { worker } = stack;
    const { mcpUrl, secret } = await connectHeadless(worker.url);
    const id = await connectionId(worker, secret);
    const client = await session(mcpUrl);
    const run = await callThrough(client, async () => {
      const response = await fetch(`${worker.url}/api/connections/${id}`, { method: 'DELETE' });
      assert.equal(response.status, 200);
      return response.json();
    });
    assert.deepEqual(run.acted, { revoked: true, upstream_revocation: 'revoked', old_url_answers_for_seconds: BOUND_MS / 1000 });
    const seen = assertBoundHeld(run);
    t.diagnostic(`the revoked URL answered ${seen.answeredAfter} calls after the revocation returned, the last sent ${seen.lastAnsweredMs} ms after it`);
    const status = await fetch(`${worker.url}/s/${secret}/status`);
    assert.equal(status.status, 404);
    assert.deepEqual(await status.json(), NOT_FOUND);
  });
});

describe('warm requests: REVOCATION_BOUND_SECONDS=0 asks the object on every request', () => {
  let stack;
  before(async () => {
    stack = await startStack({ REVOCATION_BOUND_SECONDS: '0' });
  });
  after(() => stopStack(stack));

  test('the old URL stops at once', async () => {
    const { worker } = stack;
    const { mcpUrl, secret } = await connectHeadless(worker.url);
    const id = await connectionId(worker, secret);
    const client = await session(mcpUrl);
    const run = await callThrough(client, async () => {
      const response = await fetch(`${worker.url}/api/connections/${id}/rotate`, { method: 'POST' });
      assert.equal(response.status, 200);
      return response.json();
    });
    assert.equal(run.acted.old_url_answers_for_seconds, 0);
    assertBoundHeld(run);
    const after = run.calls.filter((c) => c.sent >= run.returned);
    assert.ok(after.length > 10);
    assert.deepEqual(after.map((c) => c.status), after.map(() => 404), 'no call sent after the rotation returned is answered');
  });
});

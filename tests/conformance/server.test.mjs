// The MCP conformance suite's server scenarios, run against the project's everything server
// (tests/conformance/everything-server.mjs, behind the tests' real OAuth server) twice: directly,
// with an access token of its own, and through a Bindify connection's permanent /mcp URL, which
// presents none. Bindify is transparent when every scenario passes both ways with the same
// verdict on every check: server-to-client requests (sampling, elicitation), several
// concurrent streams, SSE polling and DNS-rebinding protection included.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { request } from 'undici';

import { startOAuthServer } from '../fixtures/oauth-server.mjs';
import { startWorker } from '../lib/worker.mjs';
import { startEverythingServer } from './everything-server.mjs';
import { Owner } from './owner.mjs';
import { listScenarios, runServerScenario } from './suite.mjs';
import { obtainAccessToken } from './token.mjs';

const scenarios = await listScenarios('server');

/** Each check's id and verdict, in a stable order, for comparing two runs. */
const verdicts = (checks) => checks.map((c) => `${c.id}: ${c.status}`).sort();

describe('conformance: every server scenario, directly and through Bindify', () => {
  let as;
  let everything;
  let worker;
  let token;
  let mcpUrl;

  before(async () => {
    as = await startOAuthServer({ accessTokenTTL: 3600 });
    everything = await startEverythingServer({ issuer: as.issuer });
    token = await obtainAccessToken(as.issuer, everything.resource);
    worker = await startWorker({ vars: { TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'), ALLOW_LOOPBACK_HTTP: 'true' } });
    ({ mcpUrl } = await new Owner(worker.url, { fields: { login: 'owner', password: 'any-password' } }).connect(everything.url));
  });

  after(async () => {
    await worker?.stop();
    await everything?.stop();
    await as?.stop();
  });

  test('the installed suite has server scenarios to run', () => {
    assert.ok(scenarios.length >= 30, `server scenarios listed: ${scenarios.map((s) => s.name)}`);
  });

  for (const { name } of scenarios) {
    test(name, async () => {
      const direct = await runServerScenario(name, { url: everything.url, bearer: { origin: everything.origin, token } });
      assert.ok(direct.passed, `the everything server fails ${name} on its own:\n  ${direct.bad.join('\n  ')}\n${direct.output.slice(-2000)}`);
      const proxied = await runServerScenario(name, { url: mcpUrl });
      assert.ok(proxied.passed, `${name} fails through Bindify:\n  ${proxied.bad.join('\n  ')}\n${proxied.output.slice(-2000)}`);
      assert.deepEqual(verdicts(proxied.checks), verdicts(direct.checks), `${name}: the checks differ through Bindify`);
    });
  }

  test('SSE polling with a 2025-11-25 client: the stream closes mid-call and the result arrives after resuming', async () => {
    for (const [url, headers] of [[everything.url, { authorization: `Bearer ${token}` }], [mcpUrl, {}]]) {
      const seen = everything.requests.length;
      const client = new Client({ name: 'polling-client', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
      const result = await client.callTool({ name: 'test_reconnection', arguments: {} });
      assert.deepEqual(result.content, [{ type: 'text', text: 'Reconnection test completed.' }]);
      await client.close();
      // The result came on a stream the client resumed with the last event id it had seen.
      const resumed = everything.requests.slice(seen).filter((r) => r.method === 'GET' && r.lastEventId);
      assert.equal(resumed.length, 1, `${url}: ${JSON.stringify(everything.requests.slice(seen))}`);
    }
  });

  test('a local Worker refuses requests addressed to another host name', async () => {
    const { port } = new URL(worker.url);
    for (const path of ['/', '/manage', new URL(mcpUrl).pathname]) {
      const response = await request(`${worker.url}${path}`, { headers: { host: `evil.example.com:${port}` } });
      assert.equal(response.statusCode, 403, path);
      assert.deepEqual(await response.body.json(), {
        error: 'forbidden_host',
        message: 'This local Bindify answers only requests addressed to 127.0.0.1, localhost or [::1].',
      });
    }
    const ok = await request(`${worker.url}/`, { headers: { host: `localhost:${port}` } });
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
  });

  test('a Worker on plain http without CLIENT_METADATA_URL publishes no client metadata document', async () => {
    const response = await fetch(`${worker.url}/oauth/client-metadata.json`);
    assert.equal(response.status, 404);
    assert.deepEqual(await response.json(), { error: 'not_found', message: 'Nothing is here.' });
  });
});

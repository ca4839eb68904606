// The MCP conformance suite's client scenarios, with Bindify as the client: every `auth/*`
// scenario of the installed suite, each through the owner's pages (tests/conformance/owner.mjs)
// and the permanent URL (tests/conformance/client.mjs). A scenario fails the test when the
// suite would fail it: any FAILURE or WARNING check, a timeout, or a client error the scenario
// does not allow.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { startWorker } from '../lib/worker.mjs';
import { listScenarios, runClientScenario } from './suite.mjs';

// The client_id the suite's CIMD scenarios expect (`auth/basic-cimd`): where the operator
// publishes Bindify's Client ID Metadata Document. The suite's authorization server does not
// fetch it; the document the Worker serves names it.
const CLIENT_METADATA_URL = 'https://conformance-test.local/client-metadata.json';

const scenarios = (await listScenarios('client')).filter((s) => s.name.startsWith('auth/'));

describe('conformance: Bindify as the client of every auth scenario', () => {
  let worker;
  const adminToken = randomBytes(32).toString('base64url');

  before(async () => {
    worker = await startWorker({
      vars: {
        TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        ALLOW_LOOPBACK_HTTP: 'true',
        ADMIN_TOKEN: adminToken,
        CLIENT_METADATA_URL,
      },
    });
  });

  after(async () => {
    await worker?.stop();
  });

  test('the installed suite has auth scenarios to run', () => {
    assert.ok(scenarios.length >= 19, `auth scenarios listed: ${scenarios.map((s) => s.name)}`);
  });

  test('the Client ID Metadata Document names its URL and the callback', async () => {
    const response = await fetch(`${worker.url}/oauth/client-metadata.json`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.equal(response.headers.get('cache-control'), 'public, max-age=3600');
    assert.deepEqual(await response.json(), {
      client_id: CLIENT_METADATA_URL,
      client_name: 'Bindify',
      client_uri: `${worker.url}/`,
      redirect_uris: [`${worker.url}/oauth/callback`],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'web',
    });
  });

  for (const { name } of scenarios) {
    test(name, async () => {
      const result = await runClientScenario(name, { bindifyUrl: worker.url, adminToken });
      assert.ok(
        result.passed,
        `${name} failed:\n  ${result.bad.join('\n  ') || '(no failed check: the client exited with an error or timed out)'}\n--- the client's log ---\n${result.driver || result.output.slice(-3000)}`,
      );
    });
  }
});

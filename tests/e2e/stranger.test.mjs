// The stranger test: thousands of wrong sign-ins and wrong API tokens from rotating addresses
// against a Worker that holds live connections. Afterwards every connection still refreshes and
// serves, the owner was never locked out, and Bindify wrote nothing to KV for the attempts.
//
// Client addresses: on Cloudflare the edge sets `CF-Connecting-IP` itself and a client cannot
// choose it. Under `wrangler dev`, miniflare fills the header with the socket's address only when
// the request does not carry one, and passes a client's value through unchanged; the test sends
// the header as the edge would, which is how it gets thousands of distinct clients.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { startMcpServer } from '../fixtures/mcp-server.mjs';
import { startOAuthServer } from '../fixtures/oauth-server.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { startWorker } from '../lib/worker.mjs';
import { connectClient, textOf } from './mcp-clients.mjs';
import { connectInBrowser, kvWrites, newKey } from './support.mjs';

// bindify_core::admin::throttle: five free per client, and 100 answered per window across all clients.
const FREE_PER_CLIENT = 5;
const GLOBAL_MAX = 100;
const FLOOD = 3000;
const CONCURRENCY = 16;

describe('a stranger floods the sign-in', () => {
  const adminToken = randomBytes(32).toString('base64');
  let as;
  let mcp;
  let worker;
  let browser;
  const connections = [];

  /** POST /login with a wrong token, as if from `address`. */
  async function wrongSignIn(address) {
    const response = await fetch(`${worker.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'cf-connecting-ip': address },
      body: new URLSearchParams({ token: `wrong-${randomBytes(8).toString('hex')}`, next: '/manage' }).toString(),
    });
    await response.arrayBuffer();
    return response.status;
  }

  /** GET /api/connections with a wrong bearer token, as if from `address`. */
  async function wrongBearer(address) {
    const response = await fetch(`${worker.url}/api/connections`, {
      headers: { authorization: `Bearer wrong-${randomBytes(8).toString('hex')}`, 'cf-connecting-ip': address },
    });
    await response.arrayBuffer();
    return response.status;
  }

  before(async () => {
    as = await startOAuthServer({ accessTokenTTL: 5 });
    mcp = await startMcpServer({ issuer: as.issuer });
    worker = await startWorker({
      vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true', DEMO_SERVER_URL: mcp.url, ADMIN_TOKEN: adminToken },
    });
    browser = await launchBrowser();
    const page = await browser.newPage();
    await page.goto(`${worker.url}/login`);
    await page.fill('input[name="token"]', adminToken);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('body[data-page="dashboard"]');
    connections.push(await connectInBrowser(page, worker.url, { preset: 'demo' }));
    connections.push(await connectInBrowser(page, worker.url, { serverUrl: mcp.url }));
    await page.close();
  });

  after(async () => {
    await browser?.close();
    await worker?.stop();
    await mcp?.stop();
    await as?.stop();
  });

  let kvBefore; // the KV writes before the first wrong token
  let floodStart; // when the first wrong token was sent

  test('IPv6 clients are counted per /64, IPv4-mapped addresses as their IPv4', async () => {
    kvBefore = kvWrites(worker.persistDir);
    floodStart = Date.now();
    for (let i = 1; i <= FREE_PER_CLIENT; i += 1) assert.equal(await wrongSignIn(`2001:db8:aa:1::${i}`), 401);
    assert.equal(await wrongSignIn('2001:db8:aa:1:ffff:ffff:ffff:9'), 429, 'the same /64');
    assert.equal(await wrongSignIn('2001:db8:aa:2::1'), 401, 'the next /64');
    for (let i = 1; i <= FREE_PER_CLIENT; i += 1) assert.equal(await wrongBearer('198.51.100.7'), 401);
    assert.equal(await wrongBearer('::ffff:198.51.100.7'), 429, 'the mapped form of the same address');
    assert.equal(await wrongBearer('198.51.100.8'), 401);
  });

  test('thousands of wrong tokens from rotating addresses meet the global ceiling; the owner still gets in', async () => {
    const answered = 2 * FREE_PER_CLIENT + 2; // the 401s of the previous test
    const statuses = [];
    let next = 0;
    const owner = [];
    async function attacker() {
      while (next < FLOOD) {
        const i = next;
        next += 1;
        // Every attempt from a new address: half IPv4, half IPv6 from distinct /64s.
        const address = i % 2 ? `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` : `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`;
        statuses.push(await (i % 3 ? wrongSignIn(address) : wrongBearer(address)));
        if (i % 500 === 250) {
          // Meanwhile the owner: the right token, from an address the flood uses too.
          const list = await fetch(`${worker.url}/api/connections`, { headers: { authorization: `Bearer ${adminToken}`, 'cf-connecting-ip': address } });
          const signIn = await fetch(`${worker.url}/login`, {
            method: 'POST',
            redirect: 'manual',
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'cf-connecting-ip': address },
            body: new URLSearchParams({ token: adminToken, next: '/manage' }).toString(),
          });
          owner.push([list.status, (await list.json()).connections?.length, signIn.status, /^bindify_admin=./.test(signIn.headers.get('set-cookie') ?? '')]);
        }
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, attacker));

    const count = (status) => statuses.filter((s) => s === status).length;
    assert.equal(statuses.length, FLOOD);
    assert.equal(count(401), GLOBAL_MAX - answered, 'wrong tokens answered before the ceiling');
    assert.equal(count(429), FLOOD - (GLOBAL_MAX - answered));
    assert.equal(owner.length, FLOOD / 500);
    for (const seen of owner) assert.deepEqual(seen, [200, 2, 302, true]);

    // Nothing reached KV: every entry and blob is as it was before the first wrong token.
    assert.deepEqual(kvWrites(worker.persistDir), kvBefore);
  });

  test('afterwards every connection refreshes and serves', async () => {
    // The connections' alarms kept refreshing their 5 s tokens during the flood (without a KV
    // write, as the test above shows), and each URL serves.
    for (const [i, { mcpUrl }] of connections.entries()) {
      const client = await connectClient(mcpUrl);
      try {
        assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: `still here ${i}` } })), `still here ${i}`);
      } finally {
        await client.close();
      }
      const status = await (await fetch(mcpUrl.replace(/mcp$/, 'status'))).json();
      assert.equal(status.state, 'active');
      assert.ok(status.last_refresh_at, 'refreshed');
    }
    const refreshes = as.tokenRequests.filter((r) => r.grant_type === 'refresh_token' && r.at >= floodStart);
    assert.ok(refreshes.length >= connections.length, `${refreshes.length} refreshes`);
    assert.ok(refreshes.every((r) => r.status === 200));
    const spent = refreshes.map((r) => r.presented);
    assert.equal(new Set(spent).size, spent.length, 'no refresh token spent twice');
  });
});

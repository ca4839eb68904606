// A grant that ends on a stated date: oidc-provider announcing `refresh_token_expires_in` (as
// GitHub Apps do) with refresh tokens that live three days, the demo MCP server behind it, the
// Worker in workerd, the owner in headless Chromium and with the `bindify` CLI. The date is
// recorded, moves with each refresh, and shows in the status, `bindify list` and `status`, the
// dashboard (a warning within a week) and `bindify doctor`.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { startMcpServer } from '../fixtures/mcp-server.mjs';
import { startOAuthServer } from '../fixtures/oauth-server.mjs';
import { launchBrowser, loginAndConsent } from '../lib/browser.mjs';
import { startWorker } from '../lib/worker.mjs';
import { runBindify } from './bindify-cli.mjs';
import { connectClient, textOf } from './mcp-clients.mjs';
import { newKey, secretOf } from './support.mjs';

const THREE_DAYS_S = 3 * 86_400;

describe('a grant that ends on a stated date', () => {
  const adminToken = randomBytes(24).toString('base64url');
  let as;
  let mcp;
  let worker;
  let browser;
  let page;
  let url;
  let id;
  let firstEnd;
  const cli = (args) => runBindify(args, { workerUrl: worker.url, adminToken });
  const status = async () => (await fetch(url.replace(/mcp$/, 'status'))).json();

  before(async () => {
    as = await startOAuthServer({ accessTokenTTL: 5, refreshTokenTTL: THREE_DAYS_S, announceRefreshTokenExpiry: true });
    mcp = await startMcpServer({ issuer: as.issuer });
    worker = await startWorker({
      vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true', DEMO_SERVER_URL: mcp.url, ADMIN_TOKEN: adminToken },
    });
    browser = await launchBrowser();
    page = await browser.newPage();
  });

  after(async () => {
    await browser?.close();
    await worker?.stop();
    await mcp?.stop();
    await as?.stop();
  });

  test('the refresh token\'s stated lifetime becomes the grant\'s end', async () => {
    await page.goto(`${worker.url}/connect/demo`);
    await page.fill('input[name="token"]', adminToken);
    await page.click('#login-form button[type="submit"]');
    const before = Math.floor(Date.now() / 1000) * 1000;
    await loginAndConsent(page);
    await page.waitForSelector('body[data-page="success"]');
    const after = Date.now();
    url = await page.textContent('#mcp-url');
    assert.ok(secretOf(url));
    const issued = as.tokenRequests.filter((r) => r.grant_type === 'authorization_code').at(-1).issued;
    assert.equal(issued.refresh_token_expires_in, THREE_DAYS_S);
    const shown = await status();
    firstEnd = Date.parse(shown.grant_expires_at);
    assert.ok(firstEnd >= before + THREE_DAYS_S * 1000 && firstEnd <= after + THREE_DAYS_S * 1000, shown.grant_expires_at);
    id = shown.id;
  });

  test('each refresh moves it to the new refresh token\'s end', async () => {
    const expiry = Date.parse((await status()).access_token_expires_at);
    while (Date.now() < expiry) await new Promise((resolve) => setTimeout(resolve, 250));
    const client = await connectClient(url);
    assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'refreshed' } })), 'refreshed');
    await client.close();
    const refresh = as.tokenRequests.filter((r) => r.grant_type === 'refresh_token' && r.status === 200).at(-1);
    assert.equal(refresh.issued.refresh_token_expires_in, THREE_DAYS_S);
    const moved = Date.parse((await status()).grant_expires_at);
    assert.ok(moved > firstEnd, `${moved} after ${firstEnd}`);
  });

  test('bindify list and status show it, with the advice to reconnect within a week', async () => {
    const list = await cli(['list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout.split('\n')[0], /GRANT ENDS$/);
    assert.match(list.stdout.split('\n')[1], /in 3 days!$/);
    const shown = await cli(['status', id]);
    assert.equal(shown.code, 0, shown.stderr);
    const grantEnds = (await status()).grant_expires_at;
    const label = /^Label: +(.+)$/m.exec(shown.stdout)[1];
    assert.match(
      shown.stdout,
      new RegExp(`^Grant ends: +${grantEnds} \\(in 3 days\\): reconnect before then to keep the URL working \\(\`bindify reconnect ${label.replaceAll('.', '\\.')}\`\\)$`, 'm'),
    );
    const json = JSON.parse((await cli(['list', '--json'])).stdout);
    assert.equal(json.connections[0].grant_expires_at, grantEnds);
  });

  test('the dashboard warns with the date', async () => {
    await page.goto(`${worker.url}/manage`);
    const card = page.locator(`article.connection[data-id="${id}"]`);
    assert.equal(await card.getAttribute('data-standing'), 'grant-ending');
    assert.equal(await card.locator('.badge').textContent(), 'Grant ending');
    assert.match(await card.locator('.next-step').textContent(), /^The service ends this grant in 3 days whatever Bindify does\. Reconnect before then to keep the URL working\.$/);
    assert.equal(await card.locator('dd.grant-ends time').getAttribute('datetime'), (await status()).grant_expires_at);
    assert.equal(await card.locator('[data-action="reconnect"]').getAttribute('class'), 'button primary');
  });

  test('bindify doctor reports it', async () => {
    const doctor = await cli(['doctor']);
    const label = (await (await fetch(`${worker.url}/api/connections/${id}`, { headers: { authorization: `Bearer ${adminToken}` } })).json()).label;
    assert.match(
      doctor.stdout,
      new RegExp(`^\\[warn\\] grants: 1 grant\\(s\\) end within 7 days, whatever Bindify does: ${label.replaceAll('.', '\\.')} \\(${id}\\) ends \\S+ \\(in 3 days\\): run \`bindify reconnect ${label.replaceAll('.', '\\.')}\`$`, 'm'),
    );
  });
});

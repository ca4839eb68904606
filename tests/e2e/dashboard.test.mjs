// The dashboard in headless Chromium, with connections in every state a real deployment meets:
// active, refreshing soon, needs re-authorization (the grant revoked at the authorization
// server) and the authorization server failing (its token endpoint down during a cron run).
// At 360 px (a phone) and 1280 px: nothing overflows the viewport, and every action works.
//
// BINDIFY_SCREENSHOTS=1 also writes docs/screenshots/dashboard-{360,1280}.png.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startOAuthServer } from '../fixtures/oauth-server.mjs';
import { startMcpServer } from '../fixtures/mcp-server.mjs';
import { launchBrowser, loginAndConsent } from '../lib/browser.mjs';
import { repoRoot } from '../lib/paths.mjs';
import { startWorker } from '../lib/worker.mjs';
import { connectInBrowser, newKey, secretOf } from './support.mjs';

const WIDTHS = [360, 1280];
const HOUR = 3600;

describe('dashboard in Chromium', () => {
  const adminToken = randomBytes(32).toString('base64url');
  // One authorization server and MCP server per connection, so each grant can be broken alone.
  const peers = {};
  const ids = {};
  const urls = {};
  const destroyedRefreshTokens = [];
  let worker;
  let browser;
  let page;

  async function api(method, path, body) {
    const response = await fetch(`${worker.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, json: await response.json() };
  }

  /** Connects `name` through the landing page and gives it `label`. */
  async function connect(name, label) {
    const known = new Set((await api('GET', '/api/connections')).json.connections.map((c) => c.id));
    const { mcpUrl } = await connectInBrowser(page, worker.url, { serverUrl: peers[name].mcp.url });
    const added = (await api('GET', '/api/connections')).json.connections.filter((c) => !known.has(c.id));
    assert.equal(added.length, 1);
    ids[name] = added[0].id;
    urls[name] = mcpUrl;
    assert.equal((await api('PATCH', `/api/connections/${ids[name]}`, { label })).status, 200);
  }

  const card = (name) => page.locator(`article.connection[data-id="${ids[name]}"]`);

  async function openDashboard(width) {
    await page.setViewportSize({ width, height: 800 });
    await page.goto(`${worker.url}/manage`);
    await page.waitForSelector('body[data-page="dashboard"]');
  }

  /** Every element whose box leaves the viewport, and the document's scroll width. */
  async function assertNothingOverflows(where) {
    const found = await page.evaluate(() => {
      const viewport = document.documentElement.clientWidth;
      const outside = [];
      for (const element of document.querySelectorAll('body, body *')) {
        const box = element.getBoundingClientRect();
        if (box.width === 0 && box.height === 0) continue;
        if (box.left < -0.5 || box.right > viewport + 0.5) {
          outside.push(`${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}.${element.className} [${Math.round(box.left)}, ${Math.round(box.right)}]`);
        }
      }
      return { viewport, innerWidth: window.innerWidth, scrollWidth: document.documentElement.scrollWidth, outside };
    });
    assert.deepEqual(found.outside, [], `${where}: elements outside the ${found.viewport} px viewport`);
    assert.equal(found.scrollWidth, found.viewport, `${where}: horizontal scroll`);
    assert.equal(found.viewport, found.innerWidth, `${where}: a vertical scrollbar took width`);
  }

  before(async () => {
    peers.wiki = { as: await startOAuthServer({ accessTokenTTL: HOUR }) };
    peers.tracker = { as: await startOAuthServer({ accessTokenTTL: 10 * 60 }) };
    peers.calendar = { as: await startOAuthServer({ accessTokenTTL: 10 * 60 }) };
    peers.monitoring = { as: await startOAuthServer({ accessTokenTTL: 10 * 60 }) };
    for (const peer of Object.values(peers)) {
      peer.mcp = await startMcpServer({ issuer: peer.as.issuer });
      peer.as.provider.on('refresh_token.destroyed', (token) => destroyedRefreshTokens.push(token.jti));
    }
    worker = await startWorker({
      vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true', ADMIN_TOKEN: adminToken },
    });
    browser = await launchBrowser();
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: worker.url });
    page = await browser.newPage();
    await page.goto(`${worker.url}/login`);
    await page.fill('input[name="token"]', adminToken);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('body[data-page="dashboard"]');

    await connect('wiki', 'Team wiki');
    await connect('tracker', 'Issue tracker');
    await connect('calendar', 'Calendar');
    await connect('monitoring', 'Error monitoring');
    // The calendar's grant is revoked at its server, the monitoring server's token endpoint
    // goes down; the next cron run refreshes the three tokens that expire within its window.
    assert.equal(await peers.calendar.as.revokeGrantsFor(peers.calendar.as.registrations.at(-1).client_id), 1);
    peers.monitoring.as.setDown(true);
    const cron = await worker.cron();
    assert.equal(cron.status, 200, cron.body);
    peers.monitoring.as.setDown(false);
    const states = Object.fromEntries((await api('GET', '/api/connections')).json.connections.map((c) => [c.id, c.state]));
    assert.deepEqual(
      [states[ids.wiki], states[ids.tracker], states[ids.calendar], states[ids.monitoring]],
      ['active', 'active', 'needs_reauth', 'error'],
    );
  });

  after(async () => {
    await browser?.close();
    await worker?.stop();
    for (const peer of Object.values(peers)) {
      await peer.mcp?.stop();
      await peer.as?.stop();
    }
  });

  test('each connection shows a badge with its next step, in words', async () => {
    await openDashboard(1280);
    const expect = {
      wiki: ['active', 'active', 'Active', /^Ready\. Bindify refreshes the token on its own before it expires\.$/],
      tracker: ['refreshing-soon', 'active', 'Refreshing soon', /^The token expires in (9|10) min; Bindify refreshes it before then\.$/],
      calendar: ['needs-reauth', 'needs_reauth', 'Needs re-authorization', /^The authorization server no longer accepts this grant \(.*invalid_grant.*\)\. Reconnect to authorize again: the URL stays the same\.$/],
      monitoring: ['server-failing', 'error', 'Authorization server failing', /^Refreshing the token failed \(the authorization server is unavailable: .+\)\. Bindify keeps the tokens and tries again (in a moment|with the next request or cron run)\.$/],
    };
    for (const [name, [standing, state, badge, next]] of Object.entries(expect)) {
      const c = card(name);
      assert.equal(await c.getAttribute('data-standing'), standing, name);
      assert.equal(await c.locator('.badge').getAttribute('data-state'), state, name);
      assert.equal(await c.locator('.badge').textContent(), badge, name);
      assert.match(await c.locator('.next-step').textContent(), next, name);
      assert.equal(await c.locator('.upstream').textContent(), peers[name].mcp.url, name);
    }
    // Reconnect comes first everywhere, and leads (filled) only where it is the next step.
    for (const name of Object.keys(expect)) {
      const first = card(name).locator('.actions > :first-child');
      assert.equal(await first.getAttribute('data-action'), 'reconnect', name);
      assert.equal(await first.evaluate((e) => e.classList.contains('primary')), name === 'calendar', name);
    }
    // No raw state names or RFC 3339 timestamps as text.
    const text = await page.locator('main').innerText();
    assert.doesNotMatch(text, /needs_reauth|\d{4}-\d\d-\d\dT\d\d:\d\d/);
  });

  test('times read relative, with the exact time on hover, from the server\'s clock', async () => {
    const { json } = await api('GET', `/api/connections/${ids.wiki}`);
    const expires = card('wiki').locator('.expires time');
    assert.equal(await expires.getAttribute('datetime'), json.access_token_expires_at);
    assert.match(await expires.textContent(), /^in (59|60) min$/);
    const title = await expires.getAttribute('title');
    assert.ok(title.includes(String(new Date(json.access_token_expires_at).getFullYear())), title);
    assert.match(await card('wiki').locator('.created time').textContent(), /^(just now|\d+ min ago)$/);

    // A browser whose clock is 25 years off still reads the server's times, and they move on
    // while the page stays open.
    const wrongClock = await browser.newPage();
    await wrongClock.clock.install({ time: new Date('2001-01-01T00:00:00Z') });
    await wrongClock.goto(`${worker.url}/manage`);
    const at = (selector) => wrongClock.locator(`article[data-id="${ids.wiki}"] ${selector}`);
    assert.match(await at('.expires time').textContent(), /^in (59|60) min$/);
    await wrongClock.clock.fastForward('06:00:00');
    await wrongClock.waitForFunction((id) => document.querySelector(`article[data-id="${id}"] .expires time`).textContent === '5 h ago', ids.wiki);
    assert.equal(await at('.created time').textContent(), '6 h ago');
    await wrongClock.close();
  });

  for (const width of WIDTHS) {
    test(`at ${width} px nothing overflows: the list, the label editor, a confirmation`, async () => {
      await openDashboard(width);
      await assertNothingOverflows(`${width} px list`);
      if (process.env.BINDIFY_SCREENSHOTS) {
        await page.screenshot({ path: join(repoRoot, `docs/screenshots/dashboard-${width}.png`), fullPage: true });
      }
      await card('calendar').locator('.edit-label').click();
      await assertNothingOverflows(`${width} px label editor`);
      await card('calendar').locator('[data-label=cancel]').click();
      await card('tracker').locator('[data-action=revoke]').click();
      await page.waitForSelector('#revoke-dialog[open]');
      await assertNothingOverflows(`${width} px revoke confirmation`);
      await page.keyboard.press('Escape');
      await page.waitForSelector('#revoke-dialog:not([open])', { state: 'attached' });
    });
  }

  test('360 px: the label is edited with Edit, Save and Cancel, and an empty one is refused', async () => {
    await openDashboard(360);
    const c = card('wiki');
    await c.locator('.edit-label').click();
    const input = c.locator('.label-edit input');
    assert.equal(await input.inputValue(), 'Team wiki');
    await input.fill('Discarded');
    await c.locator('[data-label=cancel]').click();
    assert.equal(await c.locator('.label-edit').isHidden(), true);
    assert.equal(await c.locator('h2.label').textContent(), 'Team wiki');

    await c.locator('.edit-label').click();
    await input.fill('   ');
    await c.locator('.label-edit button[type=submit]').click();
    assert.equal(await c.locator('.label-feedback').textContent(), 'A label cannot be empty.');
    await input.fill('Company wiki');
    await input.press('Enter');
    await page.waitForFunction((id) => document.querySelector(`article[data-id="${id}"] .label-feedback`).textContent === 'Label saved.', ids.wiki);
    assert.equal(await c.locator('h2.label').textContent(), 'Company wiki');
    assert.equal(await c.locator('.label-edit').isHidden(), true);
    assert.equal((await api('GET', `/api/connections/${ids.wiki}`)).json.label, 'Company wiki');
    await assertNothingOverflows('360 px after saving a label');
  });

  test('360 px: Reconnect on a lost grant authorizes again and keeps the URL', async () => {
    await openDashboard(360);
    await card('calendar').locator('[data-action=reconnect]').click();
    await loginAndConsent(page);
    await page.waitForSelector('body[data-page="reconnected"]');
    await openDashboard(360);
    assert.equal(await card('calendar').locator('.badge').getAttribute('data-state'), 'active');
    assert.equal(await card('calendar').locator('.badge').textContent(), 'Refreshing soon');
    const status = await fetch(urls.calendar.replace(/mcp$/, 'status'));
    assert.equal(status.status, 200);
    assert.equal((await status.json()).state, 'active');
  });

  for (const [width, name] of [[360, 'tracker'], [1280, 'wiki']]) {
    test(`${width} px: Rotate asks first; the new URLs are shown and copy to the clipboard`, async () => {
      await openDashboard(width);
      const oldUrl = urls[name];
      const rotate = card(name).locator('[data-action=rotate]');

      await rotate.click();
      await page.waitForSelector('#rotate-dialog[open]');
      const label = await card(name).locator('h2.label').textContent();
      assert.equal(await page.textContent('#rotate-title'), `Rotate the URL of \u201c${label}\u201d?`);
      assert.match(await page.textContent('#rotate-text'), /The old URL stops working at once\./);
      await page.click('#rotate-dialog button[value=cancel]');
      await page.waitForSelector('#rotate-dialog:not([open])', { state: 'attached' });
      assert.equal(await page.isHidden('#new-urls'), true);
      assert.equal((await fetch(oldUrl.replace(/mcp$/, 'status'))).status, 200, 'cancelled: the URL still works');

      await rotate.click();
      await page.click('#rotate-dialog button[value=confirm]');
      await page.waitForSelector('#new-urls:not([hidden])');
      assert.equal(await card(name).locator('#new-urls').count(), 1, 'shown in the rotated connection');
      assert.match(await page.textContent('#new-urls'), /The old URL stops working at once\. Copy these now: they are shown once\./);
      const mcpUrl = await page.textContent('#mcp-url');
      const sseUrl = await page.textContent('#sse-url');
      const secret = secretOf(mcpUrl);
      assert.ok(secret);
      assert.notEqual(secret, secretOf(oldUrl));
      assert.equal(mcpUrl, `${worker.url}/s/${secret}/mcp`);
      assert.equal(sseUrl, `${worker.url}/s/${secret}/sse`);
      await assertNothingOverflows(`${width} px new URLs`);

      for (const [target, url] of [['mcp-url', mcpUrl], ['sse-url', sseUrl]]) {
        const button = page.locator(`button[data-copy-target="${target}"]`);
        await button.click();
        await page.waitForFunction((t) => document.querySelector(`button[data-copy-target="${t}"]`).textContent !== 'Copy', target);
        assert.equal(await button.textContent(), 'Copied');
        assert.equal(await page.evaluate(() => navigator.clipboard.readText()), url);
      }

      assert.equal((await fetch(oldUrl.replace(/mcp$/, 'status'))).status, 404, 'the old URL stopped at once');
      assert.equal((await fetch(mcpUrl.replace(/mcp$/, 'status'))).status, 200);
      urls[name] = mcpUrl;
    });
  }

  test('a copy that does not happen says so and selects the URL instead', async () => {
    // The clipboard refuses and the fallback's execCommand reports failure.
    await page.evaluate(() => {
      navigator.clipboard.writeText = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
      document.execCommand = () => false;
    });
    const button = page.locator('button[data-copy-target="mcp-url"]');
    await button.click();
    await page.waitForFunction(() => !['Copy', 'Copied'].includes(document.querySelector('button[data-copy-target="mcp-url"]').textContent));
    assert.equal(await button.textContent(), 'Selected: copy by hand');
    assert.equal(await page.evaluate(() => window.getSelection().toString()), await page.textContent('#mcp-url'));
  });

  for (const [width, name] of [[360, 'monitoring'], [1280, 'tracker']]) {
    test(`${width} px: Revoke asks first; Cancel keeps the connection, Revoke removes it and its grant`, async () => {
      await openDashboard(width);
      const label = await card(name).locator('h2.label').textContent();
      const refreshToken = peers[name].as.tokenRequests.filter((r) => r.issued?.refresh_token).at(-1).issued.refresh_token;
      const revoke = card(name).locator('[data-action=revoke]');

      await revoke.click();
      await page.waitForSelector('#revoke-dialog[open]');
      assert.equal(await page.textContent('#revoke-title'), `Revoke \u201c${label}\u201d?`);
      assert.match(await page.textContent('#revoke-text'), /asks the authorization server to revoke its tokens\. The old URL stops working at once\./);
      await page.click('#revoke-dialog button[value=cancel]');
      await page.waitForSelector('#revoke-dialog:not([open])', { state: 'attached' });
      assert.equal(await card(name).count(), 1);
      assert.equal((await api('GET', `/api/connections/${ids[name]}`)).status, 200);

      await revoke.click();
      await page.click('#revoke-dialog button[value=confirm]');
      await page.waitForFunction(() => document.getElementById('status-line').textContent.startsWith('Revoked'));
      assert.equal(await page.textContent('#status-line'), `Revoked \u201c${label}\u201d. Its tokens were revoked at the authorization server.`);
      assert.equal(await card(name).count(), 0);
      assert.equal((await api('GET', `/api/connections/${ids[name]}`)).status, 404);
      assert.equal((await fetch(urls[name].replace(/mcp$/, 'status'))).status, 404);
      assert.ok(destroyedRefreshTokens.includes(refreshToken), 'the refresh token was revoked at the authorization server');
      await assertNothingOverflows(`${width} px after revoking`);
    });
  }
});

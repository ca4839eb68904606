// Headless Chromium (the system's /usr/bin/chromium, driven by playwright-core) for the
// browser steps of OAuth flows, and a helper for oidc-provider's built-in login/consent pages.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Nothing but loopback resolves: the tests must not reach the internet, and oidc-provider's
  // dev pages @import a web font that would otherwise wait on a network that is not there.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];

/**
 * A fresh browser profile. Returns { context, newPage(), close() }; close() also deletes the
 * profile directory.
 */
export async function launchBrowser() {
  const userDataDir = mkdtempSync(join(tmpdir(), 'bindify-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_ARGS,
    });
  } catch (err) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw new Error(`cannot launch /usr/bin/chromium (apt-get install -y chromium): ${err.message}`);
  }
  return {
    context,
    newPage: () => context.newPage(),
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Completes oidc-provider's devInteractions on `page`: the login form (any login, any password)
 * and then the consent form, if the AS asks for it. Waits for the first interaction page, and
 * returns once the browser has left the authorization server's origin (the redirect back to the
 * client) and that page has loaded, with its URL.
 */
export async function loginAndConsent(page, { login = 'test-user', password = 'any-password', timeout = 15_000 } = {}) {
  try {
    await page.waitForURL((url) => url.pathname.includes('/interaction/'), { timeout });
  } catch {
    throw new Error(`loginAndConsent: no login or consent page within ${timeout} ms; the browser is at ${page.url()}:\n${await pageText(page)}`);
  }
  const asOrigin = new URL(page.url()).origin;
  const onAs = () => new URL(page.url()).origin === asOrigin;

  // At most a login page and a consent page.
  for (let step = 0; step < 2 && onAs(); step += 1) {
    await page.waitForLoadState('domcontentloaded', { timeout });
    const prompt = await page.locator('input[name="prompt"]').getAttribute('value', { timeout: 2000 }).catch(() => null);
    if (prompt !== 'login' && prompt !== 'consent') {
      throw new Error(`loginAndConsent: ${page.url()} shows neither the login nor the consent form:\n${await pageText(page)}`);
    }
    if (prompt === 'login') {
      await page.fill('input[name="login"]', login);
      await page.fill('input[name="password"]', password);
    }
    const from = page.url();
    await Promise.all([
      page.waitForURL((url) => url.href !== from, { timeout, waitUntil: 'commit' }),
      page.click('button[type="submit"]'),
    ]);
  }
  if (onAs()) throw new Error(`loginAndConsent: still on the authorization server at ${page.url()}:\n${await pageText(page)}`);
  // Let the landing page finish loading: closing a page in mid-navigation can hang Playwright.
  await page.waitForLoadState('load', { timeout });
  return page.url();
}

async function pageText(page) {
  return (await page.locator('body').innerText({ timeout: 2000 }).catch(() => '(no body)')).slice(0, 1000);
}

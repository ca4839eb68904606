// Shared steps of the end-to-end tests: a random encryption key, the local KV contents of a
// Worker's persisted state, and driving the connect flow in a browser or with plain fetch.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import { loginAndConsent } from '../lib/browser.mjs';

export const newKey = () => randomBytes(32).toString('base64');

/**
 * The keys of every KV namespace in a Worker's persisted local state, read straight from the
 * sqlite files workerd keeps (metadata only; values are blobs). Sorted.
 */
export function kvKeys(persistDir) {
  const root = join(persistDir, 'v3', 'kv');
  if (!existsSync(root)) return [];
  const keys = [];
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.sqlite')) continue;
    const db = new DatabaseSync(join(entry.parentPath, entry.name), { readOnly: true });
    try {
      const hasEntries = db.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name='_mf_entries'").get();
      if (hasEntries) keys.push(...db.prepare('SELECT key FROM _mf_entries').all().map((r) => r.key));
    } finally {
      db.close();
    }
  }
  return keys.sort();
}

/** The KV keys that make up stored connections (records and URL index entries). */
export const connectionKeys = (persistDir) => kvKeys(persistDir).filter((k) => k.startsWith('conn:') || k.startsWith('url:'));

/**
 * Starts a connect flow with fetch, as a browser would but without following the redirect.
 * Returns the authorization URL, its state, and the cookie pair the Worker set.
 */
export async function startFlow(workerUrl, path) {
  const response = await fetch(`${workerUrl}${path}`, { redirect: 'manual' });
  if (response.status !== 302) {
    throw new Error(`${path}: expected a redirect, got ${response.status}: ${(await response.text()).slice(0, 300)}`);
  }
  const location = new URL(response.headers.get('location'));
  const cookie = response.headers.get('set-cookie')?.split(';')[0];
  return { location, state: location.searchParams.get('state'), cookie, setCookie: response.headers.get('set-cookie') };
}

/** GET /oauth/callback with the given query and optional cookie. */
export async function callback(workerUrl, query, cookie) {
  const url = new URL('/oauth/callback', workerUrl);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const response = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

/** The stable error code printed on an error page. */
export const errorCode = (html) => /<span id="error-code">([a-z_]+)<\/span>/.exec(html)?.[1] ?? null;

/**
 * Connects through the landing page in `page`: clicks the preset (or submits the form with
 * `serverUrl`), signs in and consents at the authorization server, and returns the URLs the
 * success page shows plus the callback URL the browser used.
 */
export async function connectInBrowser(page, workerUrl, { preset, serverUrl }) {
  await page.goto(`${workerUrl}/`);
  if (preset) {
    await page.click(`a[data-preset="${preset}"]`);
  } else {
    await page.fill('#connect-form input[name="server"]', serverUrl);
    await page.click('#connect-form button[type="submit"]');
  }
  const callbackUrl = await loginAndConsent(page);
  await page.waitForSelector('body[data-page="success"]', { timeout: 15_000 });
  return {
    callbackUrl,
    mcpUrl: await page.textContent('#mcp-url'),
    sseUrl: await page.textContent('#sse-url'),
  };
}

/** The secret in a permanent URL. */
export const secretOf = (url) => /\/s\/([A-Za-z0-9_-]{43})\//.exec(url)?.[1] ?? null;

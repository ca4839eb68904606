// Shared steps of the end-to-end tests: a random encryption key, the local KV contents of a
// Worker's persisted state, and driving the connect flow in a browser or with plain fetch.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as delay } from 'node:timers/promises';

import { loginAndConsent } from '../lib/browser.mjs';

export const newKey = () => randomBytes(32).toString('base64');

/** Waits until `check()` holds, polling every 100 ms; fails naming `what` after `ms`. */
export async function until(what, check, ms = 15_000) {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await delay(100)) {
    if (await check()) return;
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

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

/**
 * Every KV write that is visible in a Worker's persisted local state: each entry as
 * `<key> <blob id>` (a put always stores a new blob, so rewriting a key changes its line) and the
 * blob files on disk. Two equal snapshots mean no put and no delete landed in between, except a
 * put whose key was deleted again before the second snapshot. Sorted.
 */
export function kvWrites(persistDir) {
  const root = join(persistDir, 'v3', 'kv');
  if (!existsSync(root)) return [];
  const lines = [];
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isFile() && entry.parentPath.endsWith('blobs')) lines.push(`blob ${entry.name}`);
    if (!entry.isFile() || !entry.name.endsWith('.sqlite')) continue;
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      const hasEntries = db.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name='_mf_entries'").get();
      if (hasEntries) lines.push(...db.prepare('SELECT key, blob_id FROM _mf_entries').all().map((r) => `entry ${r.key} ${r.blob_id}`));
    } finally {
      db.close();
    }
  }
  return lines.sort();
}

/**
 * The KV entries whose key starts with `prefix`, each as `{ key, metadata, value }`: the
 * metadata parsed, the value read from its blob file (`v3/kv/<namespace>/blobs/<blob id>`).
 * Read straight from workerd's files.
 */
export function kvEntries(persistDir, prefix) {
  const root = join(persistDir, 'v3', 'kv');
  if (!existsSync(root)) return [];
  const blobs = new Map(readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.parentPath.endsWith('blobs'))
    .map((entry) => [entry.name, join(entry.parentPath, entry.name)]));
  const entries = [];
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.sqlite')) continue;
    const db = new DatabaseSync(join(entry.parentPath, entry.name), { readOnly: true });
    try {
      const hasEntries = db.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name='_mf_entries'").get();
      if (!hasEntries) continue;
      const rows = db.prepare('SELECT key, blob_id, metadata FROM _mf_entries WHERE substr(key, 1, ?) = ?').all(prefix.length, prefix);
      for (const { key, blob_id: blobId, metadata } of rows) {
        const blob = blobs.get(blobId);
        entries.push({ key, metadata: metadata ? JSON.parse(metadata) : null, value: blob ? readFileSync(blob, 'utf8') : null });
      }
    } finally {
      db.close();
    }
  }
  return entries.sort((a, b) => (a.key < b.key ? -1 : 1));
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

/**
 * Connecting a server by URL without a browser: GET /connect?server=<url> (the confirmation
 * page), then its form's POST /connect. `cookie` is sent with both (a dashboard session, or
 * nothing in open local development). Returns the POST's response.
 */
export async function confirmConnect(workerUrl, serverUrl, { cookie, headers = {} } = {}) {
  const withCookie = cookie ? { cookie } : {};
  const page = await fetch(`${workerUrl}/connect?server=${encodeURIComponent(serverUrl)}`, { redirect: 'manual', headers: withCookie });
  const html = await page.text();
  const token = /name="confirm" value="([^"]+)"/.exec(html)?.[1];
  if (page.status !== 200 || !token) {
    return { status: page.status, body: html, headers: page.headers };
  }
  const response = await fetch(`${workerUrl}/connect`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...withCookie, ...headers },
    body: new URLSearchParams({ server: serverUrl, confirm: token }).toString(),
  });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

/**
 * Walks oidc-provider's devInteractions (login, then consent) from `authorizeUrl` with fetch,
 * and returns the URL the authorization server finally redirects to (the client's callback,
 * not followed). Cookies are kept for the authorization server's origin only.
 */
export async function authorizeAt(authorizeUrl, { login = 'test-user', password = 'any-password' } = {}) {
  const origin = new URL(authorizeUrl).origin;
  const jar = new Map();
  let request = { url: authorizeUrl, method: 'GET' };
  for (let step = 0; step < 12; step += 1) {
    const response = await fetch(request.url, {
      method: request.method,
      redirect: 'manual',
      headers: {
        ...(request.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...(jar.size ? { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
      },
      body: request.body,
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    if (response.status >= 300 && response.status < 400) {
      await response.arrayBuffer();
      const next = new URL(response.headers.get('location'), request.url);
      if (next.origin !== origin) return next;
      request = { url: next.href, method: 'GET' };
      continue;
    }
    const html = await response.text();
    const form = /<form[^>]*\saction="([^"]+)"[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
    if (!form) throw new Error(`authorizeAt: ${request.url} answered ${response.status} without a form`);
    const fields = new URLSearchParams();
    for (const [input] of form[2].matchAll(/<input\b[^>]*>/gi)) {
      const name = /\sname="([^"]*)"/.exec(input)?.[1];
      if (name) fields.set(name, { login, password }[name] ?? /\svalue="([^"]*)"/.exec(input)?.[1] ?? '');
    }
    request = { url: new URL(form[1].replaceAll('&amp;', '&'), request.url).href, method: 'POST', body: fields.toString() };
  }
  throw new Error(`authorizeAt: no redirect back to the client from ${authorizeUrl}`);
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
 * `serverUrl` and confirms the server on the page that follows), signs in and consents at the
 * authorization server, and returns the URLs the success page shows plus the callback URL the
 * browser used.
 */
export async function connectInBrowser(page, workerUrl, { preset, serverUrl }) {
  await page.goto(`${workerUrl}/`);
  if (preset) {
    await page.click(`a[data-preset="${preset}"]`);
  } else {
    await page.fill('#connect-form input[name="server"]', serverUrl);
    await page.click('#connect-form button[type="submit"]');
    await page.waitForSelector('body[data-page="confirm"]');
    await page.click('#confirm-form button[type="submit"]');
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

/**
 * Reads the events of an SSE response (WHATWG HTML §9.2.6) one at a time: `next()` resolves
 * with `{ id, event, data }` for the next event, skipping comments, or `null` once the stream
 * ends. `next(ms)` gives up with an error after `ms`, so a missing event fails the test instead
 * of hanging it.
 */
export function sseEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    async next(ms = 15_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        buffer = buffer.replaceAll('\r\n', '\n');
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = { id: null, event: 'message', data: null };
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') event.id = value;
            else if (field === 'event') event.event = value;
            else if (field === 'data') event.data = event.data === null ? value : `${event.data}\n${value}`;
          }
          if (event.data !== null) return event;
          continue;
        }
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no SSE event within ${ms} ms; unread: ${JSON.stringify(buffer)}`);
        const read = await Promise.race([reader.read(), delay(left).then(() => 'timeout')]);
        if (read === 'timeout') continue;
        if (read.done) return null;
        buffer += decoder.decode(read.value, { stream: true });
      }
    },
    cancel: () => reader.cancel().catch(() => {}),
  };
}

/** Each Connection object's sqlite file in a Worker's persisted local state, by connection id. */
function connectionObjects(persistDir) {
  const root = join(persistDir, 'v3', 'do', 'bindify-Connection');
  if (!existsSync(root)) return new Map();
  const found = new Map();
  for (const name of readdirSync(root)) {
    if (!name.endsWith('.sqlite') || name === 'metadata.sqlite') continue;
    const db = new DatabaseSync(join(root, name), { readOnly: true });
    try {
      const row = db.prepare('SELECT name FROM __miniflare_do_name').get();
      if (row) found.set(row.name, join(root, name));
    } finally {
      db.close();
    }
  }
  return found;
}

/**
 * The alarms the runtime has scheduled for Connection objects, as a Map from connection id to
 * Unix milliseconds, read from workerd's alarm table (`_cf_ALARM` of the namespace's
 * metadata.sqlite).
 */
export function connectionAlarms(persistDir) {
  const file = join(persistDir, 'v3', 'do', 'bindify-Connection', 'metadata.sqlite');
  if (!existsSync(file)) return new Map();
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const rows = db.prepare('SELECT actor_name, scheduled_time FROM _cf_ALARM');
    rows.setReadBigInts(true);
    return new Map(rows.all().map((r) => [r.actor_name, Number(r.scheduled_time / 1_000_000n)]));
  } finally {
    db.close();
  }
}

/**
 * Removes connection `id`'s alarm from the runtime's local files: the object's own record of
 * it (`_cf_METADATA` key 1) and the namespace's alarm table. Only while the Worker is stopped.
 */
export function dropConnectionAlarm(persistDir, id) {
  const file = connectionObjects(persistDir).get(id);
  if (!file) throw new Error(`no Connection object named ${id}`);
  const object = new DatabaseSync(file);
  try {
    object.prepare('DELETE FROM _cf_METADATA WHERE key = 1').run();
  } finally {
    object.close();
  }
  const table = new DatabaseSync(join(persistDir, 'v3', 'do', 'bindify-Connection', 'metadata.sqlite'));
  try {
    table.prepare('DELETE FROM _cf_ALARM WHERE actor_name = ?').run(id);
  } finally {
    table.close();
  }
}

/**
 * Rewrites the metadata of connection `id`'s KV mirror with `change` (given the parsed
 * metadata, returns the new one), in workerd's local KV files. Only while the Worker is stopped.
 */
export function rewriteMirrorMetadata(persistDir, id, change) {
  const root = join(persistDir, 'v3', 'kv');
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.sqlite') || entry.name === 'metadata.sqlite') continue;
    const db = new DatabaseSync(join(entry.parentPath, entry.name));
    try {
      const row = db.prepare('SELECT metadata FROM _mf_entries WHERE key = ?').get(`conn:${id}`);
      if (!row) continue;
      const metadata = JSON.stringify(change(JSON.parse(row.metadata)));
      db.prepare('UPDATE _mf_entries SET metadata = ? WHERE key = ?').run(metadata, `conn:${id}`);
      return;
    } finally {
      db.close();
    }
  }
  throw new Error(`no KV mirror conn:${id}`);
}

/**
 * Makes connection `id` look as an earlier version, before alarms, left it: no alarm, no note
 * of its KV mirror in the object (`mirrored`), and no alarm mark in the mirror's metadata. Only
 * while the Worker is stopped.
 */
export function makeFromBeforeAlarms(persistDir, id) {
  dropConnectionAlarm(persistDir, id);
  const object = new DatabaseSync(connectionObjects(persistDir).get(id));
  try {
    object.prepare("DELETE FROM _cf_KV WHERE key = 'mirrored'").run();
  } finally {
    object.close();
  }
  rewriteMirrorMetadata(persistDir, id, ({ alarm, ...rest }) => rest);
}

/**
 * The sealed records the Connection objects keep (their `record` key), by connection id: the
 * base64url text inside the value workerd serialized.
 */
export function connectionRecords(persistDir) {
  const records = new Map();
  for (const [id, file] of connectionObjects(persistDir)) {
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      const row = db.prepare("SELECT value FROM _cf_KV WHERE key = 'record'").get();
      const sealed = row && /[A-Za-z0-9_-]{100,}/.exec(Buffer.from(row.value).toString('latin1'))?.[0];
      if (sealed) records.set(id, sealed);
    } finally {
      db.close();
    }
  }
  return records;
}

// The scheduled handler logs one summary line per run (`bindify_core::lifecycle::cron::summary`).
const CRON_LINE = /cron: (\d+) connections, (\d+) without the alarm mark; (\d+) visited this run: refreshed (\d+), not due (\d+), needs_reauth (\d+), transient (\d+), failed (\d+); re-armed (\d+)/g;

/** Every cron summary line in the Worker's log, parsed. */
export function cronLines(worker) {
  return [...readFileSync(worker.logFile, 'utf8').matchAll(CRON_LINE)].map((m) => {
    const [connections, unmarked, visited, refreshed, notDue, needsReauth, transient, failed, rearmed] = m.slice(1).map(Number);
    return { connections, unmarked, visited, refreshed, notDue, needsReauth, transient, failed, rearmed };
  });
}

/** A summary line's counts: `connections` listed, `visited`, and the rest zero unless given. */
export const cronSummary = (connections, visited, more = {}) => ({
  connections, unmarked: 0, visited, refreshed: 0, notDue: 0, needsReauth: 0, transient: 0, failed: 0, rearmed: 0, ...more,
});

/** Runs the cron once and returns its summary line, parsed. */
export async function runCron(worker) {
  const seen = cronLines(worker).length;
  const { status, body } = await worker.cron();
  if (status !== 200) throw new Error(`the scheduled handler answered ${status}: ${body}`);
  // workerd's console output reaches the log through wrangler, a moment after the response.
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await delay(50)) {
    const lines = cronLines(worker);
    if (lines.length > seen) {
      if (lines.length !== seen + 1) throw new Error('more than one summary line for one run');
      return lines.at(-1);
    }
  }
  throw new Error(`no cron summary line in ${worker.logFile}`);
}

// What scripts/deploy.sh decides, kept out of shell so it can be tested: whether wrangler.toml
// still holds the placeholder id of the VAULT KV namespace, the one-line edit that puts the real
// id there, and reading what wrangler prints (whoami, kv namespace list/create, secret list, and
// the deploy entry of its output file). Pure functions are exported; the bottom of the file is a
// small command line that deploy.sh calls with the repo's Node 22.
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const VAULT_BINDING = 'VAULT';
/** The id wrangler.toml ships with: enough for `wrangler dev`, not a namespace in any account. */
export const PLACEHOLDER_KV_ID = 'bindify-vault-local';
/** The secrets a deployed Worker needs; see docs/configuration.md. */
export const REQUIRED_SECRETS = ['TOKEN_ENCRYPTION_KEY', 'ADMIN_TOKEN'];

/** A KV namespace id as Cloudflare issues them: 32 lowercase hex digits. */
const KV_ID = /^[0-9a-f]{32}$/;

/** A refusal with a message meant for the person running deploy.sh. */
export class ConfigError extends Error {
  name = 'ConfigError';
}

// ---------------------------------------------------------------------------------------------
// wrangler.toml
//
// Not a TOML parser: a line scanner for the few shapes wrangler.toml uses, which refuses (reports
// "ambiguous") whenever the file holds something it could misread, rather than guess.

const TABLE_HEADER = /^\s*(\[\[?)\s*([^\]]*?)\s*(\]\]?)\s*(#.*)?$/;
// key = "basic" or 'literal' string, optionally followed by a comment.
const STRING_ENTRY = /^(\s*)("?)([A-Za-z0-9_-]+)\2(\s*=\s*)("([^"\\]*)"|'([^']*)')(\s*(#.*)?)$/;

function scan(text) {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text.split(eol);
  const blocks = []; // top-level [[kv_namespaces]] entries
  const problems = [];
  let table = null; // null before the first header
  let block = null;
  let name = null;
  let depth = 0; // open brackets of a value that spans lines (a multi-line array)
  lines.forEach((line, index) => {
    if (line.includes('"""') || line.includes("'''")) {
      problems.push(`line ${index + 1} holds a multi-line string`);
    }
    if (depth > 0) {
      depth += bracketDelta(line);
      return;
    }
    const header = TABLE_HEADER.exec(line);
    if (header) {
      table = header[2];
      block = null;
      if (header[1] === '[[' && table === 'kv_namespaces') {
        block = { header: index, bindings: [], ids: [] };
        blocks.push(block);
      }
      return;
    }
    depth = Math.max(0, bracketDelta(line.replace(/^[^=]*=/, '')));
    const entry = STRING_ENTRY.exec(line);
    if (table === null && entry && entry[3] === 'name') name = entry[6] ?? entry[7];
    if (table === null && /^\s*kv_namespaces\s*=/.test(line)) {
      problems.push(`line ${index + 1} declares kv_namespaces inline`);
    }
    if (!block) return;
    if (entry && entry[3] === 'binding') block.bindings.push(entry[6] ?? entry[7]);
    else if (entry && entry[3] === 'id') block.ids.push({ index, value: entry[6] ?? entry[7], match: entry });
    else if (/^\s*"?(binding|id)"?\s*=/.test(line)) {
      problems.push(`line ${index + 1} sets ${line.trim().split(/\s*=/)[0]} in a form this script does not edit`);
    }
  });
  return { eol, lines, blocks, problems, name };
}

// Opening minus closing brackets on a line, outside strings and comments.
function bracketDelta(line) {
  const code = line.replace(/"(?:[^"\\]|\\.)*"|'[^']*'/g, '""').replace(/#.*$/, '');
  return (code.match(/[[{]/g) ?? []).length - (code.match(/[\]}]/g) ?? []).length;
}

/**
 * Where the VAULT namespace id stands:
 *   { kind: 'placeholder', line }        the shipped placeholder: create a namespace
 *   { kind: 'set', id, line }            any other id (already deployed, or set by hand)
 *   { kind: 'missing' }                  no top-level [[kv_namespaces]] with binding "VAULT"
 *   { kind: 'ambiguous', reason }        more than one, no id, or a form a line edit could misread
 * `line` is 1-based.
 */
export function vaultState(text) {
  const { blocks, problems } = scan(text);
  const vaults = blocks.filter((b) => b.bindings.includes(VAULT_BINDING));
  if (problems.length > 0) return { kind: 'ambiguous', reason: problems.join('; ') };
  if (vaults.length === 0) return { kind: 'missing' };
  if (vaults.length > 1) {
    return { kind: 'ambiguous', reason: `${vaults.length} [[kv_namespaces]] entries have binding = "${VAULT_BINDING}" (lines ${vaults.map((b) => b.header + 1).join(', ')})` };
  }
  const [vault] = vaults;
  if (vault.bindings.length > 1) {
    return { kind: 'ambiguous', reason: `the [[kv_namespaces]] entry at line ${vault.header + 1} sets binding more than once` };
  }
  if (vault.ids.length !== 1) {
    return { kind: 'ambiguous', reason: `the [[kv_namespaces]] entry at line ${vault.header + 1} has ${vault.ids.length === 0 ? 'no id' : 'more than one id'}` };
  }
  const [{ index, value }] = vault.ids;
  return value === PLACEHOLDER_KV_ID
    ? { kind: 'placeholder', line: index + 1 }
    : { kind: 'set', id: value, line: index + 1 };
}

/**
 * wrangler.toml with the VAULT namespace's id set to `id`: only the value on that one line
 * changes (indentation, quotes' position, a trailing comment, every other line and the line
 * endings stay). The same text back when the id is already `id`. Refuses to replace an id other
 * than the placeholder (that would point the Worker at another vault) and anything ambiguous.
 */
export function setVaultId(text, id) {
  if (!KV_ID.test(id)) throw new ConfigError(`${JSON.stringify(id)} is not a KV namespace id (32 hex digits)`);
  const state = vaultState(text);
  if (state.kind === 'missing') {
    throw new ConfigError(`wrangler.toml has no [[kv_namespaces]] entry with binding = "${VAULT_BINDING}"`);
  }
  if (state.kind === 'ambiguous') throw new ConfigError(`wrangler.toml is ambiguous: ${state.reason}; set the id by hand`);
  if (state.kind === 'set') {
    if (state.id === id) return text;
    throw new ConfigError(`wrangler.toml already names the KV namespace ${state.id} for ${VAULT_BINDING} (line ${state.line}); not replacing it with ${id}`);
  }
  const { eol, lines, blocks } = scan(text);
  const vault = blocks.find((b) => b.bindings.includes(VAULT_BINDING));
  const [{ index, match }] = vault.ids;
  const [, indent, quote, key, equals, , , , rest] = match;
  lines[index] = `${indent}${quote}${key}${quote}${equals}"${id}"${rest}`;
  return lines.join(eol);
}

/** The Worker's `name` (top level of wrangler.toml), or null. */
export function workerName(text) {
  return scan(text).name;
}

/** The title deploy.sh gives the VAULT namespace it creates: `<worker name>-VAULT`. */
export function kvTitle(text) {
  const name = workerName(text);
  if (!name) throw new ConfigError('wrangler.toml has no top-level name = "…"');
  return `${name}-${VAULT_BINDING}`;
}

// ---------------------------------------------------------------------------------------------
// wrangler's output

/**
 * The JSON value a wrangler command printed on stdout. The value is all there is in the
 * normal case; anything before it (a banner, a notice) is skipped up to the first line that
 * starts with `[` or `{`.
 */
export function jsonFromOutput(stdout) {
  const text = String(stdout);
  try {
    return JSON.parse(text);
  } catch {
    // fall through: look for the value's first line
  }
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^\s*[[{]/.test(l));
  if (start >= 0) {
    try {
      return JSON.parse(lines.slice(start).join('\n'));
    } catch {
      // reported below
    }
  }
  throw new ConfigError(`expected JSON from wrangler, got: ${text.trim().slice(0, 200) || '(nothing)'}`);
}

/**
 * `wrangler whoami --json`: { loggedIn: false } when there are no credentials, else
 * { loggedIn: true, email, accounts: [{ id, name }] }. null when the output is not that.
 */
export function parseWhoami(stdout) {
  let value;
  try {
    value = jsonFromOutput(stdout);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object' || typeof value.loggedIn !== 'boolean') return null;
  if (!value.loggedIn) return { loggedIn: false };
  const accounts = Array.isArray(value.accounts)
    ? value.accounts.filter((a) => a && typeof a.id === 'string').map((a) => ({ id: a.id, name: String(a.name ?? '') }))
    : [];
  return { loggedIn: true, email: typeof value.email === 'string' ? value.email : null, accounts };
}

/** `wrangler kv namespace list` (a JSON array of { id, title, … }): the id titled `title`, or null. */
export function findNamespace(stdout, title) {
  const list = jsonFromOutput(stdout);
  if (!Array.isArray(list)) throw new ConfigError('wrangler kv namespace list did not print a JSON array');
  const found = list.filter((ns) => ns && ns.title === title);
  if (found.length === 0) return null;
  const ids = [...new Set(found.map((ns) => ns.id))];
  if (ids.length !== 1 || !KV_ID.test(String(ids[0]))) {
    throw new ConfigError(`wrangler kv namespace list shows ${found.length} namespaces titled "${title}"; choose one and put its id in wrangler.toml`);
  }
  return ids[0];
}

/**
 * `wrangler kv namespace create <title>`: the new id, from the configuration snippet it prints
 * (TOML `id = "…"`, or JSON `"id": "…"` for a JSON config). null unless exactly one id is there.
 */
export function parseKvCreate(stdout) {
  const ids = new Set();
  for (const line of String(stdout).split('\n')) {
    const m = /^\s*(?:id\s*=\s*|"id"\s*:\s*)"([0-9a-f]{32})"\s*,?\s*$/.exec(line);
    if (m) ids.add(m[1]);
  }
  return ids.size === 1 ? [...ids][0] : null;
}

/** `wrangler secret list` (a JSON array of { name, type }): which of `names` are not set. */
export function missingSecrets(stdout, names = REQUIRED_SECRETS) {
  const list = jsonFromOutput(stdout);
  if (!Array.isArray(list)) throw new ConfigError('wrangler secret list did not print a JSON array');
  const present = new Set(list.map((s) => s && s.name));
  return names.filter((n) => !present.has(n));
}

/**
 * The Worker's URL from wrangler's output file (WRANGLER_OUTPUT_FILE_PATH: one JSON object per
 * line). The last `deploy` entry's targets are its workers.dev URL (with https://), routes,
 * custom domains ("example.com (custom domain…)") and schedules; the workers.dev URL wins, else
 * the first custom domain. null when there is none (a dry run, routes only).
 */
export function deployedUrl(ndjson) {
  let entry = null;
  for (const line of String(ndjson).split('\n')) {
    if (!line.trim()) continue;
    try {
      const value = JSON.parse(line);
      if (value && value.type === 'deploy') entry = value;
    } catch {
      // a torn line; the deploy entry is written whole
    }
  }
  const targets = Array.isArray(entry?.targets) ? entry.targets.filter((t) => typeof t === 'string') : [];
  const https = targets.find((t) => /^https:\/\/[^\s/]+$/.test(t));
  if (https) return https;
  const domain = targets.map((t) => /^([a-z0-9.-]+) \(custom domain\b/i.exec(t)).find(Boolean);
  return domain ? `https://${domain[1]}` : null;
}

// ---------------------------------------------------------------------------------------------
// Command line for scripts/deploy.sh. Values wrangler printed come on stdin; results go to
// stdout; a refusal goes to stderr with exit status 1.

function readStdin() {
  return readFileSync(0, 'utf8');
}

const commands = {
  // Prints "placeholder", "set <id>"; refuses "missing" and "ambiguous".
  'vault-state'(file) {
    const state = vaultState(readFileSync(file, 'utf8'));
    if (state.kind === 'placeholder') return 'placeholder';
    if (state.kind === 'set') return `set ${state.id}`;
    if (state.kind === 'missing') {
      throw new ConfigError(`${file} has no [[kv_namespaces]] entry with binding = "${VAULT_BINDING}"; add one (see docs/configuration.md)`);
    }
    throw new ConfigError(`${file}: ${state.reason}; set the ${VAULT_BINDING} namespace id by hand`);
  },
  'kv-title'(file) {
    return kvTitle(readFileSync(file, 'utf8'));
  },
  // Writes the id into the file (through a temporary file and a rename, so a failure leaves
  // the old file whole). Prints "changed" or "unchanged".
  'set-vault-id'(file, id) {
    const before = readFileSync(file, 'utf8');
    const after = setVaultId(before, id);
    if (after === before) return 'unchanged';
    const tmp = `${file}.deploy-tmp`;
    writeFileSync(tmp, after);
    renameSync(tmp, file);
    return 'changed';
  },
  'find-namespace'(title) {
    return findNamespace(readStdin(), title) ?? '';
  },
  'kv-create-id'() {
    return parseKvCreate(readStdin()) ?? '';
  },
  'missing-secrets'(...names) {
    return missingSecrets(readStdin(), names.length ? names : REQUIRED_SECRETS).join('\n');
  },
  // Prints "logged-out", or "logged-in" then one "account <id> <name>" line per account;
  // refuses output that is not whoami's JSON.
  whoami() {
    const who = parseWhoami(readStdin());
    if (!who) throw new ConfigError('wrangler whoami --json printed something unexpected');
    if (!who.loggedIn) return 'logged-out';
    return ['logged-in' + (who.email ? ` ${who.email}` : ''), ...who.accounts.map((a) => `account ${a.id} ${a.name}`)].join('\n');
  },
  'deployed-url'(file) {
    return deployedUrl(readFileSync(file, 'utf8')) ?? '';
  },
  // 32 random bytes: "base64" for TOKEN_ENCRYPTION_KEY, "base64url" for ADMIN_TOKEN.
  'random-secret'(encoding) {
    if (encoding !== 'base64' && encoding !== 'base64url') throw new ConfigError('random-secret takes base64 or base64url');
    return randomBytes(32).toString(encoding);
  },
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [name, ...args] = process.argv.slice(2);
  const command = commands[name];
  if (!command) {
    process.stderr.write(`usage: deploy-config.mjs ${Object.keys(commands).join('|')} …\n`);
    process.exit(2);
  }
  try {
    const out = command(...args);
    if (out) process.stdout.write(`${out}\n`);
  } catch (err) {
    if (!(err instanceof ConfigError) && err.code !== 'ENOENT') throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}

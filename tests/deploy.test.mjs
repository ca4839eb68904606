// scripts/deploy.sh: its decisions (scripts/lib/deploy-config.mjs) on the repo's real
// wrangler.toml and on output of the installed wrangler, then the script itself run end to end
// where no Cloudflare account is needed: `--dry-run`, which builds and bundles the Worker, and a
// run without credentials, which must stop with the login advice and change nothing.
//
// The samples of output that needs an account (kv namespace create/list, secret list, the
// deploy entry with targets, whoami when logged in) are rebuilt from the installed wrangler's
// source (4.86.0, wrangler-dist/cli.js); the modules named by each sample are the ones the
// bundle marks. Output that needs no account is taken from the installed wrangler as it runs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import {
  ConfigError,
  PLACEHOLDER_KV_ID,
  deployedUrl,
  findNamespace,
  kvTitle,
  missingSecrets,
  parseKvCreate,
  parseWhoami,
  setVaultId,
  vaultState,
  workerName,
} from '../scripts/lib/deploy-config.mjs';
import { node22, repoRoot, workerMain, wranglerBin, wranglerToml } from './lib/paths.mjs';

const NEW_ID = '0f2ac74b498b48028cb68387c421e279';
const OTHER_ID = '7d3b1c9e5a2f4e8d9c0b1a2f3e4d5c6b';
const repoToml = readFileSync(wranglerToml, 'utf8');

// A [[kv_namespaces]]-only file, for the cases the repo's file does not show.
const toml = (...lines) => `name = "bindify"\nmain = "build/index.js"\n\n${lines.join('\n')}\n`;

describe('placeholder detection', () => {
  test("the repo's wrangler.toml holds the placeholder, on its id line", () => {
    const line = repoToml.split('\n').indexOf(`id = "${PLACEHOLDER_KV_ID}"`) + 1;
    assert.ok(line > 0, 'wrangler.toml has the placeholder id line');
    assert.deepEqual(vaultState(repoToml), { kind: 'placeholder', line });
  });

  test('a real id is set', () => {
    assert.deepEqual(vaultState(toml('[[kv_namespaces]]', 'binding = "VAULT"', `id = "${NEW_ID}"`)), { kind: 'set', id: NEW_ID, line: 6 });
  });

  test('no [[kv_namespaces]] section is missing', () => {
    assert.deepEqual(vaultState(toml('[vars]', 'ALLOW_LOOPBACK_HTTP = "false"')), { kind: 'missing' });
  });

  test('other bindings, and VAULT under an environment, are not the VAULT namespace', () => {
    const others = toml(
      '[[kv_namespaces]]', 'binding = "CACHE"', `id = "${PLACEHOLDER_KV_ID}"`, '',
      '[[env.staging.kv_namespaces]]', 'binding = "VAULT"', `id = "${PLACEHOLDER_KV_ID}"`,
    );
    assert.deepEqual(vaultState(others), { kind: 'missing' });
    const withVault = toml(
      '[[kv_namespaces]]', 'binding = "CACHE"', `id = "${OTHER_ID}"`, '',
      '[[kv_namespaces]]', 'binding = "VAULT"', 'preview_id = "abc"', `id = "${PLACEHOLDER_KV_ID}"`,
    );
    assert.deepEqual(vaultState(withVault), { kind: 'placeholder', line: 11 });
  });

  test('the KV namespace title comes from the Worker name', () => {
    assert.equal(workerName(repoToml), 'bindify');
    assert.equal(kvTitle(repoToml), 'bindify-VAULT');
    assert.throws(() => kvTitle('[[kv_namespaces]]\nbinding = "VAULT"\n'), { name: 'ConfigError', message: 'wrangler.toml has no top-level name = "…"' });
  });
});

describe('the wrangler.toml edit', () => {
  test("changes only the VAULT id line of the repo's wrangler.toml", () => {
    const placeholderLine = `\nid = "${PLACEHOLDER_KV_ID}"\n`;
    assert.equal(repoToml.split(placeholderLine).length, 2, 'the placeholder line occurs once');
    const edited = setVaultId(repoToml, NEW_ID);
    assert.equal(edited, repoToml.replace(placeholderLine, `\nid = "${NEW_ID}"\n`));
    const before = repoToml.split('\n');
    const afterLines = edited.split('\n');
    assert.equal(afterLines.length, before.length);
    assert.deepEqual(afterLines.flatMap((l, i) => (l === before[i] ? [] : [[i + 1, l]])), [[vaultState(repoToml).line, `id = "${NEW_ID}"`]]);
  });

  test('is idempotent, and refuses to replace a real id with another', () => {
    const once = setVaultId(repoToml, NEW_ID);
    assert.equal(setVaultId(once, NEW_ID), once);
    assert.deepEqual(vaultState(once), { kind: 'set', id: NEW_ID, line: vaultState(repoToml).line });
    assert.throws(() => setVaultId(once, OTHER_ID), {
      name: 'ConfigError',
      message: `wrangler.toml already names the KV namespace ${NEW_ID} for VAULT (line ${vaultState(repoToml).line}); not replacing it with ${OTHER_ID}`,
    });
  });

  test('keeps indentation, a trailing comment and CRLF line endings', () => {
    const text = toml('[[kv_namespaces]]', '  binding = "VAULT"', `  id   =   '${PLACEHOLDER_KV_ID}'   # filled in by deploy.sh`).replaceAll('\n', '\r\n');
    assert.equal(setVaultId(text, NEW_ID), text.replace(`'${PLACEHOLDER_KV_ID}'`, `"${NEW_ID}"`));
  });

  test('a table header inside a multi-line array is not read as a header', () => {
    const text = toml('[[kv_namespaces]]', 'binding = "VAULT"', 'tags = [', '  ["a"],', ']', `id = "${PLACEHOLDER_KV_ID}"`);
    assert.equal(setVaultId(text, NEW_ID), text.replace(PLACEHOLDER_KV_ID, NEW_ID));
  });

  const ambiguous = [
    ['two VAULT entries', toml('[[kv_namespaces]]', 'binding = "VAULT"', `id = "${PLACEHOLDER_KV_ID}"`, '[[kv_namespaces]]', 'binding = "VAULT"', `id = "${OTHER_ID}"`),
      '2 [[kv_namespaces]] entries have binding = "VAULT" (lines 4, 7)'],
    ['two ids', toml('[[kv_namespaces]]', 'binding = "VAULT"', `id = "${PLACEHOLDER_KV_ID}"`, `id = "${OTHER_ID}"`),
      'the [[kv_namespaces]] entry at line 4 has more than one id'],
    ['no id', toml('[[kv_namespaces]]', 'binding = "VAULT"'),
      'the [[kv_namespaces]] entry at line 4 has no id'],
    ['an id that is not a string', toml('[[kv_namespaces]]', 'binding = "VAULT"', 'id = 42'),
      'line 6 sets id in a form this script does not edit'],
    ['an inline kv_namespaces array', 'name = "bindify"\nkv_namespaces = [{ binding = "VAULT", id = "bindify-vault-local" }]\n',
      'line 2 declares kv_namespaces inline'],
    ['a multi-line string', toml('[vars]', 'NOTE = """', '[[kv_namespaces]]', '"""', '[[kv_namespaces]]', 'binding = "VAULT"', `id = "${PLACEHOLDER_KV_ID}"`),
      'line 5 holds a multi-line string; line 7 holds a multi-line string'],
  ];
  for (const [what, text, reason] of ambiguous) {
    test(`refuses to guess: ${what}`, () => {
      assert.deepEqual(vaultState(text), { kind: 'ambiguous', reason });
      assert.throws(() => setVaultId(text, NEW_ID), (err) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.message, `wrangler.toml is ambiguous: ${reason}; set the id by hand`);
        return true;
      });
    });
  }

  test('refuses a missing entry and an id that is not a KV namespace id', () => {
    assert.throws(() => setVaultId(toml('[vars]'), NEW_ID), { message: 'wrangler.toml has no [[kv_namespaces]] entry with binding = "VAULT"' });
    assert.throws(() => setVaultId(repoToml, 'x"\n[vars]'), { name: 'ConfigError', message: `${JSON.stringify('x"\n[vars]')} is not a KV namespace id (32 hex digits)` });
  });
});

describe("parsing wrangler's output", () => {
  // printWranglerBanner (src/wrangler-banner.ts) without a colour terminal, as it prints.
  const banner = '\n ⛅️ wrangler 4.86.0\n───────────────────\n';

  test('kv namespace create: the id from the configuration snippet', () => {
    // src/kv/index.ts kvNamespaceCreateCommand, then createdResourceConfig
    // (src/utils/add-created-resource-config.ts), whose snippet for a TOML config is
    // formatConfigSnippet -> smol-toml stringify of { kv_namespaces: [{ binding, id }] }, the
    // binding being getValidBindingName(title).
    const created = `${banner}Resource location: remote \n\n🌀 Creating namespace with title "bindify-VAULT"\n✨ Success!\n`
      + 'To access your new KV Namespace in your Worker, add the following snippet to your configuration file:\n'
      + `[[kv_namespaces]]\nbinding = "bindify_VAULT"\nid = "${NEW_ID}"\n\n`;
    assert.equal(parseKvCreate(created), NEW_ID);
    // The same for a JSON config: JSON.stringify(snippet, null, 2).
    const json = `${banner}🌀 Creating namespace with title "bindify-VAULT"\n✨ Success!\n`
      + `${JSON.stringify({ kv_namespaces: [{ binding: 'bindify_VAULT', id: NEW_ID }] }, null, 2)}\n`;
    assert.equal(parseKvCreate(json), NEW_ID);
    // No snippet, or two ids: no guess.
    assert.equal(parseKvCreate(`${banner}🌀 Creating namespace with title "bindify-VAULT"\n✨ Success!\n`), null);
    assert.equal(parseKvCreate(`id = "${NEW_ID}"\nid = "${OTHER_ID}"\n`), null);
  });

  test('kv namespace list: the namespace with the title, if any', () => {
    // kvNamespaceListCommand: logger.log(JSON.stringify(allNamespaces, null, "  ")), no banner;
    // the entries are the API's { id, title, supports_url_encoding }.
    const list = `${JSON.stringify([
      { id: OTHER_ID, title: 'VAULT', supports_url_encoding: true },
      { id: NEW_ID, title: 'bindify-VAULT', supports_url_encoding: true },
    ], null, '  ')}\n`;
    assert.equal(findNamespace(list, 'bindify-VAULT'), NEW_ID);
    assert.equal(findNamespace(list, 'other-VAULT'), null);
    assert.equal(findNamespace('[]\n', 'bindify-VAULT'), null);
    assert.throws(() => findNamespace('{"success":false}', 'bindify-VAULT'), { message: 'wrangler kv namespace list did not print a JSON array' });
    assert.throws(() => findNamespace('✘ [ERROR] Authentication error [code: 10000]\n', 'bindify-VAULT'), {
      message: 'expected JSON from wrangler, got: ✘ [ERROR] Authentication error [code: 10000]',
    });
  });

  test('secret list: which secrets are missing', () => {
    // secretListCommand: logger.log(JSON.stringify(secrets, null, "  ")) of the API's
    // [{ name, type }], no banner in the default json format.
    assert.deepEqual(missingSecrets('[]\n'), ['TOKEN_ENCRYPTION_KEY', 'ADMIN_TOKEN']);
    const one = `${JSON.stringify([{ name: 'TOKEN_ENCRYPTION_KEY', type: 'secret_text' }], null, '  ')}\n`;
    assert.deepEqual(missingSecrets(one), ['ADMIN_TOKEN']);
    const both = `${JSON.stringify([
      { name: 'ADMIN_TOKEN', type: 'secret_text' },
      { name: 'OAUTH_CLIENTS', type: 'secret_text' },
      { name: 'TOKEN_ENCRYPTION_KEY', type: 'secret_text' },
    ], null, '  ')}\n`;
    assert.deepEqual(missingSecrets(both), []);
  });

  test('whoami --json: logged out (as the installed wrangler prints it) and logged in', async () => {
    const home = mkdtempSync(join(tmpdir(), 'bindify-whoami-'));
    try {
      const run = await runProcess(node22, [wranglerBin, 'whoami', '--json'], { env: isolatedEnv(home), timeoutMs: 60_000 });
      assert.equal(run.code, 1, run.stderr);
      assert.equal(run.stdout, '\n{"loggedIn":false}\n');
      assert.deepEqual(parseWhoami(run.stdout), { loggedIn: false });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
    // src/user/whoami.ts whoami(…, json): logger.json (JSON.stringify(…, null, 4)) of
    // { loggedIn, authType, email, accounts, tokenPermissions }, accounts as the API lists them.
    const loggedIn = `${JSON.stringify({
      loggedIn: true,
      authType: 'OAuth Token',
      email: 'owner@example.com',
      accounts: [{ id: '9a7806061c88ada191ed06f989cc3dac', name: "Owner's Account", type: 'standard' }],
      tokenPermissions: ['account:read', 'user:read', 'workers:write', 'workers_kv:write'],
    }, null, 4)}\n`;
    assert.deepEqual(parseWhoami(loggedIn), {
      loggedIn: true,
      email: 'owner@example.com',
      accounts: [{ id: '9a7806061c88ada191ed06f989cc3dac', name: "Owner's Account" }],
    });
    assert.equal(parseWhoami('✘ [ERROR] A request to the Cloudflare API failed.\n'), null);
  });

  test("deploy: the Worker's URL from the output file", () => {
    // src/deploy/index.ts writeOutput({ type: "deploy", …, targets }) where targets come from
    // triggersDeploy (src/triggers/deploy.ts): the workers.dev host with https:// added,
    // routes, custom domains as renderRoute shows them, and "schedule: <cron>".
    const session = { type: 'wrangler-session', version: 1, wrangler_version: '4.86.0', command_line_args: ['deploy'], log_file_path: '/tmp/w.log', timestamp: '2026-11-29T19:42:05.170Z' };
    const deploy = (targets) => ({ type: 'deploy', version: 1, worker_name: 'bindify', worker_tag: 'b0d8e1', version_id: 'a1b2c3', targets, worker_name_overridden: false, timestamp: '2026-11-29T19:42:28.335Z' });
    const file = (...entries) => `${entries.map((e) => JSON.stringify(e)).join('\n')}\n`;
    assert.equal(deployedUrl(file(session, deploy(['https://bindify.owner.workers.dev', 'schedule: */5 * * * *']))), 'https://bindify.owner.workers.dev');
    assert.equal(deployedUrl(file(session, deploy(['bindify.example.com (custom domain - zone name: example.com)', 'schedule: */5 * * * *']))), 'https://bindify.example.com');
    assert.equal(deployedUrl(file(session, deploy(['example.com/bindify/*', 'schedule: */5 * * * *']))), null);
    // A dry run's entry has no targets; a failed command leaves no deploy entry at all.
    const dryRun = { type: 'deploy', version: 1, worker_name: 'bindify', worker_tag: null, version_id: null, worker_name_overridden: false, timestamp: '2026-11-29T19:42:28.335Z' };
    assert.equal(deployedUrl(file(session, dryRun)), null);
    assert.equal(deployedUrl(file(session, { type: 'command-failed', version: 1, message: 'Authentication error' })), null);
  });
});

describe('scripts/deploy.sh without an account', () => {
  const homes = [];
  after(() => {
    for (const dir of homes) rmSync(dir, { recursive: true, force: true });
  });
  function freshHome() {
    const dir = mkdtempSync(join(tmpdir(), 'bindify-deploy-'));
    homes.push(dir);
    return dir;
  }

  test('--dry-run builds and bundles the Worker with no account, and changes no tracked file', { timeout: 15 * 60_000 }, async () => {
    if (!existsSync(workerMain)) {
      throw new Error(`${workerMain} is missing: build the Worker first with \`sh scripts/build-worker.sh\` in the repo root`);
    }
    const home = freshHome();
    const outdir = join(home, 'bundle');
    const outputFile = join(home, 'wrangler-output.ndjson');
    const tracked = await gitStatus([]);
    const run = await runProcess(join(repoRoot, 'scripts/deploy.sh'), ['--dry-run', '--outdir', outdir], {
      env: { ...isolatedEnv(home), WRANGLER_OUTPUT_FILE_PATH: outputFile },
      timeoutMs: 14 * 60_000,
    });
    assert.equal(run.code, 0, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
    assert.match(run.stdout, /^wrangler\.toml still holds the placeholder KV id: a real run creates the namespace\.$/m);
    assert.match(run.stdout, /^Dry run passed: the Worker builds and bundles\. Nothing was uploaded, no account was used\.$/m);
    assert.ok(run.stdout.includes(`The bundle is in ${outdir}\n`), run.stdout);
    assert.match(run.stdout, /^env\.VAULT \(bindify-vault-local\) +KV Namespace/m);

    // The bundle: the entry module and the very .wasm that build/ holds.
    const files = readdirSync(outdir).sort();
    assert.ok(files.includes('index.js'), files.join(', '));
    const wasm = files.filter((f) => f.endsWith('-index_bg.wasm'));
    assert.equal(wasm.length, 1, files.join(', '));
    assert.equal(sha256(join(outdir, wasm[0])), sha256(join(repoRoot, 'build/index_bg.wasm')));

    // wrangler's output file (the installed wrangler's own sample): a deploy entry without targets.
    const entries = readFileSync(outputFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const deployEntry = entries.find((e) => e.type === 'deploy');
    assert.equal(deployEntry?.worker_name, 'bindify');
    assert.equal(deployEntry?.targets, undefined);
    assert.equal(deployedUrl(readFileSync(outputFile, 'utf8')), null);

    assert.deepEqual(await gitStatus([]), tracked);
    assert.equal(readFileSync(wranglerToml, 'utf8'), repoToml);

    // build/ is current now, so the build step that `wrangler deploy` runs costs nothing.
    const wasmTime = statSync(join(repoRoot, 'build/index_bg.wasm')).mtimeMs;
    const again = await runProcess('sh', [join(repoRoot, 'scripts/build-worker.sh')], { env: isolatedEnv(home), timeoutMs: 60_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr, 'build/ is current (same sources, tools and settings): not rebuilding; --force rebuilds.\n');
    assert.equal(statSync(join(repoRoot, 'build/index_bg.wasm')).mtimeMs, wasmTime);
  });

  test('without a login it says how to log in, exits 1 and changes no file', { timeout: 10 * 60_000 }, async () => {
    const home = freshHome();
    const everything = await gitStatus(['--ignored']);
    const wasm = join(repoRoot, 'build/index_bg.wasm');
    const wasmTime = existsSync(wasm) ? statSync(wasm).mtimeMs : null;
    const run = await runProcess(join(repoRoot, 'scripts/deploy.sh'), [], { env: isolatedEnv(home), timeoutMs: 9 * 60_000 });
    assert.equal(run.code, 1, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
    assert.ok(run.stderr.endsWith(`
wrangler is not logged in to Cloudflare, so there is nowhere to deploy to yet. Log in once:

    scripts/wrangler.sh login

(it opens Cloudflare in a browser), then run scripts/deploy.sh again. On a machine without a
browser, create an API token from the "Edit Cloudflare Workers" template at
https://dash.cloudflare.com/profile/api-tokens and export it instead:

    export CLOUDFLARE_API_TOKEN=<the token>
    scripts/deploy.sh
`), run.stderr);
    assert.equal(run.stdout, '');
    assert.deepEqual(await gitStatus(['--ignored']), everything);
    assert.equal(readFileSync(wranglerToml, 'utf8'), repoToml);
    assert.equal(existsSync(wasm) ? statSync(wasm).mtimeMs : null, wasmTime);
  });
});

// The environment of a user with no Cloudflare credentials: no token variables, and a HOME and
// XDG config dir of its own so wrangler finds no login. Rust's tools stay where they are.
function isolatedEnv(home) {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(CLOUDFLARE_|CF_|WRANGLER_)/.test(name)) env[name] = value;
  }
  return {
    ...env,
    RUSTUP_HOME: process.env.RUSTUP_HOME ?? join(homedir(), '.rustup'),
    CARGO_HOME: process.env.CARGO_HOME ?? join(homedir(), '.cargo'),
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    WRANGLER_SEND_METRICS: 'false',
    NO_COLOR: '1',
  };
}

function runProcess(command, args, { env, timeoutMs }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not exit within ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function gitStatus(flags) {
  const run = await runProcess('git', ['status', '--porcelain', ...flags], { env: process.env, timeoutMs: 60_000 });
  assert.equal(run.code, 0, run.stderr);
  return run.stdout;
}

function sha256(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

// The `bindify` command line end to end: the built binary (target/debug/bindify) against the
// Worker in workerd with ADMIN_TOKEN set, the demo MCP server behind oidc-provider, and headless
// Chromium opening the links the CLI prints. Also the management API's own authorization rules,
// and that no answer of the API (as printed by the CLI or fetched directly) holds a token.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startMcpServer } from '../fixtures/mcp-server.mjs';
import { startOAuthServer } from '../fixtures/oauth-server.mjs';
import { launchBrowser, loginAndConsent } from '../lib/browser.mjs';
import { repoRoot } from '../lib/paths.mjs';
import { getFreePort } from '../lib/ports.mjs';
import { startWorker } from '../lib/worker.mjs';
import { connectClient, textOf } from './mcp-clients.mjs';
import { newKey, secretOf } from './support.mjs';

const bindifyBin = join(repoRoot, 'target/debug/bindify');
const CLI_TIMEOUT_MS = 60_000;

// The exit codes documented in `bindify --help` and cli/README.md.
const EXIT = { ok: 0, usage: 2, unreachable: 3, unauthorized: 4, notFound: 5, flowFailed: 6, timedOut: 7 };

describe('bindify CLI', () => {
  let as;
  let mcp;
  let worker;
  let browser;
  let configDir;
  const adminToken = randomBytes(24).toString('base64url');
  // Everything the Worker's management API said, through the CLI or to fetch.
  const answers = [];
  // What the authorization server saw of revocations.
  const destroyedRefreshTokens = [];
  const revokedGrants = [];

  /**
   * Runs `bindify args` without a terminal (stdin is a pipe given `input`, then closed).
   * `onStderr` sees stderr as it grows. Resolves with { code, stdout, stderr }.
   */
  function runCli(args, { env = {}, input = '', onStderr } = {}) {
    const childEnv = { ...process.env };
    for (const name of ['BINDIFY_WORKER_URL', 'BINDIFY_ADMIN_TOKEN', 'BINDIFY_CONFIG_DIR']) delete childEnv[name];
    Object.assign(childEnv, { BINDIFY_CONFIG_DIR: configDir, BINDIFY_NO_BROWSER: '1', NO_COLOR: '1' }, env);
    return new Promise((resolve, reject) => {
      const child = spawn(bindifyBin, args, { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`bindify ${args.join(' ')} did not exit within ${CLI_TIMEOUT_MS} ms; stderr:\n${stderr}`));
      }, CLI_TIMEOUT_MS);
      child.stdout.on('data', (chunk) => { stdout += chunk; });
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
        onStderr?.(stderr);
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        answers.push(stdout, stderr);
        resolve({ code: code ?? `signal ${signal}`, stdout, stderr });
      });
      // A command that exits before reading its input closes the pipe first: that is no error.
      child.stdin.on('error', (err) => {
        if (err.code !== 'EPIPE') reject(err);
      });
      child.stdin.end(input);
    });
  }

  /** `bindify ... --json`, expecting exit 0; the parsed stdout. */
  async function cliJson(args) {
    const run = await runCli([...args, '--json']);
    assert.equal(run.code, EXIT.ok, `bindify ${args.join(' ')}: ${run.stderr}`);
    return JSON.parse(run.stdout);
  }

  function assertExit(run, code, pattern) {
    assert.equal(run.code, code, `exit code; stdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
    if (pattern) assert.match(run.stderr, pattern);
  }

  /**
   * Starts `bindify connect ...`, and resolves with the authorization link it prints plus a
   * promise of its exit.
   */
  function startConnect(args) {
    let announce;
    const link = new Promise((resolve) => { announce = resolve; });
    const exited = runCli(['connect', ...args], {
      onStderr: (text) => {
        const match = /Open this link to authorize: (\S+)/.exec(text);
        if (match) announce(match[1]);
      },
    });
    return Promise.race([
      link.then((url) => ({ url, exited })),
      exited.then((run) => {
        throw new Error(`bindify connect exited (${run.code}) before printing a link:\n${run.stderr}`);
      }),
    ]);
  }

  async function api(path, init = {}) {
    const response = await fetch(`${worker.url}${path}`, { redirect: 'manual', ...init });
    const body = await response.text();
    answers.push(body);
    return { status: response.status, body, headers: response.headers };
  }

  /** The status code an MCP initialize POST to `url` gets. */
  async function mcpStatus(url) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0', id: 1, method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '1' } },
      }),
    });
    await response.body?.cancel();
    return response.status;
  }

  async function echoThrough(mcpUrl, text) {
    const client = await connectClient(mcpUrl);
    try {
      return textOf(await client.callTool({ name: 'echo', arguments: { text } }));
    } finally {
      await client.close();
    }
  }

  before(async () => {
    if (!existsSync(bindifyBin)) {
      throw new Error(`${bindifyBin} is missing: build the CLI first with \`cargo build -p bindify-cli\` in the repo root (scripts/test.sh does)`);
    }
    configDir = mkdtempSync(join(tmpdir(), 'bindify-cli-config-'));
    as = await startOAuthServer({ accessTokenTTL: 300 });
    as.provider.on('refresh_token.destroyed', (token) => destroyedRefreshTokens.push(token.jti));
    as.provider.on('grant.revoked', (_ctx, grantId) => revokedGrants.push(grantId));
    mcp = await startMcpServer({ issuer: as.issuer });
    worker = await startWorker({
      vars: { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true', DEMO_SERVER_URL: mcp.url, ADMIN_TOKEN: adminToken },
    });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await worker?.stop();
    await mcp?.stop();
    await as?.stop();
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  });

  let connection; // { id, mcpUrl, sseUrl } of the connection made through the CLI

  test('login checks the token against the Worker and saves it, readable only by the owner', async () => {
    const run = await runCli(['login', '--worker', `${worker.url}/`], { input: `${adminToken}\n` });
    assertExit(run, EXIT.ok);
    const file = join(configDir, 'config.json');
    assert.match(run.stdout, new RegExp(`^Logged in to ${worker.url}\\. Saved the URL and token to ${file}`));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { worker_url: worker.url, admin_token: adminToken });
  });

  test('connect demo: the printed link asks the browser to sign in, then authorizes; the CLI prints the permanent URLs', async () => {
    const { url, exited } = await startConnect(['demo', '--no-browser']);
    assert.match(url, new RegExp(`^${worker.url}/cli/[A-Za-z0-9_-]+$`));
    const page = await browser.newPage();
    try {
      // The link alone authorizes nothing: the owner signs in, and comes back to it.
      const first = await page.goto(url);
      assert.equal(first.status(), 401);
      await page.waitForSelector('body[data-page="login"]');
      assert.equal(await page.getAttribute('input[name="next"]', 'value'), new URL(url).pathname);
      await page.fill('input[name="token"]', adminToken);
      await page.click('#login-form button[type="submit"]');
      await loginAndConsent(page);
    } finally {
      await page.close();
    }
    const run = await exited;
    assertExit(run, EXIT.ok);
    const match = /^Connected\. Token refresh handled automatically\.\nYour permanent MCP URL: (\S+)\nLegacy SSE URL: (\S+)\n$/.exec(run.stdout);
    assert.ok(match, `stdout:\n${run.stdout}`);
    const [, mcpUrl, sseUrl] = match;
    const secret = secretOf(mcpUrl);
    assert.ok(secret, mcpUrl);
    assert.equal(mcpUrl, `${worker.url}/s/${secret}/mcp`);
    assert.equal(sseUrl, `${worker.url}/s/${secret}/sse`);
    assert.equal(await echoThrough(mcpUrl, 'hello from the CLI'), 'hello from the CLI');

    const { connections } = await cliJson(['list']);
    assert.equal(connections.length, 1);
    connection = { id: connections[0].id, mcpUrl, sseUrl };
  });

  test('a code starts one flow, once, and only for the signed-in owner', async () => {
    const created = await api('/api/connect', {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ server: 'demo' }),
    });
    assert.equal(created.status, 201);
    const { code } = JSON.parse(created.body);
    const link = `${worker.url}/cli/${code}`;

    // Without a session: the sign-in form, and the code is still unused.
    const stranger = await api(new URL(link).pathname);
    assert.equal(stranger.status, 401);
    assert.match(stranger.body, /data-page="login"/);
    assert.ok(!stranger.body.includes('id="error-code"'));

    const session = (await browser.context.cookies(worker.url)).find((c) => c.name === 'bindify_admin');
    assert.ok(session, 'the browser signed in earlier');
    const cookie = `bindify_admin=${session.value}`;
    const opens = await Promise.all(Array.from({ length: 10 }, () => api(new URL(link).pathname, { headers: { cookie } })));
    const statuses = opens.map((o) => o.status).sort();
    assert.deepEqual(statuses, [302, 404, 404, 404, 404, 404, 404, 404, 404, 404]);
    for (const o of opens.filter((o) => o.status === 404)) assert.match(o.body, /<span id="error-code">cli_code_invalid<\/span>/);
    const started = opens.find((o) => o.status === 302);
    assert.equal(new URL(started.headers.get('location')).origin, new URL(as.issuer).origin);

    const polled = await api(`/api/connect/${code}`, { headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(polled.status, 200);
    assert.deepEqual(JSON.parse(polled.body), { status: 'pending' });
  });

  test('list and status show the connection, by id or by label in any case', async () => {
    const { connections } = await cliJson(['list']);
    const [listed] = connections;
    assert.equal(listed.id, connection.id);
    assert.equal(listed.upstream, mcp.url);
    assert.equal(listed.state, 'active');
    assert.ok(listed.label, 'a connection has a label');
    assert.ok(Date.parse(listed.access_token_expires_at) > Date.now());

    const table = await runCli(['list']);
    assertExit(table, EXIT.ok);
    const [header, row, ...rest] = table.stdout.trimEnd().split('\n');
    assert.match(header, /^ID\s+LABEL\s+UPSTREAM\s+STATE\s+TOKEN EXPIRES\s+LAST REFRESH\s+GRANT ENDS$/);
    assert.ok(row.startsWith(connection.id) && row.includes(mcp.url) && row.includes('active'), row);
    // oidc-provider states no refresh token lifetime and documents none: the grant end is unknown.
    assert.match(row, /\s-$/, row);
    assert.deepEqual(rest, []);

    const byId = await cliJson(['status', connection.id]);
    assert.equal(byId.id, connection.id);
    assert.equal(byId.last_error, null);
    const byLabel = await cliJson(['status', listed.label.toUpperCase()]);
    assert.equal(byLabel.id, connection.id);

    const human = await runCli(['status', listed.label]);
    assertExit(human, EXIT.ok);
    assert.match(human.stdout, new RegExp(`^Id:\\s+${connection.id}$`, 'm'));
    assert.match(human.stdout, /^Last error:\s+none$/m);
  });

  test('reconnect gives the dashboard link for the connection', async () => {
    const out = await cliJson(['reconnect', connection.id, '--no-browser']);
    assert.equal(out.reconnect_url, `${worker.url}/manage/${connection.id}/reconnect`);
    const human = await runCli(['reconnect', connection.id, '--no-browser']);
    assertExit(human, EXIT.ok);
    assert.match(human.stdout, /dashboard session/);
  });

  test('doctor: reachable, token accepted, key ok, cron recently run', async () => {
    const cron = await worker.cron();
    assert.equal(cron.status, 200, cron.body);
    const run = await runCli(['doctor']);
    assertExit(run, EXIT.ok);
    for (const line of ['[ok]   worker reachable', '[ok]   admin API', '[ok]   encryption key', '[ok]   admin token', '[ok]   cron']) {
      assert.ok(run.stdout.includes(line), `${line}\n${run.stdout}`);
    }
    const report = await cliJson(['doctor']);
    assert.equal(report.ok, true);
    assert.equal(report.health.encryption_key, 'ok');
  });

  test('a session cookie is refused on a state-changing request from another origin', async () => {
    const login = await api('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: worker.url },
      body: new URLSearchParams({ token: adminToken, next: '/manage' }).toString(),
    });
    assert.ok([302, 303].includes(login.status), `POST /login: ${login.status} ${login.body.slice(0, 200)}`);
    const cookie = login.headers.get('set-cookie')?.split(';')[0];
    assert.match(cookie ?? '', /^bindify_admin=./);

    const sameOrigin = await api('/api/connections', { headers: { cookie } });
    assert.equal(sameOrigin.status, 200, 'the cookie is a valid session');
    const forged = await api(`/api/connections/${connection.id}`, {
      method: 'DELETE',
      headers: { cookie, origin: 'https://evil.example' },
    });
    assert.equal(forged.status, 403);
    assert.equal(JSON.parse(forged.body).error, 'forbidden_origin');
    const noOrigin = await api(`/api/connections/${connection.id}`, { method: 'DELETE', headers: { cookie } });
    assert.equal(noOrigin.status, 403);
    assert.equal((await cliJson(['status', connection.id])).id, connection.id, 'still there');
  });

  test('rotate-url: the old URL gets 404 at once, the new one works', async () => {
    const rotated = await cliJson(['rotate-url', connection.id]);
    assert.equal(rotated.id, connection.id);
    const secret = secretOf(rotated.mcp_url);
    assert.ok(secret && secret !== secretOf(connection.mcpUrl), rotated.mcp_url);
    assert.equal(rotated.mcp_url, `${worker.url}/s/${secret}/mcp`);
    assert.equal(rotated.sse_url, `${worker.url}/s/${secret}/sse`);
    assert.equal(await mcpStatus(connection.mcpUrl), 404);
    assert.equal(await echoThrough(rotated.mcp_url, 'rotated'), 'rotated');
    connection = { ...connection, mcpUrl: rotated.mcp_url, sseUrl: rotated.sse_url };
  });

  test('unknown labels exit 5, an error names what to do', async () => {
    const run = await runCli(['status', 'no-such-service']);
    assertExit(run, EXIT.notFound, /^error: no connection has the label or id "no-such-service" \(labels: .+\): `bindify list` shows every connection with its id\n$/);
    assertExit(await runCli(['rotate-url', 'no-such-service']), EXIT.notFound, /no connection has the label or id/);
  });

  test('revoke needs --yes without a terminal, then deletes the connection and revokes the grant upstream', async () => {
    const refused = await runCli(['revoke', connection.id]);
    assertExit(refused, EXIT.usage, /pass --yes/);
    assert.equal(await mcpStatus(connection.mcpUrl), 200, 'nothing was revoked');

    // The connection's current refresh token: the last one issued (the cron may have rotated it).
    const refreshToken = as.tokenRequests.filter((r) => r.issued?.refresh_token).at(-1)?.issued.refresh_token;
    assert.ok(refreshToken);
    const grantsBefore = revokedGrants.length;

    const run = await runCli(['revoke', connection.id, '--yes']);
    assertExit(run, EXIT.ok);
    assert.match(run.stdout, new RegExp(`^Revoked .+ \\(${connection.id}\\): its URL no longer works\\.\n${mcp.url} revoked the tokens too\\.\n$`));
    // The authorization server destroyed the connection's refresh token and its grant.
    assert.ok(destroyedRefreshTokens.includes(refreshToken), `the refresh token was revoked at the AS; destroyed: ${destroyedRefreshTokens.length}, token requests: ${JSON.stringify(as.tokenRequests.map((r) => [r.grant_type, r.status]))}`);
    assert.equal(revokedGrants.length, grantsBefore + 1, 'the grant was revoked at the AS');

    assert.equal(await mcpStatus(connection.mcpUrl), 404);
    assertExit(await runCli(['status', connection.id]), EXIT.notFound);
    assert.deepEqual((await cliJson(['list'])).connections, []);
  });

  test('a flow declined at the authorization server exits 6 with its message', async () => {
    const { url, exited } = await startConnect(['demo', '--no-browser']);
    const page = await browser.newPage();
    try {
      await page.goto(url);
      await page.waitForURL((u) => u.pathname.includes('/interaction/'));
      await page.click('a:has-text("Cancel")');
      await page.waitForLoadState('load');
    } finally {
      await page.close();
    }
    const run = await exited;
    assertExit(run, EXIT.flowFailed, /^error: the authorization failed \(access_denied\): .+\. Run `bindify connect demo` to try again\n$/m);
    assert.equal(run.stdout, '');
  });

  test('a flow nobody finishes times out with exit 7', async () => {
    const started = Date.now();
    const run = await runCli(['connect', mcp.url, '--no-browser', '--timeout', '2']);
    assertExit(run, EXIT.timedOut, /^error: the authorization did not finish within 2 s \(the link works until [0-9TZ:-]+\)\. Run `bindify connect .+` again and open the link, or pass a longer --timeout\n$/m);
    assert.match(run.stderr, /^Open this link to authorize: /);
    assert.ok(Date.now() - started < 15_000);
  });

  test('a preset the Worker does not know exits 2 and names the built-in ones', async () => {
    const run = await runCli(['connect', 'no-such-preset', '--no-browser']);
    assertExit(run, EXIT.usage, /^error: "no-such-preset" is not a preset this Worker knows .*: use one of notion, linear, sentry /);
  });

  test('an unreachable Worker exits 3 and says how to fix the URL', async () => {
    const port = await getFreePort();
    const run = await runCli(['list', '--worker', `http://127.0.0.1:${port}`]);
    assertExit(run, EXIT.unreachable, new RegExp(`^error: could not reach http://127\\.0\\.0\\.1:${port}: .+\\. Check the URL with \`bindify login --worker <url>\``));
    const doctor = await runCli(['doctor', '--worker', `http://127.0.0.1:${port}`]);
    assert.equal(doctor.code, EXIT.unreachable);
    assert.match(doctor.stdout, /^\[FAIL\] worker reachable: could not reach/m);
  });

  // Wrong credentials are counted per client (five are free), so these come last.
  test('the API refuses a request without a token or with a wrong one', async () => {
    const none = await api('/api/connections');
    assert.equal(none.status, 401);
    assert.equal(JSON.parse(none.body).error, 'unauthorized');
    const wrong = await api('/api/health', { headers: { authorization: 'Bearer not-the-token' } });
    assert.equal(wrong.status, 401);
    assert.equal(JSON.parse(wrong.body).error, 'unauthorized');
  });

  test('a wrong admin token exits 4; login with one saves nothing', async () => {
    const wrongToken = `wrong-${randomBytes(12).toString('hex')}`;
    const run = await runCli(['list'], { env: { BINDIFY_ADMIN_TOKEN: wrongToken } });
    assertExit(run, EXIT.unauthorized, /^error: the admin token is wrong: .+ refused the token from BINDIFY_ADMIN_TOKEN \(401\)\. Run `bindify login --worker/);

    const freshDir = mkdtempSync(join(tmpdir(), 'bindify-cli-config-'));
    try {
      const login = await runCli(['login', '--worker', worker.url], { input: `${wrongToken}\n`, env: { BINDIFY_CONFIG_DIR: freshDir } });
      assertExit(login, EXIT.unauthorized, /the admin token is wrong: .+ nothing was saved/);
      assert.equal(existsSync(join(freshDir, 'config.json')), false);
      for (const text of [run.stdout, run.stderr, login.stdout, login.stderr]) assert.ok(!text.includes(wrongToken));
    } finally {
      rmSync(freshDir, { recursive: true, force: true });
    }
  });

  test('too many wrong tokens: the CLI exits 4 and says when to try again', async () => {
    let run;
    for (let i = 0; i < 6; i += 1) {
      run = await runCli(['list', '--token', 'still-wrong']);
      if (run.stderr.includes('too many')) break;
    }
    assertExit(run, EXIT.unauthorized, /^error: too many wrong admin tokens were sent from this address: try again in \d+ s,/);
  });

  test('no answer of the management API holds a token, and the CLI never prints the admin token', () => {
    const issued = as.tokenRequests.filter((r) => r.issued).flatMap((r) => [r.issued.access_token, r.issued.refresh_token]).filter(Boolean);
    assert.ok(issued.length >= 2, 'the AS issued tokens');
    for (const text of answers) {
      for (const token of issued) assert.ok(!text.includes(token), 'an OAuth token appears in an answer');
      assert.ok(!text.includes(adminToken), 'the admin token appears in an answer');
    }
  });
});

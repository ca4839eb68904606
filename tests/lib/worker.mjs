// Runs the already built Bindify Worker under `wrangler dev` (workerd, local KV and Durable
// Objects), isolated from the developer's setup: a temp dir holds a copy of wrangler.toml
// without its [build] step, a .dev.vars with the test's variables, and the persisted state.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { node22, workerMain, wranglerBin, wranglerToml } from './paths.mjs';
import { getFreePort } from './ports.mjs';
import { startProcess } from './procs.mjs';

const READY_TIMEOUT_MS = 60_000;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Starts the Worker and resolves once it answers HTTP.
 * `vars` go to .dev.vars (secrets such as TOKEN_ENCRYPTION_KEY, or overrides of [vars]).
 * `main` and `config` default to the repo's build/index.js and wrangler.toml; they exist so the
 * harness itself can be tried on a stand-in Worker.
 */
export async function startWorker({ vars = {}, port, main = workerMain, config = wranglerToml } = {}) {
  if (!existsSync(main)) {
    throw new Error(`${main} is missing: build the Worker first with \`sh scripts/build-worker.sh\` in the repo root (the test harness never builds it)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'bindify-worker-'));
  removeAtExit(dir);
  const configFile = join(dir, 'wrangler.toml');
  writeFileSync(configFile, isolatedConfig(readFileSync(config, 'utf8'), main));
  writeFileSync(join(dir, '.dev.vars'), devVars(vars));
  const persistDir = join(dir, 'state');
  const workerPort = port ?? await getFreePort();
  const url = `http://127.0.0.1:${workerPort}`;

  let proc = null;
  async function start() {
    proc = await startProcess({
      name: 'wrangler',
      command: node22,
      args: [
        wranglerBin, 'dev',
        '--config', configFile,
        '--ip', '127.0.0.1',
        '--port', String(workerPort),
        '--inspector-ip', '127.0.0.1',
        '--inspector-port', String(await getFreePort()),
        '--show-interactive-dev-session=false',
        '--persist-to', persistDir,
      ],
      cwd: dir,
      env: {
        ...process.env,
        CI: '1',
        WRANGLER_SEND_METRICS: 'false',
        // wrangler dev keeps a local trace store of every request (URLs included) unless told not
        // to; a deployed Bindify enables no Workers Observability, and tests look at its storage.
        X_LOCAL_OBSERVABILITY: 'false',
        FORCE_COLOR: '0', // fewer ANSI escapes in the log (esbuild-style warnings keep theirs)
        WRANGLER_LOG_PATH: join(dir, 'wrangler-logs'),
      },
    });
    try {
      await waitUntilServing(url, proc);
    } catch (err) {
      await proc.stop();
      throw err;
    }
  }

  await start();
  return {
    url,
    port: workerPort,
    persistDir,
    get logFile() {
      return proc.logFile;
    },
    get pid() {
      return proc.pid;
    },
    stop: () => proc.stop(),
    /**
     * Stops the Worker and starts it again on the same port with the same state; `vars`, when
     * given, replace its variables (an operator changing the Worker's secrets).
     */
    async restart({ vars: newVars } = {}) {
      await proc.stop();
      if (newVars) writeFileSync(join(dir, '.dev.vars'), devVars(newVars));
      await start();
    },
    /** Runs the scheduled handler as the cron trigger `expr` would. */
    async cron(expr = '*/5 * * * *') {
      const response = await fetch(`${url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent(expr)}`);
      return { status: response.status, body: await response.text() };
    },
  };
}

// The temp dirs go when the test process exits, not at stop(): a test may look at the state
// of a stopped Worker (or restart it).
const tempDirs = new Set();
function removeAtExit(dir) {
  if (tempDirs.size === 0) {
    process.on('exit', () => {
      for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
    });
  }
  tempDirs.add(dir);
}

// wrangler.toml with the [build] table (and any [build.*] subtable) dropped, so wrangler does not
// rebuild, and `main` made absolute, since the copy lives elsewhere. Top-level keys sit before
// the first table header in TOML, so `main` is matched only there.
function isolatedConfig(toml, main) {
  const out = [];
  let table = '';
  let mainSeen = false;
  for (const line of toml.split('\n')) {
    const header = /^\s*\[\[?\s*([^\]\s]+)\s*\]\]?/.exec(line);
    if (header) table = header[1];
    if (table === 'build' || table.startsWith('build.')) continue;
    if (!table && /^\s*main\s*=/.test(line)) {
      out.push(`main = ${JSON.stringify(main)}`);
      mainSeen = true;
      continue;
    }
    out.push(line);
  }
  if (!mainSeen) throw new Error('wrangler.toml has no top-level `main`; startWorker cannot point it at the build');
  return out.join('\n');
}

function devVars(vars) {
  return Object.entries(vars).map(([name, value]) => {
    const text = String(value);
    if (!VAR_NAME.test(name)) throw new Error(`startWorker: bad variable name ${JSON.stringify(name)}`);
    // .dev.vars is dotenv: a double-quoted value cannot hold a quote, a backslash or a newline;
    // a single-quoted one (JSON, say) is taken as written, but cannot hold a single quote.
    if (/[\\\n\r]/.test(text) || (text.includes('"') && text.includes("'"))) {
      throw new Error(`startWorker: the value of ${name} contains a backslash, a newline or both kinds of quote`);
    }
    return text.includes('"') ? `${name}='${text}'\n` : `${name}="${text}"\n`;
  }).join('');
}

async function waitUntilServing(url, proc) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.exitStatus()) {
      throw new Error(`wrangler dev exited (${JSON.stringify(proc.exitStatus())}) before serving ${url}; log ${proc.logFile}:\n${proc.logTail()}`);
    }
    // A Worker that fails to load (a missing Durable Object export, a bad module) leaves wrangler
    // running but never serving, after printing an [ERROR]: no point waiting the full minute.
    if (/\[ERROR\]/.test(proc.logTail(200))) {
      throw new Error(`wrangler dev reported an error before serving ${url}; log ${proc.logFile}:\n${proc.logTail()}`);
    }
    try {
      await fetch(`${url}/__bindify_ready_probe`, { signal: AbortSignal.timeout(2000) });
      return; // any HTTP answer means the Worker is up
    } catch {
      await delay(250);
    }
  }
  throw new Error(`wrangler dev did not serve ${url} within ${READY_TIMEOUT_MS / 1000} s; log ${proc.logFile}:\n${proc.logTail()}`);
}

// The peers of the latency, streaming, concurrency, memory and restart scenarios: one
// authorization server (long token lifetime, so no refresh happens mid-run), the fixture MCP
// server and the bench MCP server as upstreams (in a child process), Bindify with one connection
// per upstream endpoint, and the pass-through Worker seeded with the same tokens. Each Worker
// runs twice: under `wrangler dev`, as users run it, and on Miniflare without wrangler.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

import { getFreePort } from '../../tests/lib/ports.mjs';
import { startWorker } from '../../tests/lib/worker.mjs';
import { startChild } from './child.mjs';
import { connect } from './connect.mjs';
import { Endpoint, newAgent } from './mcp-http.mjs';
import { buildSnapshot } from './snapshot.mjs';

export const newKey = () => randomBytes(32).toString('base64');
export const passthroughMain = fileURLToPath(new URL('../passthrough/worker.js', import.meta.url));
export const passthroughConfig = fileURLToPath(new URL('../passthrough/wrangler.toml', import.meta.url));
/** The Rust floor's build (bench/floor/build.sh; bench/run.sh builds it). */
export const floorMain = fileURLToPath(new URL('../floor/build/index.js', import.meta.url));

/** The artificial delay of every Durable Object call in the "far object" setups, in ms. */
export const FAR_OBJECT_DELAY_MS = 80;

/**
 * The setups requests go through: (a) `direct` to the upstream with the token; (b)
 * `passthrough` and (c) `bindify` on `wrangler dev`, as users run it. wrangler 4 dev puts a
 * proxy workerd in front of the runtime workerd and relays inspector traffic for every
 * subrequest to its Node process; the `mf_*` setups are the same Workers on Miniflare without
 * wrangler. `worker_noop` answers without any upstream; `passthrough_kv` and
 * `passthrough_kv_do` add Bindify's per-request storage steps (see passthrough/worker.js).
 * The "far object" setups put FAR_OBJECT_DELAY_MS before every Durable Object call:
 * `mf_passthrough_kv_do_far` (the pass-through's KV get and object call, the object far away)
 * and `mf_far_bindify` (Bindify under wrapper/worker.mjs). `mf_floor` is the Rust floor
 * (bench/floor/): the bare pass-through written in Rust with the `worker` crate, built like
 * Bindify, what any Worker of Bindify's stack adds before doing anything of its own.
 */
export const SETUPS = ['direct', 'passthrough', 'bindify'];
export const WORKER_SETUPS = ['direct', 'passthrough', 'bindify', 'mf_passthrough', 'mf_bindify'];
export const LATENCY_SETUPS = [
  'direct', 'worker_noop', 'passthrough', 'bindify',
  'mf_worker_noop', 'mf_passthrough', 'mf_passthrough_kv', 'mf_passthrough_kv_do', 'mf_bindify',
  'mf_passthrough_kv_do_far', 'mf_far_bindify', 'mf_floor',
];
const PASSTHROUGH_PATH = { worker_noop: '/__noop', passthrough: '/bare', passthrough_kv: '/kv', passthrough_kv_do: '/kvdo', passthrough_kv_do_far: `/kvdo${FAR_OBJECT_DELAY_MS}` };

/**
 * Workers on Miniflare (miniflare-child.mjs), one Miniflare instance each: separate workerd
 * processes and state under one temporary directory. `workers`: [{ name, kind, main, wrapper,
 * vars }]. Returns the child with, per worker name, { url, port, stateDir }.
 */
export async function startMiniflareWorkers(workers) {
  const stateDir = mkdtempSync(join(tmpdir(), 'bindify-bench-mf-'));
  const specs = [];
  for (const worker of workers) specs.push({ ...worker, port: await getFreePort() });
  let child;
  try {
    child = await startChild('miniflare', fileURLToPath(new URL('./miniflare-child.mjs', import.meta.url)), [JSON.stringify({ stateDir, workers: specs })]);
  } catch (err) {
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  const out = {
    ...child,
    stateDir,
    async stop() {
      await child.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  for (const worker of specs) {
    out[worker.name] = { url: child.ready.urls[worker.name], port: worker.port, stateDir: join(stateDir, worker.name) };
  }
  return out;
}

/** What the wrapper around Bindify (wrapper/worker.mjs) at `url` counted so far. */
export async function wrapperCounts(url) {
  const answer = await fetch(`${url}/__bench/counts`);
  if (!answer.ok) throw new Error(`wrapper counts at ${url}: ${answer.status} ${await answer.text()}`);
  return answer.json();
}

/**
 * The Miniflare setups: Bindify, the pass-through Worker, and Bindify wrapped by
 * wrapper/worker.mjs with FAR_OBJECT_DELAY_MS on every object call (which also counts them).
 */
function startMiniflare(vars) {
  const snapshot = buildSnapshot();
  return startMiniflareWorkers([
    { name: 'bindify', kind: 'bindify', main: snapshot.main, vars },
    { name: 'passthrough', kind: 'passthrough', main: passthroughMain },
    { name: 'far', kind: 'bindify', main: snapshot.main, wrapper: snapshot.wrapper, vars: { ...vars, BENCH_OBJECT_DELAY_MS: String(FAR_OBJECT_DELAY_MS) } },
    { name: 'floor', kind: 'floor', main: floorMain },
  ]);
}

export async function startPeers({ log }) {
  const t0 = performance.now();
  const vars = { TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true' };
  const [upstream, bindify, passthrough, mf] = await Promise.all([
    startChild('upstreams', fileURLToPath(new URL('./upstreams-child.mjs', import.meta.url))),
    startWorker({ main: buildSnapshot().main, vars }),
    startWorker({ main: passthroughMain, config: passthroughConfig }),
    startMiniflare(vars),
  ]);
  log(`  upstreams, both Workers under wrangler dev and on Miniflare up in ${((performance.now() - t0) / 1000).toFixed(1)} s (started together)`);

  // One Bindify connection per upstream endpoint, on each Bindify.
  const { upstreams } = upstream.ready;
  const connections = {};
  const mfConnections = {};
  const farConnections = {};
  for (const [name, url] of Object.entries(upstreams)) {
    connections[name] = await connect(bindify.url, url);
    mfConnections[name] = await connect(mf.bindify.url, url);
    farConnections[name] = await connect(mf.far.url, url);
  }

  // The tokens Bindify holds, as the upstreams saw them on a first request through Bindify.
  const setupAgent = newAgent(4);
  for (const name of Object.keys(upstreams)) {
    await new Endpoint({ name, url: connections[name].mcpUrl, agent: setupAgent }).initialize();
  }
  await setupAgent.close();
  const { tokens } = await upstream.ask({ type: 'tokens' });
  for (const [name, token] of Object.entries(tokens)) if (!token) throw new Error(`no token seen for ${name}`);

  const seed = async (url) => {
    const seeded = await fetch(`${url}/__seed`, {
      method: 'POST',
      body: JSON.stringify({ targets: Object.fromEntries(Object.keys(upstreams).map((n) => [n, { upstream: upstreams[n], token: tokens[n] }])) }),
    });
    if (!seeded.ok) throw new Error(`seeding the pass-through Worker (or the Rust floor) at ${url}: ${seeded.status} ${await seeded.text()}`);
  };
  await Promise.all([seed(passthrough.url), seed(mf.passthrough.url), seed(mf.floor.url)]);

  const peers = {
    upstream,
    bindify,
    passthrough,
    mf,
    connections,
    agent: newAgent(16),

    /** A fresh (uninitialized) endpoint for upstream `name` through `setup`. */
    endpoint(name, setup, agent = peers.agent) {
      const onMiniflare = setup.startsWith('mf_');
      const kind = onMiniflare ? setup.slice(3) : setup;
      let url;
      if (kind === 'direct') url = upstreams[name];
      else if (kind === 'bindify') url = (onMiniflare ? mfConnections : connections)[name].mcpUrl;
      else if (kind === 'far_bindify') url = farConnections[name].mcpUrl;
      else if (kind === 'floor') url = `${mf.floor.url}/bare/${name}`;
      else url = `${onMiniflare ? mf.passthrough.url : passthrough.url}${PASSTHROUGH_PATH[kind]}${kind === 'worker_noop' ? '' : `/${name}`}`;
      const headers = kind === 'direct' ? { authorization: `Bearer ${tokens[name]}` } : {};
      return new Endpoint({ name: `${setup}/${name}`, url, headers, agent });
    },

    /** What the far-object wrapper counted so far (wrapper/worker.mjs). */
    farCounts: () => wrapperCounts(mf.far.url),

    /**
     * New wrangler processes for both wrangler-dev Workers, same ports and state. Under wrangler
     * dev every Durable Object call leaves its dev proxy workerd holding one more connection to
     * wrangler's Node process; after some 10,000 of them workerd runs out of file descriptors.
     * Scenarios therefore start on fresh processes.
     */
    async restartWorkers() {
      await peers.agent.close().catch(() => {});
      await Promise.all([bindify.restart(), passthrough.restart()]);
      await seed(passthrough.url);
      peers.agent = newAgent(16);
    },

    async stop() {
      await peers.agent.close().catch(() => {});
      await Promise.allSettled([bindify.stop(), passthrough.stop(), mf.stop()]);
      await upstream.stop();
    },
  };
  return peers;
}

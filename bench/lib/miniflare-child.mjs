// Workers on workerd without wrangler dev: one Miniflare instance per Worker (Miniflare's own
// API), in this child process so their Node side never shares the client's event loop. wrangler
// dev adds a proxy workerd in front of the runtime and relays inspector traffic for every
// subrequest to its Node process; this is the same runtime and the same local KV and Durable
// Objects without either, the closest local stand-in for production.
//
// Started by setup.mjs with fork() and an argument: the JSON of
//   { stateDir, workers: [{ name, kind, main, vars, port, wrapper }] }
// `kind` is 'bindify' (Bindify's bindings; with `wrapper`, the module at `wrapper` wraps the
// build next to it, see wrapper/worker.mjs), 'passthrough' (passthrough/wrangler.toml's) or
// 'floor' (the Rust floor, bench/floor/, no bindings).
// Sends { type: 'ready', urls: { <name>: url } }; stops on SIGTERM.
import { dirname, join } from 'node:path';

import { requireFromTests } from './deps.mjs';

const { Miniflare, convertV4MiniflareOptions } = requireFromTests('miniflare');
// Miniflare 5 takes a list of workers; its converter accepts the flat options of Miniflare 4.
const options = (flat) => (convertV4MiniflareOptions ? convertV4MiniflareOptions(flat) : flat);
const { stateDir, workers } = JSON.parse(process.argv[2]);

function bindifyOptions(worker) {
  const root = dirname(worker.main);
  const modules = [
    ...(worker.wrapper ? [{ type: 'ESModule', path: worker.wrapper }] : []),
    { type: 'ESModule', path: worker.main },
    { type: 'CompiledWasm', path: join(root, 'index_bg.wasm') },
  ];
  // The bindings of Bindify's wrangler.toml.
  return {
    modules,
    modulesRoot: root,
    kvNamespaces: { VAULT: 'bindify-vault-local' },
    durableObjects: {
      CONNECTION: { className: 'Connection', useSQLite: true },
      SSE_SESSION: { className: 'SseSession', useSQLite: true },
      THROTTLE: { className: 'Throttle', useSQLite: true },
      CLI_CODE: { className: 'CliCode', useSQLite: true },
    },
    bindings: { ALLOW_LOOPBACK_HTTP: 'false', CONNECT_STATE_TTL_SECONDS: '600', ...worker.vars },
  };
}

// The Rust floor (bench/floor/): its module and Wasm, no bindings.
function floorOptions(worker) {
  const root = dirname(worker.main);
  return {
    modules: [{ type: 'ESModule', path: worker.main }, { type: 'CompiledWasm', path: join(root, 'index_bg.wasm') }],
    modulesRoot: root,
  };
}

function passthroughOptions(worker) {
  // The bindings of passthrough/wrangler.toml.
  return {
    modules: true,
    scriptPath: worker.main,
    modulesRoot: dirname(worker.main),
    kvNamespaces: { KV: 'bench-passthrough-kv' },
    durableObjects: { HOLDER: { className: 'TokenHolder', useSQLite: true } },
  };
}

const instances = workers.map((worker) => new Miniflare(options({
  host: '127.0.0.1',
  port: worker.port,
  name: worker.name,
  // GET /cdn-cgi/local/scheduled runs the scheduled handler (wrangler dev: /cdn-cgi/handler/scheduled).
  unsafeTriggerHandlers: true,
  compatibilityDate: '2025-09-01',
  resourcePersistencePath: join(stateDir, worker.name),
  ...({ bindify: bindifyOptions, floor: floorOptions, passthrough: passthroughOptions })[worker.kind](worker),
})));
const urls = await Promise.all(instances.map((mf) => mf.ready));

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await Promise.allSettled(instances.map((mf) => mf.dispose()));
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('disconnect', stop);

process.send({ type: 'ready', urls: Object.fromEntries(workers.map((w, i) => [w.name, urls[i].origin])) });

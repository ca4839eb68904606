// Bindify and the pass-through Worker on workerd without wrangler dev: one Miniflare instance
// each (Miniflare's own API), in this child process so their Node side never shares the
// client's event loop. wrangler dev adds a proxy workerd in front of the runtime and relays
// inspector traffic for every subrequest to its Node process; this is the same runtime and the
// same local KV and Durable Objects without either, the closest local stand-in for production.
//
// Started by setup.mjs with fork() and an argument: the JSON of
// { bindify: { main, vars, port }, passthrough: { main, port }, stateDir }.
// Sends { type: 'ready', bindify: url, passthrough: url }; stops on SIGTERM.
import { dirname, join } from 'node:path';

import { requireFromTests } from './deps.mjs';

const { Miniflare } = requireFromTests('miniflare');
const options = JSON.parse(process.argv[2]);
const common = { host: '127.0.0.1', compatibilityDate: '2025-09-01', modules: true };

// The bindings of Bindify's wrangler.toml and of passthrough/wrangler.toml.
const bindify = new Miniflare({
  ...common,
  port: options.bindify.port,
  scriptPath: options.bindify.main,
  modulesRoot: dirname(options.bindify.main),
  modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
  kvNamespaces: { VAULT: 'bindify-vault-local' },
  durableObjects: {
    CONNECTION: { className: 'Connection', useSQLite: true },
    SSE_SESSION: { className: 'SseSession', useSQLite: true },
  },
  bindings: { ALLOW_LOOPBACK_HTTP: 'false', CONNECT_STATE_TTL_SECONDS: '600', ...options.bindify.vars },
  kvPersist: join(options.stateDir, 'bindify-kv'),
  durableObjectsPersist: join(options.stateDir, 'bindify-do'),
});
const passthrough = new Miniflare({
  ...common,
  port: options.passthrough.port,
  scriptPath: options.passthrough.main,
  modulesRoot: dirname(options.passthrough.main),
  kvNamespaces: { KV: 'bench-passthrough-kv' },
  durableObjects: { HOLDER: { className: 'TokenHolder', useSQLite: true } },
  kvPersist: join(options.stateDir, 'passthrough-kv'),
  durableObjectsPersist: join(options.stateDir, 'passthrough-do'),
});

const [bindifyUrl, passthroughUrl] = await Promise.all([bindify.ready, passthrough.ready]);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await Promise.allSettled([bindify.dispose(), passthrough.dispose()]);
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('disconnect', stop);

process.send({ type: 'ready', bindify: bindifyUrl.origin, passthrough: passthroughUrl.origin });

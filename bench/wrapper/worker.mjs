// A Worker module around Bindify's build, for the benchmark only; nothing in Bindify changes.
// It re-exports Bindify's entry point and Durable Object classes, each constructed with an `env`
// (and, for the objects, a `state`) seen through proxies that
//   - make every call through a Durable Object stub wait BENCH_OBJECT_DELAY_MS first (the "far
//     object" scenario: an object in another region), and
//   - count what crosses the bindings: stub calls per namespace, requests and alarms each object
//     class ran, KV reads, writes and lists, object storage writes and alarms set.
// GET /__bench/counts answers the counts (the only request it answers itself); the harness
// copies this file next to the build's index.js (see lib/snapshot.mjs).
import Bindify, {
  CliCode as BindifyCliCode,
  Connection as BindifyConnection,
  SseSession as BindifySseSession,
  Throttle as BindifyThrottle,
} from './index.js';

const DELAY_VAR = 'BENCH_OBJECT_DELAY_MS';
const counts = {
  stub_calls: {}, // calls through a Durable Object stub, by binding
  object_requests: {}, // fetch requests an object received, by class
  object_alarms: {}, // alarms an object ran, by class
  kv: { get: 0, getWithMetadata: 0, put: 0, delete: 0, list: 0 },
  storage: { put: 0, delete: 0, deleteAll: 0, setAlarm: 0, deleteAlarm: 0 },
};
let delayMs = 0;
const bump = (table, key) => {
  table[key] = (table[key] ?? 0) + 1;
};
const wait = (ms) => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : undefined);

/** `target` seen through a proxy whose methods run on `target` itself (native methods need it), `wrap(prop, method)` deciding what a method becomes. */
function through(target, wrap) {
  return new Proxy(target, {
    get(object, prop) {
      const value = Reflect.get(object, prop);
      if (typeof value !== 'function' || prop === 'constructor' || typeof prop === 'symbol') return value;
      return wrap(prop, value.bind(object)) ?? value.bind(object);
    },
  });
}

function stub(real, binding) {
  return through(real, (prop, method) => async (...args) => {
    bump(counts.stub_calls, binding);
    await wait(delayMs);
    return method(...args);
  });
}

const namespace = (real, binding) =>
  through(real, (prop, method) => (prop === 'get' || prop === 'getByName' ? (...args) => stub(method(...args), binding) : undefined));

const kv = (real) =>
  through(real, (prop, method) => (prop in counts.kv ? (...args) => (bump(counts.kv, prop), method(...args)) : undefined));

const storage = (real) =>
  through(real, (prop, method) => (prop in counts.storage ? (...args) => (bump(counts.storage, prop), method(...args)) : undefined));

const state = (real) =>
  new Proxy(real, {
    get(object, prop) {
      const value = Reflect.get(object, prop);
      if (prop === 'storage') return storage(value);
      return typeof value === 'function' && prop !== 'constructor' ? value.bind(object) : value;
    },
  });

/** Bindify's bindings, with its Durable Object namespaces and KV seen through the proxies above. */
function benchEnv(env) {
  delayMs = Number(env[DELAY_VAR] ?? 0);
  const out = {};
  for (const [name, value] of Object.entries(env)) {
    if (name === DELAY_VAR) continue;
    const kind = value?.constructor?.name;
    out[name] = kind === 'DurableObjectNamespace' ? namespace(value, name) : kind === 'KvNamespace' ? kv(value) : value;
  }
  return out;
}

export default class BenchBindify extends Bindify {
  constructor(ctx, env) {
    super(ctx, benchEnv(env));
  }

  fetch(request) {
    if (new URL(request.url).pathname === '/__bench/counts') return Response.json(counts);
    return super.fetch(request);
  }
}

function objectClass(Base, name) {
  return class extends Base {
    constructor(realState, env) {
      super(state(realState), benchEnv(env));
    }

    fetch(request) {
      bump(counts.object_requests, name);
      return super.fetch(request);
    }

    alarm(...args) {
      bump(counts.object_alarms, name);
      return super.alarm(...args);
    }
  };
}

export const CliCode = objectClass(BindifyCliCode, 'CliCode');
export const Connection = objectClass(BindifyConnection, 'Connection');
export const SseSession = objectClass(BindifySseSession, 'SseSession');
export const Throttle = objectClass(BindifyThrottle, 'Throttle');

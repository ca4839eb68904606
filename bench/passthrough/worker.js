// The floor for any Worker proxy, in the same workerd as Bindify: forward the request to the
// upstream with a fixed bearer token, stream the answer back. Two heavier variants add, one at a
// time, the storage steps Bindify takes per request, to split its added latency:
//   /bare/<target>  forward only
//   /kv/<target>    + one KV get (Bindify: the URL index lookup)
//   /__noop         no upstream at all: answers every JSON-RPC request with an empty result
//                   (what wrangler dev and workerd cost before any proxying)
//   /kvdo/<target>  + one KV get and one Durable Object call that returns the token from the
//                   object's memory (Bindify: the connection object's /token)
//   /kvdo<ms>/<target>  the same, waiting <ms> before the object call (an object in another
//                   region: the "far object" scenario)
// GET /__whoami names this Worker (the harness looks for its socket by asking).
// POST /__seed {targets: {<name>: {upstream, token}}} sets the upstreams and tokens (kept in
// memory, in KV and in each target's object) before the run.
let targets = {};
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization'];

// Like Bindify's Connection object: the token in storage, and a copy in memory once read (an
// idle object is evicted and comes back empty).
export class TokenHolder {
  constructor(state) {
    this.storage = state.storage;
    this.token = null;
  }

  async fetch(request) {
    if (request.method === 'PUT') {
      this.token = await request.text();
      await this.storage.put('token', this.token);
      return new Response(null, { status: 204 });
    }
    this.token ??= (await this.storage.get('token')) ?? null;
    return this.token ? new Response(this.token) : new Response('not seeded', { status: 503 });
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/__seed' && request.method === 'POST') {
      ({ targets } = await request.json());
      for (const [name, { token }] of Object.entries(targets)) {
        await env.KV.put(`url:${name}`, name);
        await env.HOLDER.get(env.HOLDER.idFromName(name)).fetch('https://holder/', { method: 'PUT', body: token });
      }
      return new Response('seeded');
    }
    if (url.pathname === '/__noop') return noop(request);
    if (url.pathname === '/__whoami') return new Response('bindify-bench-passthrough');
    const match = /^\/(bare|kv|kvdo)(\d*)\/([A-Za-z0-9_-]+)$/.exec(url.pathname);
    const target = match && targets[match[3]];
    if (!target) return new Response('unknown target', { status: 404 });
    let token = target.token;
    if (match[1] !== 'bare') {
      const id = await env.KV.get(`url:${match[3]}`);
      if (id !== match[3]) return new Response('index miss', { status: 404 });
      if (match[1] === 'kvdo') {
        if (match[2]) await new Promise((resolve) => setTimeout(resolve, Number(match[2])));
        const answer = await env.HOLDER.get(env.HOLDER.idFromName(id)).fetch('https://holder/token', { method: 'POST' });
        if (!answer.ok) return new Response(`token holder: ${await answer.text()}`, { status: 503 });
        token = await answer.text();
      }
    }
    const headers = new Headers(request.headers);
    headers.set('authorization', `Bearer ${token}`);
    const upstream = await fetch(target.upstream, {
      method: request.method,
      headers,
      body: request.method === 'GET' || request.method === 'HEAD' ? null : request.body,
      redirect: 'manual',
    });
    const answer = new Headers(upstream.headers);
    for (const name of HOP_BY_HOP) answer.delete(name);
    return new Response(upstream.body, { status: upstream.status, headers: answer });
  },
};

// A stand-in MCP endpoint that never leaves the Worker: results for requests, 202 for the rest.
async function noop(request) {
  const message = await request.json();
  if (message.id === undefined) return new Response(null, { status: 202 });
  const result = message.method === 'initialize' ? { protocolVersion: message.params.protocolVersion, capabilities: {}, serverInfo: { name: 'noop', version: '1' } } : { content: [] };
  return Response.json({ jsonrpc: '2.0', id: message.id, result });
}

// A second OAuth-protected MCP upstream for the benchmark, built like
// tests/fixtures/mcp-server.mjs (official SDK transport, JWT access tokens checked against the
// issuer's JWKS with this endpoint as audience, RFC 9728 metadata) but with what the fixture
// lacks: an endpoint whose answers are plain JSON (`enableJsonResponse`), and a `burst` tool
// that streams notifications as fast as the server can write them.
//
//   /json    Streamable HTTP, every POST answered with application/json
//   /stream  Streamable HTTP, answered as SSE; tool `burst` {count, size} streams `count`
//            progress notifications of `size` bytes of text, then the result
import { randomUUID } from 'node:crypto';
import http from 'node:http';

import { requireFromTests } from './deps.mjs';

const { McpServer } = requireFromTests('@modelcontextprotocol/sdk/server/mcp.js');
const { StreamableHTTPServerTransport } = requireFromTests('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { isInitializeRequest } = requireFromTests('@modelcontextprotocol/sdk/types.js');
const { createRemoteJWKSet, jwtVerify } = requireFromTests('jose');
const z = requireFromTests('zod');

const PRM_PATH = '/.well-known/oauth-protected-resource';
const ENDPOINTS = { '/json': { json: true }, '/stream': { json: false } };

function createServer() {
  const server = new McpServer({ name: 'bindify-bench-mcp', version: '1.0.0' });
  server.registerTool('echo', { description: 'Returns its text.', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }));
  server.registerTool('burst', {
    description: 'Streams `count` progress notifications without pause, then answers.',
    inputSchema: { count: z.number().int().min(1).max(100000), size: z.number().int().min(0).max(65536).default(0) },
  }, async ({ count, size }, extra) => {
    const progressToken = extra._meta?.progressToken ?? 'burst';
    const message = 'x'.repeat(size);
    for (let i = 1; i <= count; i += 1) {
      await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress: i, total: count, message } });
    }
    return { content: [{ type: 'text', text: `sent ${count}` }] };
  });
  return server;
}

export async function startBenchMcpServer({ issuer }) {
  const metadata = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri));
  const sessions = new Map();
  const tokensSeen = new Map(); // endpoint path -> the last bearer token that passed

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      console.error(`bench-mcp-server ${req.method} ${req.url}:`, err);
      if (!res.headersSent) send(res, 500, { error: err.message });
      else res.end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;

  async function handle(req, res) {
    const url = new URL(req.url, origin);
    if (req.method === 'GET' && url.pathname.startsWith(PRM_PATH) && ENDPOINTS[url.pathname.slice(PRM_PATH.length)]) {
      send(res, 200, {
        resource: `${origin}${url.pathname.slice(PRM_PATH.length)}`,
        authorization_servers: [issuer],
        bearer_methods_supported: ['header'],
        scopes_supported: ['mcp'],
      });
      return;
    }
    const endpoint = ENDPOINTS[url.pathname];
    if (!endpoint) {
      send(res, 404, { error: 'not_found' });
      return;
    }
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = req.method === 'POST' ? JSON.parse(Buffer.concat(chunks).toString() || 'null') : undefined;

    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    try {
      if (!token) throw new Error('no token');
      await jwtVerify(token, jwks, { issuer, audience: `${origin}${url.pathname}`, typ: 'at+jwt', algorithms: ['RS256'] });
    } catch (err) {
      res.setHeader('www-authenticate', `Bearer resource_metadata="${origin}${PRM_PATH}${url.pathname}"${token ? ', error="invalid_token"' : ''}`);
      send(res, 401, { error: 'invalid_token', error_description: err.message });
      return;
    }
    tokensSeen.set(url.pathname, token);

    const sessionId = req.headers['mcp-session-id'];
    let transport = sessionId && sessions.get(sessionId);
    if (sessionId && !transport) {
      send(res, 404, { jsonrpc: '2.0', error: { code: -32001, message: 'session not found' }, id: null });
      return;
    }
    if (!transport) {
      if (req.method !== 'POST' || !isInitializeRequest(body)) {
        send(res, 400, { jsonrpc: '2.0', error: { code: -32000, message: 'no session' }, id: null });
        return;
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        enableJsonResponse: endpoint.json,
        onsessioninitialized: (id) => sessions.set(id, transport),
      });
      transport.onclose = () => sessions.delete(transport.sessionId);
      await createServer().connect(transport);
    }
    await transport.handleRequest(req, res, body);
  }

  return {
    origin,
    jsonUrl: `${origin}/json`,
    streamUrl: `${origin}/stream`,
    tokenFor: (path) => tokensSeen.get(path),
    async stop() {
      await Promise.allSettled([...sessions.values()].map((t) => t.close()));
      await new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      });
    },
  };
}

function send(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

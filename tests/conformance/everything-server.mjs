// The conformance "everything server" (tests/conformance/everything-tools.mjs) as a hosted MCP
// server would run it: Streamable HTTP with sessions and resumable streams (an event store and
// a retry interval), DNS-rebinding protection, and every request checked for a JWT access
// token from the tests' OAuth server (tests/fixtures/oauth-server.mjs) whose audience is this
// server, with RFC 9728 metadata naming that authorization server.
import { randomUUID } from 'node:crypto';
import http from 'node:http';

import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { createRemoteJWKSet, jwtVerify } from 'jose';

import { RESOURCE_SCOPE } from '../fixtures/constants.mjs';
import { MemoryEventStore } from '../fixtures/event-store.mjs';
import { createEverythingServer } from './everything-tools.mjs';

const PATH = '/mcp';
const PRM_PATH = `/.well-known/oauth-protected-resource${PATH}`;
/** What the priming event of a resumable stream tells clients to wait before reconnecting. */
const RETRY_MS = 500;

export async function startEverythingServer({ issuer }) {
  const metadata = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri));

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      console.error(`everything-server ${req.method} ${req.url}:`, err);
      if (!res.headersSent) sendJson(res, 500, rpcError(-32603, 'internal error'));
      else res.end();
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const origin = `http://127.0.0.1:${port}`;
  const resource = `${origin}${PATH}`;
  const sessions = new Map(); // Mcp-Session-Id -> transport
  const requests = [];

  async function handle(req, res) {
    const url = new URL(req.url, origin);
    const entry = { method: req.method, path: url.pathname, lastEventId: req.headers['last-event-id'] ?? null, authorized: false, status: null };
    requests.push(entry);
    res.on('finish', () => { entry.status = res.statusCode; });

    if (req.method === 'GET' && url.pathname === PRM_PATH) {
      sendJson(res, 200, { resource, authorization_servers: [issuer], bearer_methods_supported: ['header'], scopes_supported: [RESOURCE_SCOPE] });
      return;
    }
    if (url.pathname !== PATH) {
      sendJson(res, 404, { error: 'not_found' });
      return;
    }
    const auth = await verify(req);
    if (!auth) {
      res.setHeader('www-authenticate', `Bearer resource_metadata="${origin}${PRM_PATH}"`);
      sendJson(res, 401, { error: 'unauthorized', error_description: 'a bearer access token for this server is required' });
      return;
    }
    entry.authorized = true;
    req.auth = auth;

    const body = req.method === 'POST' ? parseJson(await readBody(req)) : undefined;
    const sessionId = req.headers['mcp-session-id'];
    let transport = sessionId && sessions.get(sessionId);
    if (sessionId && !transport) {
      sendJson(res, 404, rpcError(-32001, 'session not found'));
      return;
    }
    if (!transport) {
      if (req.method !== 'POST' || !isInitializeRequest(body)) {
        sendJson(res, 400, rpcError(-32000, 'bad request: no Mcp-Session-Id and not an initialize request'));
        return;
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        eventStore: new MemoryEventStore(),
        retryInterval: RETRY_MS,
        // A local server answers only requests addressed to it by its own name (DNS rebinding).
        enableDnsRebindingProtection: true,
        allowedHosts: [`127.0.0.1:${port}`, `localhost:${port}`],
        allowedOrigins: [origin, `http://localhost:${port}`],
        onsessioninitialized: (id) => { sessions.set(id, transport); },
      });
      transport.onclose = () => { sessions.delete(transport.sessionId); };
      await createEverythingServer().connect(transport);
    }
    await transport.handleRequest(req, res, body);
  }

  async function verify(req) {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token) return null;
    try {
      const { payload } = await jwtVerify(token, jwks, { issuer, audience: resource, typ: 'at+jwt', algorithms: ['RS256'] });
      return { token, clientId: payload.client_id, scopes: payload.scope ? payload.scope.split(' ') : [], expiresAt: payload.exp };
    } catch {
      return null;
    }
  }

  return {
    url: resource,
    resource,
    origin,
    requests,
    async stop() {
      await Promise.allSettled([...sessions.values()].map((t) => t.close()));
      await new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      });
    },
  };
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

function rpcError(code, message) {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}

function sendJson(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

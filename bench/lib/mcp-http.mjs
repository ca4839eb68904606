// A minimal Streamable HTTP client over undici with keep-alive: the same few lines for every
// setup, so the client's own overhead is small and identical whichever endpoint it talks to.
import { performance } from 'node:perf_hooks';

import { undici } from './deps.mjs';

const PROTOCOL_VERSION = '2025-06-18';

export function newAgent(connections = 8) {
  // Short header timeout: a stuck server should fail the run in seconds, not undici's 5 minutes.
  return new undici.Agent({ connections, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 60_000 });
}

/** The JSON-RPC messages of a response body, whether it came as JSON or as an SSE stream. */
export function messagesOf(contentType, text) {
  if ((contentType ?? '').includes('text/event-stream')) {
    const out = [];
    for (const event of text.split(/\r?\n\r?\n/)) {
      const data = event.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
      if (data) out.push(JSON.parse(data));
    }
    return out;
  }
  return text ? [JSON.parse(text)].flat() : [];
}

/**
 * One MCP endpoint as seen by the client: its URL, extra headers (the bearer token when going
 * straight to the upstream), and the session it negotiated.
 */
export class Endpoint {
  constructor({ name, url, headers = {}, agent }) {
    this.name = name;
    this.url = url;
    this.extraHeaders = headers;
    this.agent = agent;
    this.sessionId = null;
    this.protocolVersion = PROTOCOL_VERSION;
    this.nextId = 1;
  }

  headers() {
    return {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': this.protocolVersion,
      ...(this.sessionId ? { 'mcp-session-id': this.sessionId } : {}),
      ...this.extraHeaders,
    };
  }

  /** POSTs one JSON-RPC message; resolves with status, content type, body text and duration. */
  async post(message) {
    const started = performance.now();
    const response = await undici.request(this.url, {
      dispatcher: this.agent,
      method: 'POST',
      headers: this.headers(),
      body: JSON.stringify(message),
    });
    const text = await response.body.text();
    const ms = performance.now() - started;
    return { status: response.statusCode, headers: response.headers, contentType: response.headers['content-type'], text, ms };
  }

  /** A request expecting a JSON-RPC result; throws on anything else. */
  async call(method, params) {
    const id = this.nextId++;
    const r = await this.post({ jsonrpc: '2.0', id, method, params });
    if (r.status !== 200) throw new Error(`${this.name} ${method}: HTTP ${r.status}: ${r.text.slice(0, 300)}`);
    const answer = messagesOf(r.contentType, r.text).find((m) => m.id === id);
    if (!answer || answer.error || !answer.result) throw new Error(`${this.name} ${method}: no result: ${r.text.slice(0, 300)}`);
    return { result: answer.result, ms: r.ms, contentType: r.contentType };
  }

  async initialize() {
    this.sessionId = null;
    const id = this.nextId++;
    const r = await this.post({
      jsonrpc: '2.0',
      id,
      method: 'initialize',
      params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'bindify-bench', version: '1' } },
    });
    if (r.status !== 200) throw new Error(`${this.name} initialize: HTTP ${r.status}: ${r.text.slice(0, 300)}`);
    const answer = messagesOf(r.contentType, r.text).find((m) => m.id === id);
    if (!answer?.result) throw new Error(`${this.name} initialize: ${r.text.slice(0, 300)}`);
    this.sessionId = r.headers['mcp-session-id'] ?? null;
    this.protocolVersion = answer.result.protocolVersion;
    const note = await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    if (note.status !== 202) throw new Error(`${this.name} notifications/initialized: HTTP ${note.status}`);
    return this;
  }

  /** A copy with its own session (for concurrent clients). */
  clone(name = this.name, agent = this.agent) {
    return new Endpoint({ name, url: this.url, headers: this.extraHeaders, agent });
  }

  /**
   * POSTs a request answered as an SSE stream and times it event by event: time to the
   * response headers, to the first complete event and to the last, and the event count.
   */
  async stream(method, params) {
    const id = this.nextId++;
    const started = performance.now();
    const response = await undici.request(this.url, {
      dispatcher: this.agent,
      method: 'POST',
      headers: this.headers(),
      body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
    });
    const headersAt = performance.now() - started;
    if (response.statusCode !== 200) throw new Error(`${this.name} ${method}: HTTP ${response.statusCode}: ${await response.body.text()}`);
    let firstAt = null;
    let lastAt = null;
    let events = 0;
    let bytes = 0;
    let carry = '';
    let final = null;
    response.body.setEncoding('utf8');
    for await (const chunk of response.body) {
      bytes += Buffer.byteLength(chunk);
      const parts = (carry + chunk).split('\n\n');
      carry = parts.pop();
      const now = performance.now() - started;
      for (const part of parts) {
        if (!/^data:/m.test(part)) continue;
        events += 1;
        firstAt ??= now;
        lastAt = now;
        if (part.includes(`"id":${id}`)) final = part;
      }
    }
    if (!final) throw new Error(`${this.name} ${method}: the stream ended without the response (${events} events)`);
    return { headersMs: headersAt, firstEventMs: firstAt, lastEventMs: lastAt, totalMs: performance.now() - started, events, bytes };
  }
}

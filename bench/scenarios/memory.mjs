// 6. Memory of idle legacy SSE sessions. workerd does not report memory per Durable Object (nor
// per isolate) to the Worker or to wrangler, so this approximates: the resident set of the
// Bindify workerd process before and after opening idle sessions (each a GET /s/<secret>/sse
// held open, initialized, then left alone), divided by their number. V8 heap growth is lazy
// and RSS is page-grained, so the per-session figure is rough.
import { setTimeout as delay } from 'node:timers/promises';

import { undici } from '../lib/deps.mjs';
import { rssKiB, workerdPids } from '../lib/proc.mjs';

const SETTLE_MS = 4000;

/** A legacy HTTP+SSE client stream: its events as they come, and waiting for one. */
class LegacySession {
  constructor(agent) {
    this.agent = agent;
    this.events = [];
    this.waiters = [];
    this.response = null;
  }

  async open(url) {
    this.response = await undici.request(url, { dispatcher: this.agent, method: 'GET', headers: { accept: 'text/event-stream' } });
    if (this.response.statusCode !== 200) throw new Error(`GET ${url}: ${this.response.statusCode}`);
    this.response.body.setEncoding('utf8');
    this.pump = (async () => {
      let carry = '';
      try {
        for await (const chunk of this.response.body) {
          const parts = (carry + chunk).split(/\r?\n\r?\n/);
          carry = parts.pop();
          for (const part of parts) {
            const event = /^event:\s*(.*)$/m.exec(part)?.[1] ?? 'message';
            const data = part.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
            if (!data) continue;
            this.events.push({ event, data });
            this.waiters = this.waiters.filter((w) => !w());
          }
        }
      } catch {
        // closed by us
      }
    })();
    const endpoint = await this.waitFor((e) => e.event === 'endpoint');
    this.postUrl = new URL(endpoint.data, url).href;
    return this;
  }

  waitFor(match, timeoutMs = 15_000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.find(match);
        if (found) resolve(found);
        return Boolean(found);
      };
      if (check()) return;
      this.waiters.push(check);
      setTimeout(() => reject(new Error('timed out waiting for an event')), timeoutMs).unref();
    });
  }

  async post(message) {
    const r = await undici.request(this.postUrl, {
      dispatcher: this.agent,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(message),
    });
    await r.body.text();
    if (r.statusCode !== 202) throw new Error(`POST ${this.postUrl}: ${r.statusCode}`);
  }

  async initialize() {
    await this.post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'bindify-bench', version: '1' } } });
    await this.waitFor((e) => e.data.includes('"id":1') && e.data.includes('protocolVersion'));
    await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  close() {
    this.response?.body.destroy();
  }
}

export async function runMemory({ peers, log, steps = [50, 100] }) {
  const pids = workerdPids(peers.bindify.pid, peers.bindify.port);
  const measure = (sessions, extra = {}) => ({ sessions, ...extra, rss_kib: rssKiB(pids.runtime), proxy_rss_kib: rssKiB(pids.proxy) });
  // No body timeout: idle streams are the point.
  const agent = new undici.Agent({ connections: steps.at(-1) + 20, headersTimeout: 30_000, bodyTimeout: 0 });
  const sseUrl = peers.connections.sse.sseUrl;
  const sessions = [];
  const points = [];
  try {
    await delay(SETTLE_MS);
    points.push(measure(0));
    for (const target of steps) {
      while (sessions.length < target) {
        const batch = [];
        for (let i = 0; i < 10 && sessions.length + batch.length < target; i += 1) batch.push(new LegacySession(agent));
        await Promise.all(batch.map(async (s) => { await s.open(sseUrl); await s.initialize(); }));
        sessions.push(...batch);
      }
      await delay(SETTLE_MS);
      points.push(measure(sessions.length));
      log(`  ${sessions.length} idle sessions: runtime workerd RSS ${(points.at(-1).rss_kib / 1024).toFixed(1)} MiB`);
    }
  } finally {
    for (const s of sessions) s.close();
    await delay(SETTLE_MS);
    points.push(measure(0, { after_close: true }));
    await agent.close().catch(() => {});
  }
  const first = points[0];
  const peak = points.filter((p) => !p.after_close).at(-1);
  return {
    method: 'VmRSS of the Bindify runtime workerd process (the one running the Worker and its objects, found under the wrangler PID via /proc) before and after opening idle, initialized legacy SSE sessions; workerd exposes no per-object memory. proxy_rss_kib is wrangler\'s dev proxy workerd, which relays the client streams',
    transport: 'legacy HTTP+SSE at /s/<secret>/sse, upstream the fixture over Streamable HTTP (each session also holds its upstream GET stream)',
    points,
    kib_per_session: (peak.rss_kib - first.rss_kib) / peak.sessions,
    proxy_kib_per_session: (peak.proxy_rss_kib - first.proxy_rss_kib) / peak.sessions,
  };
}

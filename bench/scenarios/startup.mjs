// 5. Size and start: the Wasm module raw and gzipped and what it is made of, wrangler dev's cold start, the first
// request after it against warm ones, and the first proxied MCP request after a restart (the
// Worker isolate and every Durable Object cold, the record read from storage and decrypted).
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';

import { newAgent } from '../lib/mcp-http.mjs';
import { spawnBindify } from '../lib/spawn-wrangler.mjs';
import { newKey } from '../lib/setup.mjs';
import { buildSnapshot } from '../lib/snapshot.mjs';
import { summarize } from '../lib/stats.mjs';
import { undici } from '../lib/deps.mjs';
import { analyzeWasm } from '../lib/wasm-size.mjs';

/** The goal for the gzipped module (gzip's default level), in bytes. */
export const WASM_GZIP_GOAL_BYTES = 400_000;

export function measureSize() {
  const { wasm: wasmPath, main: jsPath } = buildSnapshot();
  const wasm = readFileSync(wasmPath);
  return {
    wasm_bytes: wasm.length,
    // zlib's default level (6), as `gzip` uses by default; level 9 for comparison.
    wasm_gzip_bytes: gzipSync(wasm).length,
    wasm_gzip9_bytes: gzipSync(wasm, { level: 9 }).length,
    wasm_gzip_goal_bytes: WASM_GZIP_GOAL_BYTES,
    js_glue_bytes: statSync(jsPath).size,
    js_glue_gzip_bytes: gzipSync(readFileSync(jsPath)).length,
    built_at: statSync(wasmPath).mtime.toISOString(),
    wasm_sha256: createHash('sha256').update(wasm).digest('hex'),
    analysis: analyzeWasm(wasmPath),
  };
}

async function timedGet(agent, url) {
  const t0 = performance.now();
  const r = await undici.request(url, { dispatcher: agent });
  await r.body.text();
  return { status: r.statusCode, ms: performance.now() - t0 };
}

/** A fresh Bindify (no state) spawned under wrangler dev; GET / is the landing page, served by the Wasm. */
export async function measureColdStart({ log, warm = 50 }) {
  const worker = await spawnBindify({ TOKEN_ENCRYPTION_KEY: newKey(), ALLOW_LOOPBACK_HTTP: 'true' });
  const agent = newAgent(1);
  try {
    const first = await timedGet(agent, `${worker.url}/`);
    if (first.status !== 200) throw new Error(`first GET / answered ${first.status}`);
    const spawnToFirstResponseMs = performance.now() - worker.spawnedAt;
    const warmMs = [];
    for (let i = 0; i < warm; i += 1) warmMs.push((await timedGet(agent, `${worker.url}/`)).ms);
    const result = {
      spawn_to_ready_line_ms: worker.readyMs,
      spawn_to_first_response_ms: spawnToFirstResponseMs,
      first_request_ms: first.ms,
      warm_request: summarize(warmMs),
    };
    log(`  spawn -> first response ${(spawnToFirstResponseMs / 1000).toFixed(2)} s; first GET / ${first.ms.toFixed(1)} ms, warm p50 ${result.warm_request.p50.toFixed(2)} ms`);
    return result;
  } finally {
    await agent.close();
    await worker.stop();
  }
}

/** Restarts the latency run's Bindify (same state) and times the first proxied call on an existing session. */
export async function measureFirstProxiedAfterRestart({ peers, log, warm = 50 }) {
  const endpoint = await peers.endpoint('json', 'bindify').initialize();
  const t0 = performance.now();
  await peers.bindify.restart();
  const restartMs = performance.now() - t0;
  endpoint.agent = newAgent(1); // the old keep-alive socket died with the old process
  const echo = { name: 'echo', arguments: { text: 'after restart' } };
  const first = await endpoint.call('tools/call', echo);
  const warmMs = [];
  for (let i = 0; i < warm; i += 1) warmMs.push((await endpoint.call('tools/call', echo)).ms);
  const result = {
    restart_to_first_answer_ms: restartMs,
    note: 'restart() resolves on the first HTTP answer of a 250 ms readiness poll; that probe already loaded the Worker isolate, so the first MCP call meets cold Durable Objects and a record read from storage',
    first_mcp_call_ms: first.ms,
    warm_mcp_call: summarize(warmMs),
  };
  log(`  first proxied call after restart ${first.ms.toFixed(1)} ms, warm p50 ${result.warm_mcp_call.p50.toFixed(2)} ms`);
  await endpoint.agent.close();
  return result;
}

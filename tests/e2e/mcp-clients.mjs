// MCP clients from the official SDK, pointed at Bindify's permanent URLs, and the checks every
// transport must pass.
import assert from 'node:assert/strict';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

/** A connected SDK client that answers elicitation requests with `answer`. */
export async function connectClient(url, { kind = 'streamable', answer = 'blue' } = {}) {
  const client = new Client({ name: 'bindify-e2e', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { answer } }));
  const Transport = kind === 'sse' ? SSEClientTransport : StreamableHTTPClientTransport;
  await client.connect(new Transport(new URL(url)));
  return client;
}

export const textOf = (result) => result.content.map((c) => c.text).join('');

/**
 * initialize (done by connect), tools/list, tools/call, resources/read, progress notifications
 * that arrive spread in time, and a server-to-client request answered by the client.
 */
export async function exerciseEverything(client) {
  const tools = (await client.listTools()).tools.map((t) => t.name).sort();
  assert.deepEqual(tools, ['add', 'ask_user', 'echo', 'slow_progress']);
  assert.equal(textOf(await client.callTool({ name: 'echo', arguments: { text: 'hello' } })), 'hello');
  const greeting = await client.readResource({ uri: 'demo://greeting' });
  assert.ok(greeting.contents[0].text.length > 0);

  const started = Date.now();
  const arrivals = [];
  const progress = await client.callTool(
    { name: 'slow_progress', arguments: { steps: 4, intervalMs: 400 } },
    undefined,
    { onprogress: () => arrivals.push(Date.now() - started) },
  );
  const finished = Date.now() - started;
  assert.match(textOf(progress), /done: 4 steps/);
  // Streamed, not buffered: the first notification arrives long before the result, and the
  // notifications are spread over the run.
  assert.ok(arrivals.length >= 3, `progress notifications: ${arrivals}`);
  assert.ok(arrivals[0] < finished - 600, `first progress at ${arrivals[0]} ms, result at ${finished} ms`);
  assert.ok(arrivals.at(-1) - arrivals[0] >= 500, `progress spread: ${arrivals}`);

  const asked = JSON.parse(textOf(await client.callTool({ name: 'ask_user', arguments: { question: 'Colour?' } })));
  assert.deepEqual(asked, { action: 'accept', content: { answer: 'blue' } });
}

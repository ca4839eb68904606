#!/usr/bin/env node
// Bindify as the client under test of the MCP conformance suite's client scenarios.
//
//   conformance client --command "node tests/conformance/client.mjs" --scenario auth/metadata-default
//
// The suite starts the scenario's OAuth-protected MCP server and runs this with its URL as the
// last argument (MCP_CONFORMANCE_SCENARIO and, for some scenarios, MCP_CONFORMANCE_CONTEXT in
// the environment). BINDIFY_URL names the running Worker; BINDIFY_ADMIN_TOKEN its admin token,
// when it has one. The owner connects the server through Bindify's pages, then an MCP client
// lists and calls the tools through the permanent URL. A JSON-RPC error carrying a reconnect
// link is followed once, as the owner would, and the calls are tried again.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { Owner } from './owner.mjs';

const log = (...parts) => console.error('[bindify-driver]', ...parts);

async function main() {
  const serverUrl = process.argv.at(-1);
  const bindifyUrl = process.env.BINDIFY_URL;
  if (!bindifyUrl || !serverUrl?.startsWith('http')) {
    throw new Error('usage: BINDIFY_URL=<worker> client.mjs <scenario server URL>');
  }
  const context = process.env.MCP_CONFORMANCE_CONTEXT ? JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT) : {};
  log(`scenario ${process.env.MCP_CONFORMANCE_SCENARIO ?? '?'}: connecting ${serverUrl} through ${bindifyUrl}`);

  // What the scenario hands the client (a pre-registered client's id and secret, a key) is
  // what the owner would type into a page that asks for it, field by field.
  const fields = Object.fromEntries(Object.entries(context).filter(([k, v]) => k !== 'name' && typeof v === 'string'));
  const owner = new Owner(bindifyUrl, { adminToken: process.env.BINDIFY_ADMIN_TOKEN || undefined, fields });
  const { mcpUrl } = await owner.connect(serverUrl);
  log('connected; permanent URL received');

  let reconnected = false;
  for (;;) {
    try {
      await useTools(mcpUrl);
      log('tools listed and called');
      return;
    } catch (error) {
      const link = reconnectLink(error);
      if (!link || reconnected) throw error;
      reconnected = true;
      log(`the call answered with a reconnect link (${error.message.slice(0, 200)}); opening it`);
      await owner.open(link);
    }
  }
}

/** initialize, tools/list, then tools/call on each tool, over the permanent URL. */
async function useTools(mcpUrl) {
  const client = new Client({ name: 'bindify-conformance-driver', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl)));
  try {
    const { tools } = await client.listTools();
    log(`tools: ${tools.map((t) => t.name).join(', ') || '(none)'}`);
    for (const tool of tools) {
      const result = await client.callTool({ name: tool.name, arguments: {} });
      if (result.isError) throw new Error(`${tool.name} returned an error result`);
    }
  } finally {
    await client.close().catch(() => {});
  }
}

/** The reconnect link a JSON-RPC error carries, in its data or in its message. */
function reconnectLink(error) {
  const data = error?.data;
  if (data && typeof data.reconnect_url === 'string') return data.reconnect_url;
  return /https?:\/\/\S+\/reconnect\b/.exec(error?.message ?? '')?.[0] ?? null;
}

main().then(
  () => process.exit(0),
  (error) => {
    log(`failed: ${error?.stack ?? error}`);
    process.exit(1);
  },
);

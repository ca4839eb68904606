// What the MCP conformance suite's server scenarios expect of a server: their test tools,
// resources, prompts, completion and logging, each as the scenario's own description states
// it (`conformance list` names them; the scenario sources in the npm package describe each).
// Built on the official TypeScript SDK's low-level Server, one instance per session.
import { deflateSync, crc32 } from 'node:zlib';
import { setTimeout as delay } from 'node:timers/promises';

import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';

/** A 1x1 PNG of one red pixel, built here rather than pasted as an opaque blob. */
export function redPixelPng() {
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(1, 0); // width
  header.writeUInt32BE(1, 4); // height
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter, no interlace
  const pixels = deflateSync(Buffer.from([0, 255, 0, 0])); // filter byte, then R G B
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', pixels),
    chunk('IEND', Buffer.alloc(0)),
  ]).toString('base64');
}

/** A tenth of a second of silence as 8 kHz 16-bit mono PCM WAV. */
export function silentWav() {
  const samples = 800;
  const data = Buffer.alloc(samples * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(8000, 24); // sample rate
  header.writeUInt32LE(16000, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]).toString('base64');
}

const PNG = redPixelPng();
const WAV = silentWav();

const text = (value) => ({ type: 'text', text: value });
const noArguments = { type: 'object', properties: {} };

const TOOLS = [
  { name: 'test_simple_text', description: 'Returns one text item.', inputSchema: noArguments },
  { name: 'test_image_content', description: 'Returns a PNG image.', inputSchema: noArguments },
  { name: 'test_audio_content', description: 'Returns a WAV clip.', inputSchema: noArguments },
  { name: 'test_embedded_resource', description: 'Returns an embedded text resource.', inputSchema: noArguments },
  { name: 'test_multiple_content_types', description: 'Returns text, an image and a resource.', inputSchema: noArguments },
  { name: 'test_tool_with_logging', description: 'Logs three messages while it runs.', inputSchema: noArguments },
  { name: 'test_error_handling', description: 'Always fails, as a tool error result.', inputSchema: noArguments },
  { name: 'test_tool_with_progress', description: 'Reports progress 0, 50 and 100 of 100.', inputSchema: noArguments },
  {
    name: 'test_sampling',
    description: 'Asks the client to sample an LLM with the prompt.',
    inputSchema: { type: 'object', properties: { prompt: { type: 'string', description: 'The prompt to send' } }, required: ['prompt'] },
  },
  {
    name: 'test_elicitation',
    description: 'Asks the user, through the client, for a username and an email.',
    inputSchema: { type: 'object', properties: { message: { type: 'string', description: 'What to show the user' } }, required: ['message'] },
  },
  { name: 'test_elicitation_sep1034_defaults', description: 'Elicits a form whose fields all have defaults.', inputSchema: noArguments },
  { name: 'test_elicitation_sep1330_enums', description: 'Elicits a form with every kind of enum field.', inputSchema: noArguments },
  { name: 'test_reconnection', description: 'Closes its SSE stream mid-call; the result arrives after the client resumes.', inputSchema: noArguments },
  {
    name: 'json_schema_2020_12_tool',
    description: 'Tool with JSON Schema 2020-12 features',
    inputSchema: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      $defs: {
        address: { type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } },
      },
      properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' } },
      additionalProperties: false,
    },
  },
];

const RESOURCES = [
  { uri: 'test://static-text', name: 'static-text', description: 'A fixed text resource.', mimeType: 'text/plain' },
  { uri: 'test://static-binary', name: 'static-binary', description: 'A fixed PNG image.', mimeType: 'image/png' },
  { uri: 'test://watched-resource', name: 'watched-resource', description: 'A resource clients may subscribe to.', mimeType: 'text/plain' },
];

const PROMPTS = [
  { name: 'test_simple_prompt', description: 'A prompt without arguments.' },
  {
    name: 'test_prompt_with_arguments',
    description: 'A prompt that repeats its two arguments.',
    arguments: [
      { name: 'arg1', description: 'First test argument', required: true },
      { name: 'arg2', description: 'Second test argument', required: true },
    ],
  },
  {
    name: 'test_prompt_with_embedded_resource',
    description: 'A prompt that embeds the resource it is given.',
    arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }],
  },
  { name: 'test_prompt_with_image', description: 'A prompt with an image.' },
];

const TEMPLATE = /^test:\/\/template\/([^/]+)\/data$/;

/** A new conformance server for one session. */
export function createEverythingServer() {
  const server = new Server(
    { name: 'bindify-everything-server', version: '1.0.0' },
    { capabilities: { tools: {}, resources: { subscribe: true }, prompts: {}, logging: {}, completions: {} } },
  );
  const subscriptions = new Set();

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => callTool(server, request.params, extra));

  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: RESOURCES }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [{ uriTemplate: 'test://template/{id}/data', name: 'template-data', description: 'Data for an id.', mimeType: 'application/json' }],
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async ({ params: { uri } }) => {
    if (uri === 'test://static-text') {
      return { contents: [{ uri, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] };
    }
    if (uri === 'test://static-binary') return { contents: [{ uri, mimeType: 'image/png', blob: PNG }] };
    if (uri === 'test://watched-resource') return { contents: [{ uri, mimeType: 'text/plain', text: 'Watched.' }] };
    const id = TEMPLATE.exec(uri)?.[1];
    if (id !== undefined) {
      return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }) }] };
    }
    throw new McpError(ErrorCode.InvalidParams, `Resource ${uri} not found`);
  });
  server.setRequestHandler(SubscribeRequestSchema, async ({ params: { uri } }) => {
    subscriptions.add(uri);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async ({ params: { uri } }) => {
    subscriptions.delete(uri);
    return {};
  });

  server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: PROMPTS }));
  server.setRequestHandler(GetPromptRequestSchema, async ({ params: { name, arguments: args = {} } }) => {
    switch (name) {
      case 'test_simple_prompt':
        return { messages: [{ role: 'user', content: text('This is a simple prompt for testing.') }] };
      case 'test_prompt_with_arguments':
        return { messages: [{ role: 'user', content: text(`Prompt with arguments: arg1='${args.arg1}', arg2='${args.arg2}'`) }] };
      case 'test_prompt_with_embedded_resource':
        return {
          messages: [
            { role: 'user', content: { type: 'resource', resource: { uri: args.resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
            { role: 'user', content: text('Please process the embedded resource above.') },
          ],
        };
      case 'test_prompt_with_image':
        return {
          messages: [
            { role: 'user', content: { type: 'image', data: PNG, mimeType: 'image/png' } },
            { role: 'user', content: text('Please analyze the image above.') },
          ],
        };
      default:
        throw new McpError(ErrorCode.InvalidParams, `Prompt ${name} not found`);
    }
  });

  server.setRequestHandler(CompleteRequestSchema, async ({ params }) => {
    const candidates = params.ref.type === 'ref/prompt' && params.ref.name === 'test_prompt_with_arguments'
      ? ['paris', 'park', 'party', 'test', 'testing']
      : [];
    const values = candidates.filter((v) => v.startsWith(params.argument.value));
    return { completion: { values, total: values.length, hasMore: false } };
  });

  return server;
}

async function callTool(server, { name, arguments: args = {} }, extra) {
  const log = async (data) => {
    // logging/setLevel filters what the session receives; the SDK keeps the level per session.
    if (server.isMessageIgnored('info', extra.sessionId)) return;
    await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', logger: 'everything', data } });
  };
  switch (name) {
    case 'test_simple_text':
      return { content: [text('This is a simple text response for testing.')] };
    case 'test_image_content':
      return { content: [{ type: 'image', data: PNG, mimeType: 'image/png' }] };
    case 'test_audio_content':
      return { content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }] };
    case 'test_embedded_resource':
      return { content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }] };
    case 'test_multiple_content_types':
      return {
        content: [
          text('Multiple content types test:'),
          { type: 'image', data: PNG, mimeType: 'image/png' },
          { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: JSON.stringify({ test: 'data', value: 123 }) } },
        ],
      };
    case 'test_tool_with_logging':
      await log('Tool execution started');
      await delay(50);
      await log('Tool processing data');
      await delay(50);
      await log('Tool execution completed');
      return { content: [text('Logging test completed: three messages sent.')] };
    case 'test_error_handling':
      return { isError: true, content: [text('This tool intentionally returns an error for testing')] };
    case 'test_tool_with_progress': {
      const progressToken = extra._meta?.progressToken;
      for (const progress of [0, 50, 100]) {
        if (progress > 0) await delay(50);
        if (progressToken !== undefined) {
          await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, total: 100 } });
        }
      }
      return { content: [text('Progress test completed.')] };
    }
    case 'test_sampling': {
      if (!server.getClientCapabilities()?.sampling) return toolError('The client does not support sampling.');
      const result = await extra.sendRequest({
        method: 'sampling/createMessage',
        params: { messages: [{ role: 'user', content: text(String(args.prompt ?? '')) }], maxTokens: 100 },
      }, CreateMessageResultSchema);
      return { content: [text(`LLM response: ${result.content?.text ?? JSON.stringify(result.content)}`)] };
    }
    case 'test_elicitation': {
      if (!server.getClientCapabilities()?.elicitation) return toolError('The client does not support elicitation.');
      const result = await elicit(extra, String(args.message ?? ''), {
        type: 'object',
        properties: {
          username: { type: 'string', description: "User's response" },
          email: { type: 'string', description: "User's email address" },
        },
        required: ['username', 'email'],
      });
      return { content: [text(`User response: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`)] };
    }
    case 'test_elicitation_sep1034_defaults': {
      const result = await elicit(extra, 'Confirm or change these values.', {
        type: 'object',
        properties: {
          name: { type: 'string', description: 'Name', default: 'John Doe' },
          age: { type: 'integer', description: 'Age', default: 30 },
          score: { type: 'number', description: 'Score', default: 95.5 },
          status: { type: 'string', description: 'Status', enum: ['active', 'inactive', 'pending'], default: 'active' },
          verified: { type: 'boolean', description: 'Verified', default: true },
        },
      });
      return { content: [text(`Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`)] };
    }
    case 'test_elicitation_sep1330_enums': {
      const result = await elicit(extra, 'Pick some options.', {
        type: 'object',
        properties: {
          untitledSingle: { type: 'string', enum: ['option1', 'option2', 'option3'] },
          titledSingle: {
            type: 'string',
            oneOf: [
              { const: 'value1', title: 'First Option' },
              { const: 'value2', title: 'Second Option' },
              { const: 'value3', title: 'Third Option' },
            ],
          },
          legacyEnum: { type: 'string', enum: ['opt1', 'opt2', 'opt3'], enumNames: ['Option One', 'Option Two', 'Option Three'] },
          untitledMulti: { type: 'array', items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
          titledMulti: {
            type: 'array',
            items: {
              anyOf: [
                { const: 'value1', title: 'First Choice' },
                { const: 'value2', title: 'Second Choice' },
                { const: 'value3', title: 'Third Choice' },
              ],
            },
          },
        },
      });
      return { content: [text(`Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`)] };
    }
    case 'test_reconnection':
      // SEP-1699 polling: end this request's SSE stream now (the SDK offers that to clients of
      // 2025-11-25 and later, whose stream began with a priming event id) and answer a moment
      // later; the client resumes with Last-Event-ID and receives the result from the store.
      extra.closeSSEStream?.();
      await delay(200);
      return { content: [text('Reconnection test completed.')] };
    case 'json_schema_2020_12_tool':
      return { content: [text(`Received: ${JSON.stringify(args)}`)] };
    default:
      throw new McpError(ErrorCode.InvalidParams, `Tool ${name} not found`);
  }
}

function elicit(extra, message, requestedSchema) {
  return extra.sendRequest({ method: 'elicitation/create', params: { message, requestedSchema } }, ElicitResultSchema);
}

function toolError(message) {
  return { isError: true, content: [text(message)] };
}

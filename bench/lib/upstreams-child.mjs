// The upstream side of the latency, streaming, concurrency and memory scenarios, in its own
// Node process so upstream work never runs on the client's event loop: an authorization server
// with long-lived access tokens, the fixture MCP server and the bench MCP server. Started by
// setup.mjs (child.mjs); answers { type: 'tokens' } with the bearer tokens the upstreams last
// accepted, and stops on SIGTERM.
import { startMcpServer } from '../../tests/fixtures/mcp-server.mjs';
import { startOAuthServer } from '../../tests/fixtures/oauth-server.mjs';
import { startBenchMcpServer } from './bench-mcp-server.mjs';

const as = await startOAuthServer({ accessTokenTTL: 3600 });
const [fixture, bench] = await Promise.all([
  startMcpServer({ issuer: as.issuer, transports: ['streamable', 'sse'] }),
  startBenchMcpServer({ issuer: as.issuer }),
]);

process.on('message', (message) => {
  if (message?.type === 'tokens') {
    process.send({
      type: 'tokens',
      tokens: {
        sse: fixture.requests.findLast((r) => r.path === '/mcp' && r.status === 200 && r.authorization)?.authorization ?? null,
        json: bench.tokenFor('/json') ?? null,
        stream: bench.tokenFor('/stream') ?? null,
      },
    });
  }
});

let stopping = false;
process.on('SIGTERM', async () => {
  if (stopping) return;
  stopping = true;
  await Promise.allSettled([fixture.stop(), bench.stop()]);
  await as.stop();
  process.exit(0);
});
process.on('disconnect', () => process.emit('SIGTERM'));

process.send({
  type: 'ready',
  issuer: as.issuer,
  upstreams: { sse: fixture.url, json: bench.jsonUrl, stream: bench.streamUrl },
  fixtureSseUrl: fixture.sseUrl,
});

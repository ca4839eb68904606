// Creating a Bindify connection without a browser: tests/e2e/headless.mjs drives the connect
// flow with fetch and oidc-provider's devInteractions forms.
import { connectHeadless } from '../../tests/e2e/headless.mjs';

/** Connects Bindify at `workerUrl` to the MCP server at `serverUrl`; returns { mcpUrl, sseUrl, secret }. */
export function connect(workerUrl, serverUrl) {
  return connectHeadless(workerUrl, `/connect?server=${encodeURIComponent(serverUrl)}`);
}

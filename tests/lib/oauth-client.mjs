// OAuth clients that talk to the test peers directly, without Bindify: the MCP SDK's own client
// (as desktop MCP clients use it) and a hand-rolled code flow. Both drive the browser through
// the AS's login and consent pages and land on a local callback server.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';

import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

import { loginAndConsent } from './browser.mjs';

/** The OAuth redirect target: answers 200 so the browser has somewhere to land. */
export async function startCallbackServer() {
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/callback`,
    stop: () => new Promise((resolve) => {
      server.close(resolve);
      server.closeAllConnections();
    }),
  };
}

/** The SDK's OAuthClientProvider, kept in memory: a public client, as Bindify registers. */
export class MemoryOAuthClientProvider {
  #client;
  #tokens;
  #verifier;

  constructor(redirectUrl) {
    this.redirectUrl = redirectUrl;
    this.authorizationUrl = null; // set when the SDK wants the user sent to the AS
  }

  get clientMetadata() {
    return {
      client_name: 'bindify test client',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  clientInformation() { return this.#client; }
  saveClientInformation(client) { this.#client = client; }
  tokens() { return this.#tokens; }
  saveTokens(tokens) { this.#tokens = tokens; }
  saveCodeVerifier(verifier) { this.#verifier = verifier; }
  codeVerifier() { return this.#verifier; }
  redirectToAuthorization(url) { this.authorizationUrl = url; }
}

/**
 * Connects an SDK Client (declaring elicitation) to the MCP server at `url` the way a desktop
 * client does: the first connect fails with UnauthorizedError once the SDK has registered and
 * built the authorization URL; the browser logs in and consents; the SDK exchanges the code;
 * a second connect succeeds. `kind` is 'streamable' or 'sse'. Returns { client, oauth }.
 */
export async function connectSdkClient({ url, kind = 'streamable', browser, callbackUrl }) {
  const oauth = new MemoryOAuthClientProvider(callbackUrl);
  const newTransport = () => (kind === 'sse'
    ? new SSEClientTransport(new URL(url), { authProvider: oauth })
    : new StreamableHTTPClientTransport(new URL(url), { authProvider: oauth }));
  const newClient = () => new Client({ name: 'bindify-test-client', version: '1.0.0' }, { capabilities: { elicitation: {} } });

  const firstTransport = newTransport();
  try {
    await newClient().connect(firstTransport);
    throw new Error(`connectSdkClient: ${url} let the client in without a token`);
  } catch (err) {
    if (!(err instanceof UnauthorizedError)) throw err;
  }
  if (!oauth.authorizationUrl) throw new Error('connectSdkClient: the SDK never asked for a browser redirect');

  const code = await authorizeInBrowser(browser, oauth.authorizationUrl, callbackUrl);
  await firstTransport.finishAuth(code);

  const client = newClient();
  await client.connect(newTransport());
  return { client, oauth };
}

/**
 * The authorization code flow by hand, as Bindify does it: dynamic registration of a public
 * client, PKCE S256, `resource` on the authorization request and the code exchange, `scope`
 * only if given. Returns { clientId, tokens, tokenEndpoint }.
 */
export async function authorizeManually({ issuer, resource, scope, browser, callbackUrl }) {
  const metadataUrl = `${issuer}/.well-known/openid-configuration`;
  const metadataResponse = await fetch(metadataUrl);
  if (!metadataResponse.ok) throw new Error(`${metadataUrl} answered ${metadataResponse.status}`);
  const metadata = await metadataResponse.json();

  const registration = await fetch(metadata.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      redirect_uris: [callbackUrl],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    }),
  });
  if (registration.status !== 201) throw new Error(`registration answered ${registration.status}: ${await registration.text()}`);
  const { client_id: clientId } = await registration.json();

  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const authorizationUrl = new URL(metadata.authorization_endpoint);
  authorizationUrl.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: callbackUrl,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    resource,
    state,
    ...(scope ? { scope } : {}),
  });
  const code = await authorizeInBrowser(browser, authorizationUrl, callbackUrl, state);

  const exchange = await tokenRequest(metadata.token_endpoint, {
    grant_type: 'authorization_code',
    client_id: clientId,
    code,
    code_verifier: verifier,
    redirect_uri: callbackUrl,
    resource,
  });
  if (exchange.status !== 200) throw new Error(`code exchange answered ${exchange.status}: ${JSON.stringify(exchange.body)}`);
  return { clientId, tokens: exchange.body, tokenEndpoint: metadata.token_endpoint };
}

/** POSTs a form to a token endpoint; returns { status, body } (body parsed JSON). */
export async function tokenRequest(tokenEndpoint, params) {
  const response = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  });
  return { status: response.status, body: await response.json() };
}

// Opens `authorizationUrl` in a new page, logs in and consents, and returns the code from the
// redirect to `callbackUrl` (checking `state` when given).
async function authorizeInBrowser(browser, authorizationUrl, callbackUrl, state) {
  const page = await browser.newPage();
  try {
    await page.goto(authorizationUrl.href);
    const redirect = new URL(await loginAndConsent(page));
    const code = redirect.searchParams.get('code');
    if (`${redirect.origin}${redirect.pathname}` !== callbackUrl || !code) {
      throw new Error(`the AS did not redirect to ${callbackUrl} with a code: ${redirect}`);
    }
    if (state !== undefined && redirect.searchParams.get('state') !== state) {
      throw new Error(`the AS returned state ${redirect.searchParams.get('state')}, expected ${state}`);
    }
    return code;
  } finally {
    await page.close();
  }
}

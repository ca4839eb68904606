// An access token for one resource from the tests' OAuth server, without a browser: dynamic
// registration as a public client, the code flow with PKCE and `resource`, the login and
// consent forms of oidc-provider's development interactions submitted with fetch.
import { createHash, randomBytes } from 'node:crypto';

import { RESOURCE_SCOPE } from '../fixtures/constants.mjs';
import { readPage } from './owner.mjs';

const CALLBACK = 'http://127.0.0.1:9/callback'; // never requested: the code is read from the redirect

export async function obtainAccessToken(issuer, resource) {
  const metadata = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  const registered = await fetch(metadata.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'conformance runner',
      redirect_uris: [CALLBACK],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }),
  });
  if (registered.status !== 201) throw new Error(`registration answered ${registered.status}: ${await registered.text()}`);
  const { client_id: clientId } = await registered.json();

  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL(metadata.authorization_endpoint);
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: CALLBACK,
    scope: RESOURCE_SCOPE,
    resource,
    state: randomBytes(8).toString('hex'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  })) authorize.searchParams.set(k, v);

  const code = await walkToCode(authorize.href);
  const response = await fetch(metadata.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK, client_id: clientId, code_verifier: verifier, resource }),
  });
  const tokens = await response.json();
  if (!tokens.access_token) throw new Error(`token endpoint answered ${response.status}: ${JSON.stringify(tokens)}`);
  return tokens.access_token;
}

async function walkToCode(start) {
  const cookies = new Map();
  let request = { url: start, method: 'GET' };
  for (let step = 0; step < 15; step += 1) {
    const response = await fetch(request.url, {
      method: request.method,
      redirect: 'manual',
      headers: {
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(request.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: request.body,
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    const location = response.headers.get('location');
    if (location) {
      const next = new URL(location, request.url);
      if (next.href.startsWith(CALLBACK)) {
        const code = next.searchParams.get('code');
        if (!code) throw new Error(`the authorization server answered ${next.search}`);
        return code;
      }
      await response.arrayBuffer();
      request = { url: next.href, method: 'GET' };
      continue;
    }
    const page = readPage(await response.text());
    const form = page.forms[0];
    if (!form) throw new Error(`${request.url} answered ${response.status} without a form: ${page.text.slice(0, 300)}`);
    request = form.submission(request.url, { login: 'conformance', password: 'any-password' });
  }
  throw new Error('no authorization code after 15 steps');
}

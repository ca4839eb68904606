// Loaded into the conformance runner (`node --import`) for the direct run of the server
// scenarios: the runner has no way to present a token, so every request it makes to
// CONFORMANCE_BEARER_ORIGIN gets `Authorization: Bearer CONFORMANCE_BEARER_TOKEN`, the way an
// MCP client that already holds a token sends it. It works at the HTTP dispatcher shared by
// fetch and undici, so the requests are otherwise exactly the runner's own.
import { Agent, setGlobalDispatcher } from 'undici';

const origin = process.env.CONFORMANCE_BEARER_ORIGIN;
const token = process.env.CONFORMANCE_BEARER_TOKEN;
if (!origin || !token) throw new Error('bearer.mjs needs CONFORMANCE_BEARER_ORIGIN and CONFORMANCE_BEARER_TOKEN');

function withAuthorization(headers) {
  const value = `Bearer ${token}`;
  if (headers == null) return { authorization: value };
  if (Array.isArray(headers)) {
    // Either [name, value, name, value, ...] or [[name, value], ...].
    return Array.isArray(headers[0]) ? [...headers, ['authorization', value]] : [...headers, 'authorization', value];
  }
  if (typeof headers[Symbol.iterator] === 'function' && !(headers.constructor === Object)) {
    return [...headers, ['authorization', value]];
  }
  return { ...headers, authorization: value };
}

setGlobalDispatcher(new Agent().compose((dispatch) => (options, handler) => {
  const target = new URL(options.origin).origin;
  return dispatch(target === origin ? { ...options, headers: withAuthorization(options.headers) } : options, handler);
}));

// The connect flow without a browser: fetch, a tiny cookie jar, and oidc-provider's
// devInteractions forms filled in by hand. Fast enough to create hundreds of connections.
//
//   const { mcpUrl, sseUrl, secret } = await connectHeadless(worker.url);              // demo preset
//   await connectHeadless(worker.url, `/connect?server=${encodeURIComponent(mcp.url)}`); // any server

const MAX_STEPS = 20;

/**
 * Runs GET <workerUrl><path> -> authorization server (login form, consent form) -> the
 * Worker's /oauth/callback, and returns the permanent URLs the success page shows.
 */
export async function connectHeadless(workerUrl, path = '/connect/demo', { login = 'test-user', password = 'any-password' } = {}) {
  const jar = new CookieJar();
  let request = { url: new URL(path, workerUrl).href, method: 'GET' };
  const trail = []; // where we went, for the error message
  for (let step = 0; step < MAX_STEPS; step += 1) {
    trail.push(`${request.method} ${request.url}`);
    const response = await fetch(request.url, {
      method: request.method,
      redirect: 'manual',
      headers: {
        ...(request.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...(jar.header(request.url) ? { cookie: jar.header(request.url) } : {}),
      },
      body: request.body,
    });
    jar.store(request.url, response.headers.getSetCookie());

    // Redirects: to the AS, between its interaction pages, and back to the Worker's callback.
    if (response.status >= 300 && response.status < 400) {
      await response.arrayBuffer(); // drain, so the connection is reused
      request = { url: new URL(response.headers.get('location'), request.url).href, method: 'GET' };
      continue;
    }
    const html = await response.text();
    if (response.status !== 200) fail(`${request.method} ${request.url} answered ${response.status}`, html, trail);

    // The Worker's success page: the end.
    const mcpUrl = /<code class="url" id="mcp-url">([^<]+)<\/code>/.exec(html)?.[1];
    if (mcpUrl) {
      const sseUrl = /<code class="url" id="sse-url">([^<]+)<\/code>/.exec(html)?.[1];
      const secret = /\/s\/([A-Za-z0-9_-]{43})\/mcp$/.exec(mcpUrl)?.[1];
      if (!sseUrl || !secret) fail('the success page lacks the SSE URL or a well-formed MCP URL', html, trail);
      return { mcpUrl: unescapeHtml(mcpUrl), sseUrl: unescapeHtml(sseUrl), secret };
    }

    // An oidc-provider interaction page: the login form (prompt=login) or the consent form
    // (prompt=consent). Submit its inputs, filling in the login and password.
    const form = /<form[^>]*\saction="([^"]+)"[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
    if (!form) fail(`${request.url} is neither an interaction page nor the success page`, html, trail);
    const fields = new URLSearchParams();
    for (const [input] of form[2].matchAll(/<input\b[^>]*>/gi)) {
      const name = attr(input, 'name');
      if (!name) continue;
      const value = { login, password }[name] ?? attr(input, 'value') ?? '';
      fields.set(name, value);
    }
    request = { url: new URL(unescapeHtml(form[1]), request.url).href, method: 'POST', body: fields.toString() };
  }
  fail(`no success page after ${MAX_STEPS} steps`, '', trail);
}

// Cookies by origin and name; paths and attributes are ignored (the names on each origin are
// distinct enough, and a later cookie of the same name replaces the earlier one). A cookie set
// to expire (Max-Age=0 or a past Expires) is removed.
class CookieJar {
  #byOrigin = new Map();

  store(url, setCookies) {
    const origin = new URL(url).origin;
    const cookies = this.#byOrigin.get(origin) ?? new Map();
    for (const line of setCookies) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k, v = ''] = a.split('=').map((s) => s.trim());
        return (/^max-age$/i.test(k) && Number(v) <= 0) || (/^expires$/i.test(k) && Date.parse(v) < Date.now());
      });
      if (expired) cookies.delete(name);
      else cookies.set(name, value);
    }
    this.#byOrigin.set(origin, cookies);
  }

  header(url) {
    const cookies = this.#byOrigin.get(new URL(url).origin);
    return cookies?.size ? [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  }
}

function attr(tag, name) {
  const match = new RegExp(`\\s${name}="([^"]*)"`, 'i').exec(tag);
  return match ? unescapeHtml(match[1]) : null;
}

function unescapeHtml(text) {
  return text.replace(/&(amp|lt|gt|quot|#39|#x27|#x2F);/g, (_, e) => ({
    amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'", '#x2F': '/',
  })[e]);
}

function fail(message, html, trail) {
  const text = html.replace(/<style[\s\S]*?<\/style>/g, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
  throw new Error(`connectHeadless: ${message}\n  trail: ${trail.join('\n         ')}\n  page: ${text.slice(0, 500)}`);
}

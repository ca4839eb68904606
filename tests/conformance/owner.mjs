// The owner of a Bindify deployment, without a browser: fetch, a cookie jar, redirects
// followed by hand, and each page read for what it offers (a form to submit, the permanent URL
// it shows, or the error it reports). Nothing here knows Bindify's routes beyond `/`: the owner
// starts on the landing page and follows what the pages present, so the same walk works when
// a page gains a confirmation step, a CSRF token or a sign-in.

const MAX_STEPS = 25;

/** Field values the owner knows, by input name. Unknown required fields stop the walk. */
function knownValues({ serverUrl, adminToken, fields }) {
  const values = { ...fields };
  if (serverUrl) values.server = serverUrl;
  if (adminToken) {
    values.token = adminToken;
    values.admin_token = adminToken;
  }
  return values;
}

export class Owner {
  #jar = new CookieJar();
  #values;

  /**
   * `bindifyUrl`: the deployment. `adminToken`: its ADMIN_TOKEN, for Bindify's sign-in page
   * (none in local development). `fields`: what else the owner knows, by form field name: the
   * sign-in at the service (`login`, `password`), a client registered there (`client_id`,
   * `client_secret`), for a page that asks for them.
   */
  constructor(bindifyUrl, { adminToken, fields = {} } = {}) {
    this.bindifyUrl = bindifyUrl;
    this.adminToken = adminToken;
    this.fields = fields;
  }

  /**
   * Connects `serverUrl` from the landing page's "any other MCP server" form, and returns
   * the permanent URLs the final page shows.
   */
  async connect(serverUrl) {
    this.#values = knownValues({ serverUrl, adminToken: this.adminToken, fields: this.fields });
    const end = await this.#walk({ url: new URL('/', this.bindifyUrl).href, method: 'GET' }, { start: 'connect' });
    if (!end.mcpUrl) throw new OwnerError('the walk ended without a permanent URL', end);
    return end;
  }

  /** Opens a link Bindify gave (a reconnect link), as the owner clicking it. */
  async open(link) {
    this.#values = knownValues({ adminToken: this.adminToken, fields: this.fields });
    return this.#walk({ url: new URL(link, this.bindifyUrl).href, method: 'GET' }, {});
  }

  async #walk(request, { start }) {
    const trail = [];
    let formsSubmitted = 0;
    for (let step = 0; step < MAX_STEPS; step += 1) {
      trail.push(`${request.method} ${redact(request.url)}`);
      const cookie = this.#jar.header(request.url);
      const response = await fetch(request.url, {
        method: request.method,
        redirect: 'manual',
        headers: {
          accept: 'text/html,application/xhtml+xml',
          ...(request.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          ...(request.origin ? { origin: request.origin, referer: request.referer } : {}),
          ...(cookie ? { cookie } : {}),
        },
        body: request.body,
      });
      this.#jar.store(request.url, response.headers.getSetCookie());
      if (response.status >= 300 && response.status < 400 && response.headers.has('location')) {
        await response.arrayBuffer();
        request = { url: new URL(response.headers.get('location'), request.url).href, method: 'GET' };
        continue;
      }
      const html = await response.text();
      const page = readPage(html);
      if (page.mcpUrl) return { ...page, status: response.status, trail };
      if (page.kind === 'reconnected') return { ...page, status: response.status, trail };

      // The landing page offers presets and a form; the owner uses the form with the URL.
      const forms = page.forms.filter((f) => f.fillable(this.#values));
      const form = start === 'connect' && formsSubmitted === 0
        ? forms.find((f) => f.names.includes('server'))
        : forms.find((f) => !f.names.includes('server')) ?? forms[0];
      const isError = page.kind?.startsWith('error');
      if (form && (!isError || form.asksFor(['client_id']))) {
        formsSubmitted += 1;
        request = form.submission(request.url, this.#values);
        continue;
      }
      // A page whose one way on is a button-styled link (not back to the start page).
      const onward = !isError && page.buttons.find((href) => new URL(href, request.url).pathname !== '/');
      if (onward) {
        request = { url: new URL(onward, request.url).href, method: 'GET' };
        continue;
      }
      throw new OwnerError(`${request.method} ${redact(request.url)} answered ${response.status} with nothing to go on`, { ...page, status: response.status, trail });
    }
    throw new OwnerError(`no final page after ${MAX_STEPS} steps`, { trail });
  }
}

export class OwnerError extends Error {
  constructor(message, { trail = [], text = '', errorCode = null, status } = {}) {
    super(`${message}${errorCode ? ` (error code ${errorCode})` : ''}\n  trail: ${trail.join('\n         ')}\n  page: ${text.slice(0, 600)}`);
    this.errorCode = errorCode;
    this.status = status;
  }
}

/** What a page shows: its data-page name, permanent URLs, error code, forms, button links and text. */
export function readPage(html) {
  const kind = /<body[^>]*\sdata-page="([^"]*)"/i.exec(html)?.[1] ?? null;
  const mcpUrl = /<code[^>]*\sid="mcp-url"[^>]*>([^<]+)<\/code>/.exec(html)?.[1];
  const sseUrl = /<code[^>]*\sid="sse-url"[^>]*>([^<]+)<\/code>/.exec(html)?.[1];
  const errorCode = /<span id="error-code">([a-z_]+)<\/span>/.exec(html)?.[1] ?? null;
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map(([, attrs, inner]) => new Form(attrs, inner));
  const buttons = [...html.matchAll(/<a\b([^>]*)>/gi)]
    .map(([, attrs]) => attrs)
    .filter((attrs) => /\bbutton\b/.test(attr(attrs, 'class') ?? '') && attr(attrs, 'href'))
    .map((attrs) => attr(attrs, 'href'));
  const text = unescapeHtml(html.replace(/<(style|script)[\s\S]*?<\/\1>/gi, '').replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();
  return {
    kind,
    mcpUrl: mcpUrl && unescapeHtml(mcpUrl),
    sseUrl: sseUrl && unescapeHtml(sseUrl),
    errorCode,
    forms,
    buttons,
    text,
  };
}

class Form {
  constructor(attrs, inner) {
    this.action = unescapeHtml(attr(attrs, 'action') ?? '');
    this.method = (attr(attrs, 'method') ?? 'get').toLowerCase();
    this.inputs = [...inner.matchAll(/<(input|textarea|select)\b([^>]*)>/gi)].map(([, tag, a]) => ({
      tag: tag.toLowerCase(),
      name: attr(a, 'name'),
      type: (attr(a, 'type') ?? 'text').toLowerCase(),
      value: attr(a, 'value'),
      required: /\srequired\b/i.test(a),
    })).filter((i) => i.name);
    this.names = this.inputs.map((i) => i.name);
  }

  /** True when every visible field is one the owner can fill. */
  fillable(values) {
    return this.inputs.every((i) => ['hidden', 'submit', 'checkbox', 'radio'].includes(i.type) || i.value != null || i.name in values || !i.required);
  }

  asksFor(names) {
    return names.some((n) => this.names.includes(n));
  }

  submission(pageUrl, values) {
    const fields = new URLSearchParams();
    for (const input of this.inputs) {
      if (input.type === 'submit') continue;
      if ((input.type === 'checkbox' || input.type === 'radio') && input.value == null) continue;
      fields.append(input.name, values[input.name] ?? input.value ?? '');
    }
    const url = new URL(this.action || pageUrl, pageUrl);
    const origin = new URL(pageUrl).origin;
    if (this.method === 'post') {
      return { url: url.href, method: 'POST', body: fields.toString(), origin, referer: pageUrl };
    }
    url.search = fields.toString();
    return { url: url.href, method: 'GET' };
  }
}

// Cookies by origin and name; a later cookie of the same name replaces the earlier one, and
// one set to expire is removed. Paths are ignored: the names on each origin are distinct.
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
  const match = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  if (match) return unescapeHtml(match[1] ?? match[2] ?? match[3]);
  return new RegExp(`\\s${name}(?=[\\s>/]|$)`, 'i').test(tag) ? '' : null;
}

function unescapeHtml(text) {
  return text.replace(/&(amp|lt|gt|quot|#39|#x27|#x2F|nbsp);/g, (_, e) => ({
    amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'", '#x2F': '/', nbsp: ' ',
  })[e]);
}

// Permanent URL secrets stay out of logs: /s/<secret>/... is shown as /s/…/...
function redact(url) {
  return url.replace(/\/s\/[A-Za-z0-9_-]{20,}\//, '/s/…/').replace(/([?&](code|state)=)[^&]+/g, '$1…');
}

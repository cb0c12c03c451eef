/**
 * A browser stand-in for OpenID Connect system tests: keeps cookies (by name and path, like a
 * browser, ignoring the port), follows redirects itself and stops at the relying party's
 * callback, which no test needs to run.
 */
export interface Hop {
  status: number;
  url: string;
  location?: string;
  body: string;
}

interface Cookie {
  value: string;
  path: string;
}

export class FakeBrowser {
  private jar = new Map<string, Cookie>();
  /** the Origin this browser's own pages have (the issuer), sent on POSTs like a page would */
  constructor(readonly origin: string) {}

  cookie(name: string): string | undefined {
    return [...this.jar.entries()].find(([k]) => k.startsWith(`${name}|`))?.[1].value;
  }

  setCookie(name: string, value: string, path = '/'): void {
    this.jar.set(`${name}|${path}`, { value, path });
  }

  clear(): void {
    this.jar.clear();
  }

  private header(url: URL): string {
    return [...this.jar.entries()]
      .filter(([, c]) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`) || c.path === '/')
      .map(([k, c]) => `${k.split('|')[0]}=${c.value}`)
      .join('; ');
  }

  private store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = (pair ?? '').indexOf('=');
      const name = (pair ?? '').slice(0, eq);
      const value = (pair ?? '').slice(eq + 1);
      const path = attrs.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      const expires = attrs.find((a) => a.toLowerCase().startsWith('expires='))?.slice(8);
      const gone =
        value === '' || attrs.some((a) => a.toLowerCase() === 'max-age=0') || (expires !== undefined && Date.parse(expires) <= Date.now());
      if (gone) this.jar.delete(`${name}|${path}`);
      else this.jar.set(`${name}|${path}`, { value, path });
    }
  }

  async request(
    method: string,
    url: string | URL,
    body?: { json?: unknown; form?: Record<string, string> },
  ): Promise<Hop & { res: Response }> {
    const u = new URL(url);
    const headers: Record<string, string> = { cookie: this.header(u), 'accept-language': 'en' };
    let payload: string | undefined;
    if (method !== 'GET') headers.origin = this.origin;
    if (body?.json !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body.json);
    } else if (body?.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(body.form).toString();
    }
    const res = await fetch(u, { method, headers, body: payload, redirect: 'manual' });
    this.store(res);
    const location = res.headers.get('location');
    return { res, status: res.status, url: u.href, location: location ? new URL(location, u).href : undefined, body: await res.text() };
  }

  /**
   * GETs `url` and follows redirects while they stay on the issuer; returns the last answer, or
   * the redirect that leaves the issuer (the callback to the relying party).
   */
  async navigate(url: string | URL, maxHops = 10): Promise<Hop> {
    let hop: Hop = await this.request('GET', url);
    for (let i = 0; i < maxHops; i++) {
      const form = autoSubmitted(hop.body, hop.url);
      if (form && new URL(form.action).origin === new URL(this.origin).origin)
        hop = await this.request('POST', form.action, { form: form.fields });
      else if (hop.location && new URL(hop.location).origin === new URL(this.origin).origin) hop = await this.request('GET', hop.location);
      else break;
    }
    return hop;
  }
}

/**
 * The provider's self-submitting form pages (form_post, the logout of the previous person when
 * another one signs in): a browser runs their one line of script, this stand-in submits them.
 */
function autoSubmitted(body: string, base: string): { action: string; fields: Record<string, string> } | undefined {
  if (!body.includes('document.forms[0].submit()')) return undefined;
  const action = /<form method="post" action="([^"]+)"/.exec(body)?.[1];
  if (!action) return undefined;
  const fields: Record<string, string> = {};
  for (const m of body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)) fields[m[1] as string] = m[2] as string;
  return { action: new URL(action.replace(/&amp;/g, '&'), base).href, fields };
}

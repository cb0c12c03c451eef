/**
 * "Line dashboard": an example application that signs people in with Faceline (OpenID Connect).
 * Plain node:http and openid-client, nothing else, so it reads as a recipe:
 *
 *   GET  /          sign-in buttons, or the dashboard with what Faceline says about the person
 *   GET  /login     → Faceline (authorization code + PKCE); ?mode=kiosk for face only, ?fresh=1 to force a new face login
 *   GET  /callback  ← Faceline: code → tokens (ID token verified against the JWKS) → userinfo
 *   POST /refresh   new tokens with the refresh token
 *   POST /logout    ends the local session, then Faceline's (RP-initiated logout)
 *
 * Sessions live in memory (an example: one process, lost on restart).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { loadConfig } from './config.js';
import { Faceline, type Pending, type SignedIn } from './oidc.js';
import { STYLE, dashboardPage, errorPage, signedOutPage } from './pages.js';

const cfg = loadConfig();
const faceline = new Faceline(cfg);
const sessions = new Map<string, SignedIn>();
const pendings = new Map<string, Pending>();
const secure = cfg.publicUrl.protocol === 'https:';
const PENDING_MS = 10 * 60_000;

function cookies(req: IncomingMessage): Record<string, string> {
  return Object.fromEntries(
    (req.headers.cookie ?? '')
      .split(';')
      .map((p) => p.trim().split('='))
      .filter((kv) => kv.length === 2)
      .map(([k, v]) => [k, decodeURIComponent(v as string)]),
  );
}

/** Lax: the cookie comes along when Faceline redirects the browser back (a top-level GET). */
function cookie(name: string, value: string, maxAge: number): string {
  return `${name}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': `default-src 'none'; style-src 'self'; form-action 'self' ${cfg.issuer.origin}; frame-ancestors 'none'`,
    // not no-referrer: with it a browser sends "Origin: null" on form posts, and the origin check below needs the real one
    'referrer-policy': 'same-origin',
    ...headers,
  });
  res.end(body);
}

function redirect(res: ServerResponse, to: string, setCookies: string[] = []): void {
  res.writeHead(303, { location: to, 'cache-control': 'no-store', ...(setCookies.length ? { 'set-cookie': setCookies } : {}) });
  res.end();
}

/** POSTs only from the dashboard's own pages (cross-site request forgery). */
function sameOrigin(req: IncomingMessage): boolean {
  return req.headers.origin === cfg.publicUrl.origin;
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', cfg.publicUrl);
  const jar = cookies(req);
  const session = jar.dashboard_session ? sessions.get(jar.dashboard_session) : undefined;

  if (req.method === 'GET' && url.pathname === '/healthz') return send(res, 200, 'ok', { 'content-type': 'text/plain' });
  if (req.method === 'GET' && url.pathname === '/style.css')
    return send(res, 200, STYLE, { 'content-type': 'text/css', 'cache-control': 'public, max-age=3600' });

  if (req.method === 'GET' && url.pathname === '/') {
    return send(res, 200, session ? dashboardPage(cfg.line, session) : signedOutPage(cfg.line));
  }

  if (req.method === 'GET' && url.pathname === '/login') {
    const { url: to, pending } = await faceline.start({
      kiosk: url.searchParams.get('mode') === 'kiosk',
      fresh: url.searchParams.has('fresh'),
    });
    const id = randomBytes(18).toString('base64url');
    pendings.set(id, pending);
    return redirect(res, to.href, [cookie('dashboard_login', id, PENDING_MS / 1000)]);
  }

  if (req.method === 'GET' && url.pathname === '/callback') {
    const pending = jar.dashboard_login ? pendings.get(jar.dashboard_login) : undefined;
    if (jar.dashboard_login) pendings.delete(jar.dashboard_login);
    const error = url.searchParams.get('error');
    if (error) return send(res, 400, errorPage(cfg.line, error, url.searchParams.get('error_description') ?? undefined));
    if (!pending || Date.now() - pending.at > PENDING_MS)
      return send(res, 400, errorPage(cfg.line, 'no_pending_sign_in', 'start again from the dashboard'));
    try {
      const signedIn = await faceline.finish(url, pending);
      const sid = randomBytes(24).toString('base64url');
      sessions.set(sid, signedIn);
      return redirect(res, '/', [cookie('dashboard_session', sid, 12 * 3600), cookie('dashboard_login', '', 0)]);
    } catch (err) {
      const e = err as { error?: string; error_description?: string; message?: string };
      return send(res, 400, errorPage(cfg.line, e.error ?? 'sign_in_failed', e.error_description ?? e.message));
    }
  }

  if (req.method === 'POST' && url.pathname === '/refresh') {
    if (!sameOrigin(req) || !session || !jar.dashboard_session) return send(res, 403, errorPage(cfg.line, 'forbidden', 'sign in first'));
    try {
      sessions.set(jar.dashboard_session, await faceline.refresh(session));
      return redirect(res, '/');
    } catch (err) {
      sessions.delete(jar.dashboard_session);
      const e = err as { error?: string; error_description?: string };
      return send(res, 400, errorPage(cfg.line, e.error ?? 'refresh_failed', e.error_description));
    }
  }

  if (req.method === 'POST' && url.pathname === '/logout') {
    if (!sameOrigin(req)) return send(res, 403, errorPage(cfg.line, 'forbidden', 'sign out from the dashboard itself'));
    if (jar.dashboard_session) sessions.delete(jar.dashboard_session);
    return redirect(res, (await faceline.logoutUrl(session)).href, [cookie('dashboard_session', '', 0)]);
  }

  return send(res, 404, errorPage(cfg.line, 'not_found', url.pathname));
}

const server = createServer((req, res) => {
  handle(req, res).catch((err: unknown) => {
    console.error(JSON.stringify({ level: 'error', msg: 'request failed', err: (err as Error).message }));
    if (!res.headersSent) send(res, 502, errorPage(cfg.line, 'faceline_unreachable', 'Faceline did not answer; try again shortly'));
    else res.end();
  });
});
server.listen(cfg.port, cfg.host, () => {
  const { port } = server.address() as { port: number };
  console.log(
    JSON.stringify({ level: 'info', msg: 'line dashboard listening', port, issuer: cfg.issuer.href, publicUrl: cfg.publicUrl.href }),
  );
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => server.close(() => process.exit(0)));

/** The dashboard's HTML: server-rendered, no script; everything from outside is escaped. */
import type { SignedIn } from './oidc.js';

export const ACR_TEXT: Record<string, string> = {
  'urn:faceline:acr:face-liveness': 'face + liveness challenge',
  'urn:faceline:acr:face': 'face only (no liveness challenge)',
  'urn:faceline:acr:face-liveness-device': 'face + liveness challenge at a trusted kiosk',
  'urn:faceline:acr:mfa': 'face + liveness challenge, confirmed with a passkey',
};

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

const time = (seconds: number | undefined) =>
  seconds ? `${new Date(seconds * 1000).toISOString().replace('T', ' ').slice(0, 19)} UTC` : '–';

function layout(line: string, title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · ${escapeHtml(line)} dashboard</title><link rel="stylesheet" href="/style.css"></head>
<body><header><strong>${escapeHtml(line)}</strong> · production dashboard</header><main>${body}</main></body></html>`;
}

export function signedOutPage(line: string, message?: string): string {
  return layout(
    line,
    'Sign in',
    `<h1>${escapeHtml(line)} dashboard</h1>
${message ? `<p class="notice" role="status">${escapeHtml(message)}</p>` : ''}
<p>Output, scrap rate and open orders of ${escapeHtml(line)}. Sign in with your face through Faceline.</p>
<div class="actions">
  <a class="button primary" href="/login" data-action="sign-in">Sign in with Faceline</a>
  <a class="button" href="/login?mode=kiosk" data-action="kiosk">Kiosk: face only</a>
</div>`,
  );
}

export function errorPage(line: string, error: string, description: string | undefined): string {
  return layout(
    line,
    'Sign-in not completed',
    `<h1>Sign-in not completed</h1>
<p>Faceline answered <code data-error="${escapeHtml(error)}">${escapeHtml(error)}</code>${description ? `: ${escapeHtml(description)}` : ''}.</p>
<div class="actions"><a class="button primary" href="/login">Try again</a><a class="button" href="/">Back</a></div>`,
  );
}

/** The ID token's protected header (the key that signed it), for display. */
function headerOf(jwt: string): { alg?: string; kid?: string } {
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[0] ?? '', 'base64url').toString('utf8')) as { alg?: string; kid?: string };
  } catch {
    return {};
  }
}

export function dashboardPage(line: string, s: SignedIn): string {
  const c = s.claims as Record<string, unknown>;
  const header = headerOf(s.idToken);
  const groups = Array.isArray(c.groups) ? (c.groups as string[]) : [];
  const amr = Array.isArray(c.amr) ? (c.amr as string[]).join(', ') : '–';
  const acr = String(c.acr ?? '');
  const rows = Object.entries(c)
    .map(
      ([k, v]) =>
        `<tr><th scope="row">${escapeHtml(k)}</th><td data-claim="${escapeHtml(k)}">${escapeHtml(typeof v === 'object' ? JSON.stringify(v) : v)}</td></tr>`,
    )
    .join('');
  return layout(
    line,
    'Dashboard',
    `<h1>Hello, <span data-name>${escapeHtml(c.name ?? c.preferred_username)}</span></h1>
${groups.includes('admin') ? '<p class="badge" data-admin>Faceline administrator</p>' : ''}
<dl class="facts">
  <dt>User name</dt><dd data-fact="username">${escapeHtml(c.preferred_username)}</dd>
  <dt>Signed in with</dt><dd data-fact="method">${escapeHtml(amr)} — ${escapeHtml(ACR_TEXT[acr] ?? acr)}</dd>
  <dt>Face shown at</dt><dd data-fact="auth_time">${escapeHtml(time(Number(c.auth_time)))}</dd>
  <dt>ID token signed with</dt><dd data-fact="key">${escapeHtml(header.alg)} key <code data-kid>${escapeHtml(header.kid)}</code></dd>
  <dt>ID token valid until</dt><dd>${escapeHtml(time(Number(c.exp)))}</dd>
  <dt>Access token valid until</dt><dd>${escapeHtml(time(Math.floor(s.accessTokenExpiresAt / 1000)))}</dd>
  <dt>Refresh token</dt><dd data-fact="refresh">${s.refreshToken ? 'yes' : 'no'}${s.refreshedAt ? ` (renewed ${escapeHtml(new Date(s.refreshedAt).toISOString().slice(11, 19))} UTC)` : ''}</dd>
</dl>
<section class="tiles" aria-label="Line figures">
  <div class="tile"><span>Output today</span><strong>1 284</strong></div>
  <div class="tile"><span>Scrap rate</span><strong>1.7 %</strong></div>
  <div class="tile"><span>Open orders</span><strong>6</strong></div>
</section>
<div class="actions">
  <a class="button" href="/login?fresh=1" data-action="step-up">Show my face again (step-up)</a>
  ${s.refreshToken ? '<form method="post" action="/refresh"><button type="submit" data-action="refresh">Renew tokens</button></form>' : ''}
  <form method="post" action="/logout"><button type="submit" class="primary" data-action="sign-out">Sign out</button></form>
</div>
<h2>ID token (verified with Faceline's JWKS)</h2>
<table class="claims"><tbody>${rows}</tbody></table>
<h2>UserInfo</h2>
<pre data-userinfo>${escapeHtml(JSON.stringify(s.userinfo, null, 2))}</pre>`,
  );
}

export const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f6f8;color:#17212b}
header{background:#17212b;color:#fff;padding:.8rem 1.5rem}main{max-width:56rem;margin:2rem auto;padding:0 1.5rem}
.actions{display:flex;gap:.75rem;flex-wrap:wrap;margin:1.5rem 0}.actions form{margin:0}
.button,button{font:inherit;padding:.7rem 1.2rem;border-radius:8px;border:1px solid #9aa7b4;background:#fff;color:inherit;cursor:pointer;text-decoration:none;display:inline-block}
.primary{background:#0b5cad;border-color:#0b5cad;color:#fff}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}.facts dt{font-weight:600}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(12rem,1fr));gap:1rem}.tile{background:#fff;border-radius:10px;padding:1rem;box-shadow:0 1px 6px #0002}
.tile span{display:block;color:#52606d}.tile strong{font-size:1.8rem}
.badge{display:inline-block;background:#ffe8a3;border-radius:6px;padding:.1rem .6rem}
.notice{background:#e3f1ff;padding:.6rem 1rem;border-radius:8px}
table.claims{border-collapse:collapse;background:#fff}table.claims th,table.claims td{border:1px solid #d5dbe1;padding:.3rem .6rem;text-align:left;vertical-align:top}
pre{background:#fff;padding:1rem;border-radius:8px;overflow:auto}`;

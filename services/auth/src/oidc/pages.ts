/**
 * The few pages the provider itself shows (errors that cannot go back to the client, the
 * sign-out question, "signed out"): plain HTML in English or German, no script, one inline
 * style allowed by its hash in the Content-Security-Policy.
 */
import { createHash } from 'node:crypto';

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f6f8;color:#17212b}
main{max-width:32rem;margin:10vh auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 2px 12px #0002}
h1{font-size:1.4rem;margin-top:0}code{background:#eef1f4;padding:.1rem .3rem;border-radius:4px}
.actions{display:flex;gap:.75rem;flex-wrap:wrap;margin-top:1.5rem}
button,a.button{font:inherit;padding:.7rem 1.2rem;border-radius:8px;border:1px solid #9aa7b4;background:#fff;color:inherit;cursor:pointer;text-decoration:none}
button.primary{background:#0b5cad;border-color:#0b5cad;color:#fff}
@media (prefers-color-scheme:dark){body{background:#10161c;color:#e6edf3}main{background:#1a232c}code{background:#26313c}button,a.button{background:#1a232c}}`;

/** For the CSP: `style-src 'sha256-…'`. */
export const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

const TEXT = {
  en: {
    errorTitle: 'Sign-in could not continue',
    errorNext: 'Go back to the application you came from and try again. If it keeps happening, tell its administrator this code:',
    home: 'Faceline home',
    logoutTitle: 'Sign out?',
    logoutQuestion: (app: string | undefined) =>
      app ? `Sign out of Faceline and ${app} on this device?` : 'Sign out of Faceline on this device?',
    logoutYes: 'Yes, sign me out',
    logoutNo: 'No, stay signed in',
    doneTitle: 'Signed out',
    done: (app: string | undefined) => (app ? `You are signed out of ${app}.` : 'You are signed out.'),
  },
  de: {
    errorTitle: 'Anmeldung nicht möglich',
    errorNext:
      'Gehen Sie zurück zur Anwendung, von der Sie kamen, und versuchen Sie es erneut. Passiert es wieder, nennen Sie deren Administration diesen Code:',
    home: 'Faceline-Startseite',
    logoutTitle: 'Abmelden?',
    logoutQuestion: (app: string | undefined) =>
      app ? `Auf diesem Gerät von Faceline und ${app} abmelden?` : 'Auf diesem Gerät von Faceline abmelden?',
    logoutYes: 'Ja, abmelden',
    logoutNo: 'Nein, angemeldet bleiben',
    doneTitle: 'Abgemeldet',
    done: (app: string | undefined) => (app ? `Sie sind von ${app} abgemeldet.` : 'Sie sind abgemeldet.'),
  },
} as const;
export type PageLang = keyof typeof TEXT;

/** German when the browser prefers it, English otherwise. */
export function pageLang(acceptLanguage: string | undefined): PageLang {
  const first = (acceptLanguage ?? '').split(',')[0]?.trim().toLowerCase() ?? '';
  return first.startsWith('de') ? 'de' : 'en';
}

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

function page(lang: PageLang, title: string, body: string, attrs = ''): string {
  return `<!DOCTYPE html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Faceline</title><style>${STYLE}</style></head>
<body><main${attrs}>${body}</main></body></html>`;
}

/** An error the provider cannot send back to the client (unknown client, unregistered redirect_uri, …). */
export function errorPage(lang: PageLang, error: string, description: string | undefined): string {
  const t = TEXT[lang];
  return page(
    lang,
    t.errorTitle,
    `<h1>${escapeHtml(t.errorTitle)}</h1>
<p>${escapeHtml(description ?? error)}</p>
<p>${escapeHtml(t.errorNext)} <code data-oidc-error>${escapeHtml(error)}</code></p>
<div class="actions"><a class="button" href="/">${escapeHtml(t.home)}</a></div>`,
    ` data-error="${escapeHtml(error)}"`,
  );
}

/** RP-initiated logout: `form` is the provider's own form (id op.logoutForm, with its xsrf token). */
export function logoutPage(lang: PageLang, form: string, appName: string | undefined): string {
  const t = TEXT[lang];
  return page(
    lang,
    t.logoutTitle,
    `<h1>${escapeHtml(t.logoutTitle)}</h1>
<p>${escapeHtml(t.logoutQuestion(appName))}</p>
${form}
<div class="actions"><button autofocus class="primary" type="submit" form="op.logoutForm" value="yes" name="logout">${escapeHtml(t.logoutYes)}</button>
<button type="submit" form="op.logoutForm">${escapeHtml(t.logoutNo)}</button></div>`,
  );
}

export function signedOutPage(lang: PageLang, appName: string | undefined): string {
  const t = TEXT[lang];
  return page(
    lang,
    t.doneTitle,
    `<h1>${escapeHtml(t.doneTitle)}</h1><p>${escapeHtml(t.done(appName))}</p><div class="actions"><a class="button" href="/">${escapeHtml(t.home)}</a></div>`,
  );
}

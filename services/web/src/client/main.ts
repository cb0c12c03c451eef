/**
 * App shell: language, header navigation, client-side routes (each page is its own
 * chunk, loaded when first visited), and the signed-in person.
 */
import type { ClientConfig, MeResponse } from '@faceline/contracts';
import { LANGUAGES, chooseLanguage, isLang, type Lang } from './i18n/index.js';
import { api, ApiError } from './lib/api.js';
import { ROUTES } from './lib/contracts.js';
import type { AppContext, Page } from './lib/context.js';
import { h, replace } from './lib/dom.js';

const LANG_KEY = 'faceline.lang';

const routes: Record<string, () => Promise<{ page: Page }>> = {
  '/': () => import('./pages/home.js'),
  '/register': () => import('./pages/register.js'),
  '/enroll': () => import('./pages/enroll.js'),
  '/login': () => import('./pages/login.js'),
  '/kiosk': () => import('./pages/kiosk.js'),
  '/me': () => import('./pages/me.js'),
  '/admin': () => import('./pages/admin.js'),
  '/authorize': () => import('./pages/authorize.js'),
};

function storedLang(): string | null {
  try {
    return localStorage.getItem(LANG_KEY);
  } catch {
    return null;
  }
}

const browserLanguages = (): readonly string[] => navigator.languages ?? [navigator.language];
let lang: Lang = chooseLanguage({ stored: storedLang(), browser: browserLanguages() });
const updateLang = () => {
  lang = chooseLanguage({ stored: storedLang(), profileLocale: me?.profile.locale, browser: browserLanguages() });
};
let me: MeResponse | null = null;
let configPromise: Promise<ClientConfig> | null = null;
let cleanup: (() => void) | void;
let flashMessage: string | null = null;
let renderToken = 0;

const root = document.getElementById('app') as HTMLElement;
const header = h('header', { class: 'topbar' });
const main = h('main', { id: 'content', tabindex: '-1' });
replace(root, h('a', { class: 'skip', href: '#content' }, ''), header, main);

function applyProfilePrefs(): void {
  const profile = me?.profile;
  document.documentElement.dataset.theme = profile?.theme ?? 'system';
  document.documentElement.classList.toggle('large-text', Boolean(profile?.largeText));
}

const ctx: AppContext = {
  get m() {
    return LANGUAGES[lang];
  },
  get lang() {
    return lang;
  },
  navigate(path, opts = {}) {
    if (opts.replace) history.replaceState(opts.state ?? null, '', path);
    else history.pushState(opts.state ?? null, '', path);
    void render();
  },
  me: () => me,
  async refreshMe() {
    try {
      me = await api<MeResponse>('GET', ROUTES.me);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status === 401 || err.status === 403) me = null;
    }
    applyProfilePrefs();
    renderHeader();
    return me;
  },
  setMe(value) {
    me = value;
    applyProfilePrefs();
    renderHeader();
  },
  config() {
    configPromise ??= api<ClientConfig>('GET', ROUTES.config).catch((err: unknown) => {
      configPromise = null;
      throw err;
    });
    return configPromise;
  },
  setTitle(title) {
    document.title = `${title} · ${LANGUAGES[lang].common.appName}`;
  },
  flash(message) {
    flashMessage = message;
  },
};

function setLang(next: Lang): void {
  lang = next;
  try {
    localStorage.setItem(LANG_KEY, next);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  void render();
}

function navLink(path: string, label: string): HTMLAnchorElement {
  const current = location.pathname === path;
  return h('a', { href: path, 'data-link': '', 'aria-current': current ? 'page' : null }, label);
}

async function signOut(): Promise<void> {
  try {
    await api('POST', ROUTES.logout, {});
  } catch {
    /* the cookies are cleared by the server; if it is unreachable the session expires on its own */
  }
  ctx.setMe(null);
  ctx.navigate('/');
}

function renderHeader(): void {
  const m = LANGUAGES[lang];
  const links: HTMLElement[] = [];
  if (me) {
    links.push(navLink('/me', m.common.myPage));
    if (me.user.role === 'admin') links.push(navLink('/admin', m.common.admin));
    links.push(h('button', { type: 'button', class: 'link', onclick: () => void signOut() }, m.common.signOut));
  } else {
    links.push(navLink('/login', m.common.signIn), navLink('/register', m.common.register), navLink('/kiosk', m.common.kiosk));
  }
  const select = h('select', { id: 'lang', 'aria-label': m.common.language });
  for (const [code, msgs] of Object.entries(LANGUAGES)) {
    const opt = h('option', { value: code }, msgs.langName);
    opt.selected = code === lang;
    select.append(opt);
  }
  select.addEventListener('change', () => {
    if (isLang(select.value)) setLang(select.value);
  });
  replace(
    header,
    h('a', { href: '/', 'data-link': '', class: 'brand' }, m.common.appName),
    h('nav', { 'aria-label': m.common.mainNav }, ...links),
    h('div', { class: 'lang' }, select),
  );
  const skip = root.querySelector('.skip');
  if (skip) skip.textContent = m.common.skipToContent;
}

async function render(): Promise<void> {
  const token = ++renderToken;
  // A new page is the moment to follow a changed profile language (never in the middle of one).
  updateLang();
  if (typeof cleanup === 'function') cleanup();
  cleanup = undefined;
  document.documentElement.lang = lang;
  const path = location.pathname.replace(/\/+$/, '') || '/';
  document.body.classList.toggle('kiosk-mode', path === '/kiosk');
  renderHeader();
  const load = routes[path] ?? routes['/']!;
  const container = h('div', { class: `page page-${path === '/' ? 'home' : path.slice(1)}` });
  try {
    const { page } = await load();
    if (token !== renderToken) return;
    replace(main, container);
    if (flashMessage) {
      container.before(h('p', { class: 'flash', role: 'status' }, flashMessage));
      flashMessage = null;
    }
    cleanup = await page(container, ctx);
    if (token !== renderToken && typeof cleanup === 'function') cleanup();
  } catch {
    if (token !== renderToken) return;
    const m = LANGUAGES[lang];
    // A page chunk that cannot load means the server went away (or a new release replaced it).
    replace(
      main,
      h(
        'div',
        { class: 'problem', role: 'alert' },
        h('h2', {}, m.clientErrors.NETWORK.title),
        h('p', {}, m.clientErrors.NETWORK.message),
        h('button', { type: 'button', class: 'primary', onclick: () => location.reload() }, m.common.retry),
      ),
    );
  }
  // Screen readers and keyboards start at the new page's heading, unless the page itself
  // put the focus somewhere useful (the first field of a form).
  const focusTarget = main.contains(document.activeElement) ? null : main.querySelector<HTMLElement>('h1');
  if (focusTarget) {
    focusTarget.tabIndex = -1;
    focusTarget.focus({ preventScroll: true });
  }
}

document.addEventListener('click', (event) => {
  const a = (event.target as Element | null)?.closest?.('a[data-link]') as HTMLAnchorElement | null;
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin) return;
  event.preventDefault();
  ctx.navigate(url.pathname + url.search + url.hash);
});
window.addEventListener('popstate', () => void render());

void ctx.refreshMe().finally(() => void render());

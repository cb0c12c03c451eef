import type {
  AdminUser,
  AdminUserResponse,
  AdminUsersResponse,
  AuditEvent,
  AuditResponse,
  MeResponse,
  PasskeysResponse,
} from '@faceline/contracts';
import { format } from '../i18n/index.js';
import { api } from '../lib/api.js';
import { adminUnlock, adminUser, ROUTES } from '../lib/contracts.js';
import type { AppContext, Page } from '../lib/context.js';
import { h, id } from '../lib/dom.js';
import { oidcClientsSection } from '../lib/oidc-clients-view.js';
import { problemBox, problemFrom } from '../lib/ui.js';
import { kiosksSection } from './kiosks-section.js';

function isStepUp(err: unknown): boolean {
  const p = problemFrom(err);
  return p.kind === 'server' && p.code === 'STEP_UP_REQUIRED';
}

/**
 * Administration needs more than a face login (a trusted kiosk or a passkey). Say so, and
 * offer the way that works for this person: sign in again and confirm with the passkey they
 * have, or add one first on their personal page.
 */
async function stepUpBox(ctx: AppContext, me: MeResponse): Promise<HTMLElement> {
  const { m } = ctx;
  let hasPasskey = false;
  try {
    hasPasskey = (await api<PasskeysResponse>('GET', ROUTES.mePasskeys)).passkeys.length > 0;
  } catch {
    /* without the list, the general advice below still holds */
  }
  const again = h('button', { type: 'button', class: 'primary' }, m.admin.stepUpSignInAgain);
  again.addEventListener('click', async () => {
    try {
      await api('POST', ROUTES.logout, {});
    } catch {
      /* the new sign-in replaces the session anyway */
    }
    ctx.setMe(null);
    ctx.navigate(`/login?${new URLSearchParams({ u: me.user.username, next: '/admin' })}`);
  });
  const addLink = h(
    'a',
    { href: '/me#passkeys', 'data-link': '', class: hasPasskey ? 'button' : 'button primary' },
    m.admin.stepUpAddPasskey,
  );
  return h(
    'div',
    { class: 'problem', role: 'alert', 'data-problem': 'STEP_UP_REQUIRED' },
    h('h2', { class: 'problem-title' }, m.admin.stepUpTitle),
    h('p', {}, hasPasskey ? m.admin.stepUpWithPasskey : m.admin.stepUpNoPasskey),
    h('div', { class: 'actions' }, hasPasskey ? again : null, addLink),
  );
}

function when(iso: string | null, ctx: AppContext): string {
  if (!iso) return ctx.m.admin.never;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(ctx.lang, { dateStyle: 'short', timeStyle: 'short' });
}

function userStatus(u: AdminUser, ctx: AppContext): string {
  if (u.locked) return ctx.m.admin.locked;
  if (u.backoffUntil && Date.parse(u.backoffUntil) > Date.now()) return ctx.m.admin.backoff;
  return ctx.m.admin.active;
}

export const page: Page = async (root, ctx) => {
  const { m } = ctx;
  ctx.setTitle(m.admin.title);
  root.append(h('h1', {}, m.admin.title));
  const me = ctx.me() ?? (await ctx.refreshMe());
  if (!me) return void root.append(problemBox({ kind: 'server', code: 'UNAUTHENTICATED' }, ctx));
  if (me.user.role !== 'admin') return void root.append(h('p', { class: 'problem', role: 'alert' }, m.admin.forbidden));

  const searchId = id('search');
  const search = h('input', { id: searchId, type: 'search', name: 'q', maxlength: 80 });
  const usersBox = h('div', { class: 'table-wrap' });
  const usersMsg = h('div', { class: 'form-status', role: 'status' });
  const auditBox = h('div', { class: 'table-wrap' });
  const more = h('button', { type: 'button', hidden: true }, m.admin.loadMore);
  let auditCursor: string | null = null;

  const row = (u: AdminUser): HTMLTableRowElement => {
    const unlock = h('button', { type: 'button', disabled: !u.locked && !u.backoffUntil }, m.admin.unlock);
    const del = h('button', { type: 'button', class: 'danger', disabled: u.id === me.user.id }, m.admin.delete);
    unlock.setAttribute('aria-label', `${m.admin.unlock}: ${u.username}`);
    del.setAttribute('aria-label', `${m.admin.delete}: ${u.username}`);
    const tr = h(
      'tr',
      { 'data-user': u.username },
      h('td', {}, u.username),
      h('td', {}, u.displayName),
      h('td', {}, u.role),
      h('td', {}, u.enrolled ? String(u.templateCount) : '–'),
      h('td', {}, when(u.lastLoginAt, ctx)),
      h('td', {}, userStatus(u, ctx)),
      h('td', { class: 'row-actions' }, unlock, del),
    );
    unlock.addEventListener('click', async () => {
      try {
        const res = await api<AdminUserResponse>('POST', adminUnlock(u.id), {});
        tr.replaceWith(row(res.user));
      } catch (err) {
        usersMsg.replaceChildren(problemBox(problemFrom(err), ctx));
      }
    });
    del.addEventListener('click', async () => {
      if (!confirm(format(m.admin.deleteConfirm, { name: u.username }))) return;
      try {
        await api('DELETE', adminUser(u.id));
        tr.remove();
      } catch (err) {
        usersMsg.replaceChildren(problemBox(problemFrom(err), ctx));
      }
    });
    return tr;
  };

  async function loadUsers(): Promise<void> {
    usersMsg.replaceChildren();
    const q = new URLSearchParams({ limit: '100' });
    if (search.value.trim()) q.set('q', search.value.trim());
    try {
      const res = await api<AdminUsersResponse>('GET', `${ROUTES.adminUsers}?${q}`);
      const th = (t: string) => h('th', { scope: 'col' }, t);
      usersBox.replaceChildren(
        h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              th(m.admin.username),
              th(m.admin.displayName),
              th(m.admin.role),
              th(m.admin.enrolled),
              th(m.admin.lastLogin),
              th(m.admin.status),
              th(m.admin.actions),
            ),
          ),
          h('tbody', {}, ...res.users.map(row)),
        ),
      );
    } catch (err) {
      if (isStepUp(err)) return void root.replaceChildren(h('h1', {}, m.admin.title), await stepUpBox(ctx, self));
      usersMsg.replaceChildren(problemBox(problemFrom(err), ctx, { onRetry: () => void loadUsers() }));
    }
  }

  const auditRow = (e: AuditEvent) =>
    h(
      'tr',
      { class: `outcome-${e.outcome}` },
      h('td', {}, when(e.at, ctx)),
      h('td', {}, m.audit[e.type] ?? e.type),
      h('td', {}, e.username ?? '–'),
      h('td', {}, e.outcome === 'success' ? m.me.success : `${m.me.failure}${e.code ? ` (${e.code})` : ''}`),
      // at a plant's hub the log holds every site's events: where = the site, then the address
      h('td', {}, [e.site, e.ip].filter(Boolean).join(' · ') || '–'),
    );

  async function loadAudit(append: boolean): Promise<void> {
    const q = new URLSearchParams({ limit: '50' });
    if (append && auditCursor) q.set('cursor', auditCursor);
    try {
      const res = await api<AuditResponse>('GET', `${ROUTES.adminAudit}?${q}`);
      auditCursor = res.nextCursor;
      more.hidden = !auditCursor;
      let tbody = auditBox.querySelector('tbody');
      if (!append || !tbody) {
        const th = (t: string) => h('th', { scope: 'col' }, t);
        tbody = h('tbody');
        auditBox.replaceChildren(
          h(
            'table',
            {},
            h('thead', {}, h('tr', {}, th(m.me.when), th(m.admin.type), th(m.admin.username), th(m.me.result), th(m.me.from))),
            tbody,
          ),
        );
      }
      tbody.append(...res.events.map(auditRow));
    } catch (err) {
      auditBox.replaceChildren(problemBox(problemFrom(err), ctx, { onRetry: () => void loadAudit(false) }));
    }
  }

  // an administrator whose session acts as a user (no trusted kiosk, no passkey) sees why, and what to do
  const self: MeResponse = me;
  if (self.session.role !== 'admin') {
    root.append(await stepUpBox(ctx, self));
    return;
  }

  let debounce: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => void loadUsers(), 250);
  });
  more.addEventListener('click', () => void loadAudit(true));

  const kiosks = kiosksSection(ctx);
  root.append(
    h(
      'section',
      { 'aria-labelledby': 'users-h' },
      h('h2', { id: 'users-h' }, m.admin.users),
      h('div', { class: 'field' }, h('label', { for: searchId }, m.admin.search), search),
      usersMsg,
      usersBox,
    ),
    kiosks.el,
    h('section', { 'aria-labelledby': 'audit-h' }, h('h2', { id: 'audit-h' }, m.admin.audit), auditBox, more),
  );
  const oidc = oidcClientsSection(ctx);
  root.append(oidc.el);
  await Promise.all([loadUsers(), loadAudit(false), kiosks.load(), oidc.load()]);
  return () => clearTimeout(debounce);
};

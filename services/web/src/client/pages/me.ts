import type { DeleteFaceResponse, MeResponse, MyAuditEvent, MyAuditResponse, UpdateMeRequest } from '@faceline/contracts';
import { format, LANGUAGES } from '../i18n/index.js';
import { api } from '../lib/api.js';
import { ROUTES } from '../lib/contracts.js';
import type { AppContext, Page } from '../lib/context.js';
import { field, h, id } from '../lib/dom.js';
import { problemBox, problemFrom } from '../lib/ui.js';
import { passkeysSection } from './passkeys-section.js';

function dateTime(iso: string, ctx: AppContext): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(ctx.lang, { dateStyle: 'medium', timeStyle: 'short' });
}

/** This person's own recent sign-ins (successful and failed), for every role. */
async function recentLogins(): Promise<MyAuditEvent[]> {
  const res = await api<MyAuditResponse>('GET', `${ROUTES.meAudit}?limit=10`);
  return res.events;
}

function loginsTable(events: MyAuditEvent[], ctx: AppContext): HTMLElement {
  const { m } = ctx;
  if (!events.length) return h('p', {}, m.me.noLogins);
  const how = (e: MyAuditEvent) => (e.mode === 'identify' ? m.me.modeIdentify : m.me.modeVerify);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'logins' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, m.me.when),
          h('th', { scope: 'col' }, m.me.how),
          h('th', { scope: 'col' }, m.me.result),
          h('th', { scope: 'col' }, m.me.from),
        ),
      ),
      h(
        'tbody',
        {},
        ...events.map((e) =>
          h(
            'tr',
            { class: `outcome-${e.outcome}` },
            h('td', {}, dateTime(e.at, ctx)),
            h('td', {}, how(e)),
            h(
              'td',
              {},
              e.outcome === 'success'
                ? m.me.success
                : `${m.me.failure}${e.code && e.code in m.errors ? ` – ${m.errors[e.code as keyof typeof m.errors].title}` : ''}`,
            ),
            h('td', {}, e.ip ?? '–'),
          ),
        ),
      ),
    ),
  );
}

function select(label: string, name: string, options: [string, string][], value: string) {
  const selId = id(name);
  const sel = h('select', { id: selId, name });
  for (const [v, text] of options) {
    const o = h('option', { value: v }, text);
    o.selected = v === value;
    sel.append(o);
  }
  return { wrap: h('div', { class: 'field' }, h('label', { for: selId }, label), sel), sel };
}

export const page: Page = async (root, ctx) => {
  const { m } = ctx;
  ctx.setTitle(m.me.title);
  const me = ctx.me() ?? (await ctx.refreshMe());
  if (!me) {
    root.append(h('h1', {}, m.me.title), problemBox({ kind: 'server', code: 'UNAUTHENTICATED' }, ctx));
    return;
  }
  const p = me.profile;
  const displayName = field({
    label: m.me.displayName,
    name: 'displayName',
    value: me.user.displayName,
    required: true,
    maxlength: 80,
    autocomplete: 'name',
  });
  const greeting = field({ label: m.me.greeting, name: 'greeting', value: p.greeting ?? '', maxlength: 120 });
  const station = field({ label: m.me.station, name: 'station', value: p.station ?? '', maxlength: 80 });
  const locale = select(
    m.me.preferredLanguage,
    'locale',
    [['', '–'], ...Object.entries(LANGUAGES).map(([k, v]) => [k, v.langName] as [string, string])],
    p.locale ?? '',
  );
  const theme = select(
    m.me.theme,
    'theme',
    [
      ['system', m.me.themeSystem],
      ['light', m.me.themeLight],
      ['dark', m.me.themeDark],
    ],
    p.theme ?? 'system',
  );
  const largeId = id('largeText');
  const large = h('input', { type: 'checkbox', id: largeId, name: 'largeText' });
  large.checked = Boolean(p.largeText);
  const saveStatus = h('div', { class: 'form-status', role: 'status' });
  const saveBtn = h('button', { type: 'submit', class: 'primary' }, m.common.save);
  const form = h(
    'form',
    { class: 'profile', novalidate: true },
    h('p', { class: 'whoami' }, format(m.me.signedInWith, { name: `${me.user.displayName} (${me.user.username})` })),
    displayName.wrap,
    greeting.wrap,
    station.wrap,
    locale.wrap,
    theme.wrap,
    h('div', { class: 'field check' }, large, h('label', { for: largeId }, m.me.largeText)),
    h('div', { class: 'actions' }, saveBtn),
    saveStatus,
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    saveStatus.replaceChildren();
    const name = displayName.input.value.trim();
    if (!name) {
      displayName.error.textContent = m.register.displayNameInvalid;
      displayName.input.focus();
      return;
    }
    const body: UpdateMeRequest = {
      displayName: name,
      profile: {
        greeting: greeting.input.value.trim() || null,
        station: station.input.value.trim() || null,
        locale: locale.sel.value || null,
        theme: (theme.sel.value as 'system' | 'light' | 'dark') || null,
        largeText: large.checked,
      },
    };
    saveBtn.disabled = true;
    try {
      const updated = await api<MeResponse>('PATCH', ROUTES.me, body);
      ctx.setMe(updated);
      if ((updated.profile.locale ?? '') !== (p.locale ?? '')) {
        // Show the page again in the language just chosen.
        ctx.flash(m.common.saved);
        ctx.navigate('/me', { replace: true });
        return;
      }
      saveStatus.append(h('p', { class: 'saved' }, m.common.saved));
    } catch (err) {
      saveStatus.append(problemBox(problemFrom(err), ctx, { onRetry: () => form.requestSubmit() }));
    } finally {
      saveBtn.disabled = false;
    }
  });

  const faceStatus = h('p', {}, me.user.enrolled ? format(m.me.faceEnrolled, { n: me.user.templateCount }) : m.me.faceNotEnrolled);
  const faceMsg = h('div', { class: 'form-status', role: 'status' });
  const deleteFace = h('button', { type: 'button', class: 'danger', disabled: !me.user.enrolled }, m.me.deleteFace);
  deleteFace.addEventListener('click', async () => {
    if (!confirm(m.me.deleteFaceConfirm)) return;
    faceMsg.replaceChildren();
    try {
      await api<DeleteFaceResponse>('DELETE', ROUTES.meFace);
      await ctx.refreshMe();
      faceStatus.textContent = m.me.faceNotEnrolled;
      deleteFace.disabled = true;
      faceMsg.append(h('p', { class: 'saved' }, m.me.faceDeleted));
    } catch (err) {
      faceMsg.append(problemBox(problemFrom(err), ctx));
    }
  });
  const deleteAccount = h('button', { type: 'button', class: 'danger' }, m.me.deleteAccount);
  deleteAccount.addEventListener('click', async () => {
    if (!confirm(m.me.deleteAccountConfirm)) return;
    faceMsg.replaceChildren();
    try {
      await api('DELETE', ROUTES.me);
      ctx.setMe(null);
      ctx.flash(m.me.accountDeleted);
      ctx.navigate('/', { replace: true });
    } catch (err) {
      faceMsg.append(problemBox(problemFrom(err), ctx));
    }
  });

  const logins = h('div', { class: 'logins-wrap' }, h('p', {}, m.common.loading));
  root.append(
    h('h1', {}, m.me.title),
    h('section', { 'aria-labelledby': 'acc-h' }, h('h2', { id: 'acc-h' }, m.me.account), form),
    h('section', { 'aria-labelledby': 'log-h' }, h('h2', { id: 'log-h' }, m.me.recentLogins), logins),
    h(
      'section',
      { 'aria-labelledby': 'face-h' },
      h('h2', { id: 'face-h' }, m.me.face),
      faceStatus,
      h(
        'div',
        { class: 'actions' },
        h('a', { href: '/enroll', 'data-link': '', class: 'button' }, m.me.reEnroll),
        deleteFace,
        deleteAccount,
      ),
      faceMsg,
    ),
    passkeysSection(ctx, me),
  );
  if (location.hash === '#passkeys') root.querySelector('#passkeys')?.scrollIntoView();

  recentLogins().then(
    (events) => logins.replaceChildren(loginsTable(events, ctx)),
    () => logins.replaceChildren(h('p', { class: 'muted' }, m.me.loginsUnavailable)),
  );
};

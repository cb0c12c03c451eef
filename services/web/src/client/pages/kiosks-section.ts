/**
 * "Kiosks" on the admin page: trust this browser as a kiosk (it receives an httpOnly device
 * cookie the page never sees), list the trusted devices, revoke one.
 */
import type { TrustedDevice, TrustedDeviceResponse, TrustedDevicesResponse } from '@faceline/contracts';
import { format } from '../i18n/index.js';
import { api } from '../lib/api.js';
import { adminDevice, ROUTES } from '../lib/contracts.js';
import type { AppContext } from '../lib/context.js';
import { field, h } from '../lib/dom.js';
import { problemBox, problemFrom } from '../lib/ui.js';

function when(iso: string | null, ctx: AppContext): string {
  if (!iso) return ctx.m.admin.never;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(ctx.lang, { dateStyle: 'short', timeStyle: 'short' });
}

export function kiosksSection(ctx: AppContext): { el: HTMLElement; load: () => Promise<void> } {
  const { m } = ctx;
  const listBox = h('div', { class: 'table-wrap' });
  const msg = h('div', { class: 'form-status', role: 'status' });
  const name = field({ label: m.admin.kioskName, name: 'kioskName', value: m.admin.kioskNameDefault, maxlength: 60 });
  const trust = h('button', { type: 'submit', class: 'primary' }, m.admin.trustThisBrowser);
  const form = h('form', { class: 'kiosk-trust', novalidate: true }, name.wrap, h('div', { class: 'actions' }, trust));

  const status = (d: TrustedDevice) =>
    d.revokedAt ? m.admin.revokedStatus : d.current ? `${m.admin.trustedStatus} (${m.admin.thisBrowser})` : m.admin.trustedStatus;

  const row = (d: TrustedDevice) => {
    const revoke = h('button', { type: 'button', class: 'danger', disabled: Boolean(d.revokedAt) }, m.admin.revoke);
    revoke.setAttribute('aria-label', `${m.admin.revoke}: ${d.name}`);
    revoke.addEventListener('click', async () => {
      if (!confirm(format(m.admin.revokeConfirm, { name: d.name }))) return;
      msg.replaceChildren();
      try {
        await api('DELETE', adminDevice(d.id));
        await load();
      } catch (err) {
        msg.append(problemBox(problemFrom(err), ctx));
      }
    });
    return h(
      'tr',
      { 'data-device': d.id, 'data-current': d.current ? 'true' : null, class: d.revokedAt ? 'revoked' : null },
      h('td', {}, d.name),
      h('td', {}, status(d)),
      h('td', {}, when(d.createdAt, ctx)),
      h('td', {}, when(d.lastSeenAt, ctx)),
      h('td', { class: 'row-actions' }, revoke),
    );
  };

  async function load(): Promise<void> {
    try {
      const { devices } = await api<TrustedDevicesResponse>('GET', ROUTES.adminDevices);
      const th = (t: string) => h('th', { scope: 'col' }, t);
      listBox.replaceChildren(
        devices.length
          ? h(
              'table',
              { class: 'kiosks' },
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  th(m.admin.displayName),
                  th(m.admin.status),
                  th(m.admin.trustedSince),
                  th(m.admin.lastSeen),
                  th(m.admin.actions),
                ),
              ),
              h('tbody', {}, ...devices.map(row)),
            )
          : h('p', {}, m.admin.noKiosks),
      );
    } catch (err) {
      listBox.replaceChildren(problemBox(problemFrom(err), ctx, { onRetry: () => void load() }));
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    msg.replaceChildren();
    trust.disabled = true;
    try {
      await api<TrustedDeviceResponse>('POST', ROUTES.adminDevices, { name: name.input.value.trim() || m.admin.kioskNameDefault });
      msg.append(h('p', { class: 'saved' }, m.admin.kioskTrusted));
      await load();
    } catch (err) {
      msg.append(problemBox(problemFrom(err), ctx));
    } finally {
      trust.disabled = false;
    }
  });

  const el = h(
    'section',
    { 'aria-labelledby': 'kiosks-h' },
    h('h2', { id: 'kiosks-h' }, m.admin.kiosks),
    h('p', {}, m.admin.kiosksIntro),
    listBox,
    form,
    msg,
  );
  return { el, load };
}

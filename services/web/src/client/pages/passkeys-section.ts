/**
 * "Passkeys" on the personal page: list, add, remove. Adding one needs a fresh face login; when
 * the server says so (REAUTH_REQUIRED), the person signs in with their face and comes back here.
 */
import type { MeResponse, Passkey, PasskeyOptionsResponse, PasskeyResponse, PasskeysResponse } from '@faceline/contracts';
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/browser';
import { format } from '../i18n/index.js';
import { api } from '../lib/api.js';
import { mePasskey, ROUTES } from '../lib/contracts.js';
import type { AppContext } from '../lib/context.js';
import { field, h } from '../lib/dom.js';
import { createPasskey, needsReauth, passkeysSupported, reauthPath } from '../lib/passkeys.js';
import { problemBox, problemFrom } from '../lib/ui.js';

function when(iso: string | null, ctx: AppContext): string {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(ctx.lang, { dateStyle: 'medium', timeStyle: 'short' });
}

export function passkeysSection(ctx: AppContext, me: MeResponse): HTMLElement {
  const { m } = ctx;
  const listBox = h('div', { class: 'table-wrap' }, h('p', {}, m.common.loading));
  const msg = h('div', { class: 'form-status', role: 'status' });
  const name = field({ label: m.me.passkeyName, name: 'passkeyName', value: m.me.passkeyNameDefault, maxlength: 60 });
  const add = h('button', { type: 'submit', class: 'primary' }, m.me.addPasskey);
  const form = h('form', { class: 'passkey-add', novalidate: true }, name.wrap, h('div', { class: 'actions' }, add));
  const supported = passkeysSupported();
  if (!supported) {
    add.disabled = true;
    name.input.disabled = true;
  }

  const row = (p: Passkey) => {
    const remove = h('button', { type: 'button', class: 'danger' }, m.me.removePasskey);
    remove.setAttribute('aria-label', `${m.me.removePasskey}: ${p.name}`);
    remove.addEventListener('click', async () => {
      if (!confirm(format(m.me.removePasskeyConfirm, { name: p.name }))) return;
      msg.replaceChildren();
      try {
        await api('DELETE', mePasskey(p.id));
        msg.append(h('p', { class: 'saved' }, m.me.passkeyRemoved));
        await load();
      } catch (err) {
        msg.append(problemBox(problemFrom(err), ctx));
      }
    });
    return h(
      'tr',
      { 'data-passkey': p.name },
      h('td', {}, p.name),
      h('td', {}, when(p.createdAt, ctx)),
      h('td', {}, when(p.lastUsedAt, ctx)),
      h('td', { class: 'row-actions' }, remove),
    );
  };

  async function load(): Promise<void> {
    try {
      const { passkeys } = await api<PasskeysResponse>('GET', ROUTES.mePasskeys);
      const th = (t: string) => h('th', { scope: 'col' }, t);
      listBox.replaceChildren(
        passkeys.length
          ? h(
              'table',
              { class: 'passkeys' },
              h('thead', {}, h('tr', {}, th(m.admin.displayName), th(m.me.passkeyCreated), th(m.me.passkeyLastUsed), th(m.admin.actions))),
              h('tbody', {}, ...passkeys.map(row)),
            )
          : h('p', {}, m.me.noPasskeys),
      );
    } catch (err) {
      listBox.replaceChildren(problemBox(problemFrom(err), ctx, { onRetry: () => void load() }));
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    msg.replaceChildren();
    add.disabled = true;
    try {
      let options: PasskeyOptionsResponse;
      try {
        options = await api<PasskeyOptionsResponse>('POST', ROUTES.mePasskeyOptions, {});
      } catch (err) {
        // only right after a face login: sign in with the face, then come back here
        if (needsReauth(err)) return ctx.navigate(reauthPath(me.user.username, '/me#passkeys'));
        throw err;
      }
      const response = await createPasskey(options.options as PublicKeyCredentialCreationOptionsJSON);
      const label = name.input.value.trim() || m.me.passkeyNameDefault;
      await api<PasskeyResponse>('POST', ROUTES.mePasskeys, { name: label, response });
      msg.append(h('p', { class: 'saved' }, m.me.passkeyAdded));
      await load();
    } catch (err) {
      msg.append(problemBox(problemFrom(err), ctx, { onRetry: () => form.requestSubmit() }));
    } finally {
      add.disabled = !supported;
    }
  });

  void load();
  return h(
    'section',
    { id: 'passkeys', 'aria-labelledby': 'pk-h' },
    h('h2', { id: 'pk-h' }, m.me.passkeys),
    h('p', {}, m.me.passkeysIntro),
    supported ? null : h('p', { class: 'muted' }, m.me.passkeysUnsupported),
    listBox,
    form,
    msg,
  );
}

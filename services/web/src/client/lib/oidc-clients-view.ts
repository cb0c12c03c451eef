/** The administration page's read-only list of applications registered for "Sign in with Faceline". */
import type { OIDC_ROUTES, OidcClientsResponse } from '@faceline/contracts';
import { api } from './api.js';
import type { AppContext } from './context.js';
import { h } from './dom.js';
import { problemBox, problemFrom } from './ui.js';

const ADMIN_CLIENTS = '/api/v1/admin/oidc/clients' satisfies (typeof OIDC_ROUTES)['adminClients'];

export function oidcClientsSection(ctx: AppContext): { el: HTMLElement; load: () => Promise<void> } {
  const { m } = ctx;
  const body = h('div', { class: 'table-wrap' });
  const el = h(
    'section',
    { 'aria-labelledby': 'oidc-h', class: 'oidc-clients' },
    h('h2', { id: 'oidc-h' }, m.authorize.clientsTitle),
    body,
  );
  const load = async () => {
    try {
      const res = await api<OidcClientsResponse>('GET', ADMIN_CLIENTS);
      if (!res.enabled) return void body.replaceChildren(h('p', {}, m.authorize.clientsOff));
      const th = (t: string) => h('th', { scope: 'col' }, t);
      const facts = h(
        'dl',
        { class: 'facts' },
        h('dt', {}, m.authorize.issuer),
        h('dd', {}, h('code', {}, res.issuer ?? '')),
        h('dt', {}, m.authorize.discovery),
        h('dd', {}, h('a', { href: res.discoveryUrl ?? '#' }, res.discoveryUrl ?? '')),
      );
      const rows = res.clients.map((c) =>
        h(
          'tr',
          { 'data-client': c.clientId },
          h('td', {}, h('code', {}, c.clientId)),
          h('td', {}, c.name),
          h('td', {}, c.type),
          h('td', {}, c.loginMode === 'identify' ? m.authorize.modeIdentify : m.authorize.modeVerify),
          h('td', {}, c.firstParty ? m.common.yes : m.common.no),
          h('td', {}, ...c.redirectUris.map((u) => h('div', {}, h('code', {}, u)))),
        ),
      );
      body.replaceChildren(
        facts,
        rows.length
          ? h(
              'table',
              {},
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  th(m.authorize.clientId),
                  th(m.authorize.clientName),
                  th(m.authorize.clientType),
                  th(m.authorize.loginMode),
                  th(m.authorize.firstParty),
                  th(m.authorize.redirectUris),
                ),
              ),
              h('tbody', {}, ...rows),
            )
          : h('p', {}, m.authorize.noClients),
      );
    } catch (err) {
      body.replaceChildren(problemBox(problemFrom(err), ctx));
    }
  };
  return { el, load };
}

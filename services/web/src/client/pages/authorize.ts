/**
 * "Sign in with Faceline": another application (an OpenID Connect client) sent the person here
 * through auth's provider (`/authorize?uid=…`). The page runs the ordinary face login — 1:1 with
 * a user name, or face only when the application is a kiosk — and hands the result back to the
 * provider, which returns the person to the application. Third-party applications ask for
 * consent here too.
 */
import type { ClientConfig, InteractionDetails, InteractionRedirect, OIDC_ROUTES } from '@faceline/contracts';
import type { LoginState } from '../flows/login.js';
import { format } from '../i18n/index.js';
import { api } from '../lib/api.js';
import type { AppContext, Page } from '../lib/context.js';
import { USERNAME_PATTERN } from '../lib/contracts.js';
import { field, h, setFieldError } from '../lib/dom.js';
import { createFaceView } from '../lib/face-view.js';
import { runLogin, type FlowHandle } from '../lib/face-flows.js';
import { showLoginState } from '../lib/login-view.js';
import { problemBox, problemFrom } from '../lib/ui.js';

// checked against the contract's own functions (see lib/contracts.ts for why they are not imported)
const base = (uid: string) => `/oidc/interaction/${encodeURIComponent(uid)}`;
const details = ((uid: string) => `${base(uid)}/details`) satisfies (typeof OIDC_ROUTES)['interactionDetails'];
const finishLogin = ((uid: string) => `${base(uid)}/login`) satisfies (typeof OIDC_ROUTES)['interactionLogin'];
const consent = ((uid: string) => `${base(uid)}/consent`) satisfies (typeof OIDC_ROUTES)['interactionConsent'];
const abort = ((uid: string) => `${base(uid)}/abort`) satisfies (typeof OIDC_ROUTES)['interactionAbort'];

/** Back to the provider, which sends the browser on to the application. */
async function proceed(url: string, root: HTMLElement, ctx: AppContext, onRetry?: () => void): Promise<void> {
  try {
    const next = await api<InteractionRedirect>('POST', url, {});
    location.assign(next.redirectTo);
  } catch (err) {
    root.querySelector('.authorize-status')?.replaceChildren(problemBox(problemFrom(err), ctx, { onRetry }));
  }
}

function cancelButton(uid: string, root: HTMLElement, ctx: AppContext): HTMLButtonElement {
  return h('button', { type: 'button', class: 'link', onclick: () => void proceed(abort(uid), root, ctx) }, ctx.m.authorize.cancel);
}

function consentView(root: HTMLElement, ctx: AppContext, d: InteractionDetails): void {
  const { m } = ctx;
  const name = d.client.name;
  ctx.setTitle(format(m.authorize.consentTitle, { name }));
  const allow = h(
    'button',
    { type: 'button', class: 'primary big', onclick: () => void proceed(consent(d.uid), root, ctx) },
    m.authorize.allow,
  );
  root.append(
    h('h1', {}, format(m.authorize.consentTitle, { name })),
    h('p', { class: 'lead' }, format(m.authorize.consentIntro, { name })),
    h('ul', { class: 'scopes' }, ...d.scopes.map((s) => h('li', { 'data-scope': s }, m.authorize.scopes[s] ?? s))),
    h(
      'div',
      { class: 'actions' },
      allow,
      h('button', { type: 'button', onclick: () => void proceed(abort(d.uid), root, ctx) }, m.authorize.deny),
    ),
    h('div', { class: 'authorize-status' }),
  );
  allow.focus();
}

function loginView(root: HTMLElement, ctx: AppContext, d: InteractionDetails): () => void {
  const { m } = ctx;
  const name = d.client.name;
  ctx.setTitle(format(m.authorize.title, { name }));
  const kiosk = d.mode === 'identify';
  const view = createFaceView(m.camera.preview, { large: kiosk });
  const status = h('div', { class: 'flow-status authorize-status' });
  const username = field({
    label: m.login.username,
    name: 'username',
    required: true,
    autocomplete: 'username',
    value: d.loginHint ?? '',
    maxlength: 64,
  });
  const submit = h('button', { type: 'submit', class: 'primary big' }, m.authorize.useFace);
  const form = h('form', { novalidate: true, class: 'login-form' }, kiosk ? null : username.wrap, h('div', { class: 'actions' }, submit));
  let flow: FlowHandle<LoginState> | undefined;

  const finish = () => {
    status.replaceChildren(h('p', { class: 'success', role: 'status' }, format(m.authorize.returning, { name })));
    void proceed(finishLogin(d.uid), root, ctx, () => form.requestSubmit());
  };

  const show = (state: LoginState) => {
    root.dataset.phase = state.phase;
    const running = state.phase !== 'idle' && state.phase !== 'failed' && state.phase !== 'success';
    view.setActive(running);
    username.input.disabled = running;
    submit.disabled = running;
    status.replaceChildren();
    showLoginState(state, view, ctx);
    if (state.phase === 'failed') {
      view.update({ hint: '' });
      status.append(problemBox(state.problem, ctx, { onRetry: () => form.requestSubmit(), kiosk }));
    }
    if (state.phase === 'success') {
      view.update({ hint: '' });
      finish();
    }
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const u = username.input.value.trim().toLowerCase();
    if (!kiosk && !new RegExp(USERNAME_PATTERN).test(u)) {
      setFieldError(username, m.register.usernameInvalid);
      username.input.focus();
      return;
    }
    setFieldError(username, null);
    flow?.stop();
    status.replaceChildren();
    let config: ClientConfig;
    try {
      config = await ctx.config();
    } catch (err) {
      status.append(problemBox(problemFrom(err), ctx, { onRetry: () => form.requestSubmit() }));
      return;
    }
    flow = runLogin({ video: view.video, config, start: kiosk ? { mode: 'identify' } : { mode: 'verify', username: u }, onChange: show });
  });

  root.append(
    h('h1', {}, format(m.authorize.title, { name })),
    h('p', { class: 'lead' }, format(kiosk ? m.authorize.kioskIntro : m.authorize.intro, { name })),
  );
  if (d.signedIn) {
    // signed in to Faceline already, recently enough for this application: no new scan needed
    root.append(
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          { type: 'button', class: 'primary big', 'data-continue': '', onclick: finish },
          format(m.authorize.continueAs, { name: d.signedIn.displayName }),
        ),
      ),
      h('p', { class: 'aside' }, m.authorize.notYou),
    );
  }
  root.append(form, view.el, status, h('p', { class: 'aside' }, cancelButton(d.uid, root, ctx)));
  (d.signedIn ? root.querySelector<HTMLButtonElement>('[data-continue]') : kiosk || d.loginHint ? submit : username.input)?.focus();
  return () => flow?.stop();
}

export const page: Page = async (root, ctx) => {
  const { m } = ctx;
  ctx.setTitle(m.common.signIn);
  const uid = new URLSearchParams(location.search).get('uid');
  if (!uid) {
    root.append(h('h1', {}, m.common.signIn), h('p', { class: 'lead' }, m.authorize.missingRequest));
    return;
  }
  let d: InteractionDetails;
  try {
    d = await api<InteractionDetails>('GET', details(uid));
  } catch (err) {
    root.append(h('h1', {}, m.common.signIn), problemBox(problemFrom(err), ctx));
    return;
  }
  root.dataset.prompt = d.prompt;
  if (d.prompt === 'consent') return consentView(root, ctx, d);
  return loginView(root, ctx, d);
};

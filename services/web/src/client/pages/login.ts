import type { LoginState } from '../flows/login.js';
import { format } from '../i18n/index.js';
import type { Page } from '../lib/context.js';
import type { ClientConfig } from '@faceline/contracts';
import { USERNAME_PATTERN } from '../lib/contracts.js';
import { field, h, setFieldError } from '../lib/dom.js';
import { createFaceView } from '../lib/face-view.js';
import { runLogin, type FlowHandle } from '../lib/face-flows.js';
import { problemBox, problemFrom } from '../lib/ui.js';
import { showLoginState } from '../lib/login-view.js';
import { safeNext } from '../lib/passkeys.js';

export const page: Page = (root, ctx) => {
  const { m } = ctx;
  ctx.setTitle(m.login.title);
  const params = new URLSearchParams(location.search);
  const preset = params.get('u') ?? '';
  // sent here to show the face again before a change (a new face, a passkey, administration)
  const next = safeNext(params.get('next'));
  const reauth = params.get('reauth') === '1' && next !== null;
  const username = field({
    label: m.login.username,
    name: 'username',
    required: true,
    autocomplete: 'username',
    value: preset,
    maxlength: 64,
  });
  const submit = h('button', { type: 'submit', class: 'primary big' }, m.login.start);
  const form = h('form', { novalidate: true, class: 'login-form' }, username.wrap, h('div', { class: 'actions' }, submit));
  const view = createFaceView(m.camera.preview);
  const status = h('div', { class: 'flow-status' });
  root.append(
    h('h1', {}, m.login.title),
    h('p', { class: 'lead' }, reauth ? m.login.reauthIntro : m.login.intro),
    form,
    view.el,
    status,
    h('p', { class: 'aside' }, h('a', { href: '/register', 'data-link': '' }, m.login.noAccount)),
  );

  let flow: FlowHandle<LoginState> | undefined;

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
      status.append(problemBox(state.problem, ctx, { onRetry: () => form.requestSubmit() }));
    }
    if (state.phase === 'success') {
      view.update({ hint: '' });
      ctx.flash(
        reauth
          ? m.me.reauthDone
          : format(m.login.welcome, { name: state.user.displayName }) + (state.profile.greeting ? ` ${state.profile.greeting}` : ''),
      );
      void ctx.refreshMe().then(() => ctx.navigate(next ?? '/me', { replace: true }));
    }
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const u = username.input.value.trim().toLowerCase();
    if (!new RegExp(USERNAME_PATTERN).test(u)) {
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
    flow = runLogin({ video: view.video, config, start: { mode: 'verify', username: u }, onChange: show });
  });

  (preset ? submit : username.input).focus();
  return () => flow?.stop();
};

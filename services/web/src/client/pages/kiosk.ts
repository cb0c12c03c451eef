/**
 * Face-only sign-in for shared terminals: one big button to start (browsers need a tap
 * before going full screen), then it scans, greets and resets by itself. No typing
 * anywhere, every target is large enough for gloves.
 */
import type { LoginState } from '../flows/login.js';
import { format } from '../i18n/index.js';
import { api } from '../lib/api.js';
import { ROUTES } from '../lib/contracts.js';
import type { Page } from '../lib/context.js';
import { h } from '../lib/dom.js';
import { createFaceView } from '../lib/face-view.js';
import { runLogin, type FlowHandle } from '../lib/face-flows.js';
import { problemBox, problemFrom } from '../lib/ui.js';
import { showLoginState } from '../lib/login-view.js';

const WELCOME_SECONDS = 10;
const AFTER_FAILURE_MS = 5000;

export const page: Page = (root, ctx) => {
  const { m } = ctx;
  ctx.setTitle(m.kiosk.title);
  root.classList.add('kiosk');
  const view = createFaceView(m.camera.preview, { large: true });
  const startBtn = h('button', { type: 'button', class: 'primary huge' }, m.kiosk.tapToStart);
  const status = h('div', { class: 'flow-status' });
  const exit = h('a', { href: '/', 'data-link': '', class: 'button kiosk-exit' }, m.kiosk.exit);
  const title = h('h1', {}, m.kiosk.lookAtCamera);
  root.append(title, startBtn, view.el, status, exit);

  let flow: FlowHandle<LoginState> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const later = (ms: number, fn: () => void) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!stopped) fn();
    }, ms);
  };

  const signOutAndRestart = async () => {
    try {
      await api('POST', ROUTES.logout, {});
    } catch {
      /* next person starts anyway */
    }
    ctx.setMe(null);
    scan();
  };

  const show = (state: LoginState) => {
    root.dataset.phase = state.phase;
    const running = state.phase !== 'idle' && state.phase !== 'failed' && state.phase !== 'success';
    view.setActive(running);
    startBtn.hidden = true;
    status.replaceChildren();
    showLoginState(state, view, ctx);
    if (state.phase === 'failed') {
      view.update({ hint: '' });
      const p = state.problem;
      status.append(problemBox(p, ctx, { onRetry: () => scan(), kiosk: true }));
      // Camera problems need a person to act; recognition failures clear themselves for the next try.
      if (p.kind !== 'camera') later(AFTER_FAILURE_MS, scan);
    }
    title.hidden = state.phase === 'success';
    if (state.phase === 'success') {
      view.update({ hint: '' });
      void ctx.refreshMe();
      let left = WELCOME_SECONDS;
      const count = h('p', { class: 'countdown' }, format(m.kiosk.nextPerson, { n: left }));
      status.append(
        h(
          'div',
          { class: 'success welcome', role: 'status' },
          h('h2', {}, format(m.kiosk.welcome, { name: state.user.displayName })),
          state.profile.greeting ? h('p', { class: 'greeting' }, state.profile.greeting) : null,
          state.profile.station ? h('p', { class: 'station' }, state.profile.station) : null,
        ),
        h('div', { class: 'actions' }, h('a', { href: '/me', 'data-link': '', class: 'button primary huge' }, m.kiosk.openMyPage)),
        count,
      );
      const tick = () => {
        left -= 1;
        count.textContent = format(m.kiosk.nextPerson, { n: Math.max(0, left) });
        if (left <= 0) void signOutAndRestart();
        else later(1000, tick);
      };
      later(1000, tick);
    }
  };

  function scan(): void {
    clearTimeout(timer);
    flow?.stop();
    ctx.config().then(
      (config) => {
        if (!stopped) flow = runLogin({ video: view.video, config, start: { mode: 'identify' }, onChange: show });
      },
      (err: unknown) => {
        startBtn.hidden = true;
        status.replaceChildren(problemBox(problemFrom(err), ctx, { onRetry: () => scan(), kiosk: true }));
        later(AFTER_FAILURE_MS, scan);
      },
    );
  }

  startBtn.addEventListener('click', () => {
    document.documentElement.requestFullscreen?.().catch(() => undefined);
    scan();
  });

  return () => {
    stopped = true;
    clearTimeout(timer);
    flow?.stop();
    if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined);
  };
};

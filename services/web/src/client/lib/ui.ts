/** Shared pieces of the pages: problem messages with a way forward. */
import { h } from './dom.js';
import type { AppContext } from './context.js';
import { describeProblem, formatDuration, type Problem } from './problems.js';

/** role=alert box with title, explanation and the buttons that help. */
export function problemBox(problem: Problem, ctx: AppContext, actions: { onRetry?: () => void; kiosk?: boolean } = {}): HTMLElement {
  const d = describeProblem(problem, ctx.m);
  const buttons = h('div', { class: 'actions' });
  const box = h(
    'div',
    { class: 'problem', role: 'alert', 'data-problem': problem.kind === 'camera' ? `camera:${problem.camera}` : problem.code },
    h('h2', { class: 'problem-title' }, d.title),
    h('p', {}, d.message),
    buttons,
  );
  const link = (path: string, label: string, primary = false) =>
    h('a', { href: path, 'data-link': '', class: primary ? 'button primary' : 'button' }, label);

  const retryHelps = d.next === 'retry' || d.next === 'wait' || d.next === 'contact-admin' || d.next === 'register';
  // In the kiosk trying again is always offered: it is the only way forward without typing.
  if (actions.onRetry && (retryHelps || actions.kiosk)) {
    const retry = h('button', { type: 'button', class: 'primary', onclick: () => actions.onRetry?.() }, ctx.m.common.retry);
    buttons.append(retry);
    if (d.next === 'wait' && d.retryAfterMs) {
      // Counting down keeps "locked out for 2 min" honest while the page stays open.
      const until = Date.now() + d.retryAfterMs;
      retry.disabled = true;
      const tick = () => {
        const left = until - Date.now();
        if (left <= 0 || !box.isConnected) {
          retry.disabled = false;
          retry.textContent = ctx.m.common.retry;
          return;
        }
        retry.textContent = `${ctx.m.common.retry} (${formatDuration(left, ctx.m)})`;
        setTimeout(tick, 1000);
      };
      tick();
    }
  }
  // The kiosk keeps people on the kiosk (no typing, its own exit button).
  if (actions.kiosk) return box;
  if (d.next === 'sign-in') buttons.append(link('/login', ctx.m.common.signIn, true));
  if (d.next === 'register') buttons.append(link('/register', ctx.m.common.register, !actions.onRetry));
  buttons.append(link('/', ctx.m.common.home));
  return box;
}

export function problemFrom(err: unknown): Problem {
  const p = (err as { problem?: Problem } | null)?.problem;
  return p ?? { kind: 'client', code: 'UNKNOWN' };
}

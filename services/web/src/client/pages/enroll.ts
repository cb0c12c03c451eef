import type { ClientConfig, EnrollmentTicketResponse } from '@faceline/contracts';
import type { EnrollState } from '../flows/enrollment.js';
import { enrollProgress } from '../flows/enrollment.js';
import { format } from '../i18n/index.js';
import { api } from '../lib/api.js';
import { ROUTES } from '../lib/contracts.js';
import type { Page } from '../lib/context.js';
import { h } from '../lib/dom.js';
import { createFaceView } from '../lib/face-view.js';
import { runEnrollment, type FlowHandle } from '../lib/face-flows.js';
import { problemBox, problemFrom } from '../lib/ui.js';
import { clearTicket, loadTicket } from '../lib/ticket.js';
import { needsReauth, reauthPath } from '../lib/passkeys.js';

export const page: Page = (root, ctx) => {
  const { m } = ctx;
  ctx.setTitle(m.enroll.title);
  const view = createFaceView(m.camera.preview);
  const status = h('div', { class: 'flow-status' });
  const startBtn = h('button', { type: 'button', class: 'primary big' }, m.camera.start);
  const controls = h('div', { class: 'actions' }, startBtn);
  root.append(h('h1', {}, m.enroll.title), h('p', { class: 'lead' }, m.enroll.intro), view.el, status, controls);

  let flow: FlowHandle<EnrollState> | undefined;

  const show = (state: EnrollState) => {
    root.dataset.phase = state.phase;
    const active = state.phase === 'connecting' || state.phase === 'capturing' || state.phase === 'finishing';
    view.setActive(active || state.phase === 'camera');
    controls.hidden = state.phase !== 'idle';
    status.replaceChildren();
    switch (state.phase) {
      case 'camera':
        view.update({ hint: m.camera.starting });
        break;
      case 'connecting':
        view.update({ hint: m.camera.connecting });
        break;
      case 'capturing': {
        const label = format(m.enroll.progress, { n: state.accepted, total: state.required });
        const first = state.feedback.find((c) => c !== 'CAPTURED' && c !== 'STEP_DONE') ?? state.feedback[0];
        if (state.current)
          view.update({
            step: state.current,
            feedback: state.feedback,
            hint: m.steps[state.current],
            progress: enrollProgress(state),
            progressLabel: label,
            face: state.face,
          });
        else
          view.update({
            feedback: state.feedback,
            hint: first ? m.feedback[first] : m.login.scanning,
            progress: enrollProgress(state),
            progressLabel: label,
            face: state.face,
          });
        status.append(h('p', { class: 'progress-text' }, label));
        break;
      }
      case 'finishing':
        view.update({
          tone: 'done',
          hint: m.login.checking,
          progress: 1,
          progressLabel: format(m.enroll.progress, { n: state.accepted, total: state.required }),
        });
        break;
      case 'done': {
        clearTicket();
        view.update({ hint: '' });
        const signedIn = ctx.me();
        status.append(
          h('div', { class: 'success', role: 'status' }, h('h2', {}, m.enroll.done), h('p', {}, m.enroll.doneMessage)),
          h(
            'div',
            { class: 'actions' },
            signedIn
              ? h('a', { href: '/me', 'data-link': '', class: 'button primary' }, m.common.myPage)
              : h(
                  'a',
                  { href: `/login?u=${encodeURIComponent(state.user.username)}`, 'data-link': '', class: 'button primary' },
                  m.common.signIn,
                ),
          ),
        );
        if (signedIn) void ctx.refreshMe();
        break;
      }
      case 'failed':
        view.update({ hint: '' });
        status.append(problemBox(state.problem, ctx, { onRetry: () => void start() }));
        break;
      default:
        break;
    }
  };

  async function ticket(): Promise<string | undefined> {
    const stored = loadTicket();
    if (stored) return stored.ticket;
    if (ctx.me()) {
      const res = await api<EnrollmentTicketResponse>('POST', ROUTES.meEnrollmentTicket, {});
      return res.enrollmentTicket;
    }
    return undefined;
  }

  async function start(): Promise<void> {
    flow?.stop();
    status.replaceChildren();
    let t: string | undefined;
    try {
      t = await ticket();
    } catch (err) {
      // a new face needs the person, just now: a face login first, then back here
      const me = ctx.me();
      if (needsReauth(err) && me) return ctx.navigate(reauthPath(me.user.username, '/enroll'));
      status.append(problemBox(problemFrom(err), ctx, { onRetry: () => void start() }));
      return;
    }
    if (!t) {
      controls.hidden = true;
      status.append(
        h(
          'div',
          { class: 'problem', role: 'alert', 'data-problem': 'NO_TICKET' },
          h('p', {}, m.enroll.noTicket),
          h(
            'div',
            { class: 'actions' },
            h('a', { href: '/register', 'data-link': '', class: 'button primary' }, m.common.register),
            h('a', { href: '/login', 'data-link': '', class: 'button' }, m.common.signIn),
          ),
        ),
      );
      return;
    }
    let config: ClientConfig;
    try {
      config = await ctx.config();
    } catch (err) {
      status.append(problemBox(problemFrom(err), ctx, { onRetry: () => void start() }));
      return;
    }
    flow = runEnrollment({ video: view.video, config, ticket: t, onChange: show });
  }

  startBtn.addEventListener('click', () => void start());
  return () => flow?.stop();
};

import type { RegisterResponse } from '@faceline/contracts';
import { api, ApiError } from '../lib/api.js';
import { ROUTES, USERNAME_PATTERN } from '../lib/contracts.js';
import type { Page } from '../lib/context.js';
import { field, h, setFieldError } from '../lib/dom.js';
import { describeProblem } from '../lib/problems.js';
import { problemBox, problemFrom } from '../lib/ui.js';
import { saveTicket } from '../lib/ticket.js';

/**
 * The operator's one-time setup link (`/register?setup=…`, printed by auth while no administrator
 * exists) makes this registration the first administrator. The token is taken out of the address
 * bar at once, so it stays out of the history and of screenshots.
 */
function takeSetupToken(): string | undefined {
  const params = new URLSearchParams(location.search);
  const token = params.get('setup')?.trim();
  if (params.has('setup')) {
    params.delete('setup');
    const rest = params.toString();
    history.replaceState(history.state, '', `${location.pathname}${rest ? `?${rest}` : ''}`);
  }
  return token || undefined;
}

export const page: Page = (root, ctx) => {
  const { m } = ctx;
  ctx.setTitle(m.register.title);
  const setupToken = takeSetupToken();
  const username = field({
    label: m.register.username,
    name: 'username',
    help: m.register.usernameHelp,
    required: true,
    autocomplete: 'username',
    maxlength: 32,
  });
  const displayName = field({
    label: m.register.displayName,
    name: 'displayName',
    help: m.register.displayNameHelp,
    required: true,
    autocomplete: 'name',
    maxlength: 80,
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, m.register.submit);
  const status = h('div', { class: 'form-status' });
  const form = h(
    'form',
    { novalidate: true },
    username.wrap,
    displayName.wrap,
    h('p', { class: 'note' }, m.register.cameraNote),
    h('div', { class: 'actions' }, submit),
    status,
  );

  username.input.addEventListener('input', () => {
    const lower = username.input.value.toLowerCase();
    if (lower !== username.input.value) username.input.value = lower;
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.replaceChildren();
    const u = username.input.value.trim();
    const d = displayName.input.value.trim();
    const okUser = new RegExp(USERNAME_PATTERN).test(u);
    const okName = d.length > 0 && d.length <= 80;
    setFieldError(username, okUser ? null : m.register.usernameInvalid);
    setFieldError(displayName, okName ? null : m.register.displayNameInvalid);
    if (!okUser) return username.input.focus();
    if (!okName) return displayName.input.focus();
    submit.disabled = true;
    try {
      const res = await api<RegisterResponse>('POST', ROUTES.register, {
        username: u,
        displayName: d,
        ...(setupToken ? { setupToken } : {}),
      });
      saveTicket(res.enrollmentTicket, res.enrollmentTicketExpiresAt, res.user.displayName);
      ctx.navigate('/enroll');
    } catch (err) {
      const problem = problemFrom(err);
      if (
        err instanceof ApiError &&
        problem.kind === 'server' &&
        problem.code === 'INVALID_CHARACTERS' &&
        problem.details?.field === 'displayName'
      ) {
        setFieldError(displayName, describeProblem(problem, m).message);
        displayName.input.focus();
      } else if (
        err instanceof ApiError &&
        problem.kind === 'server' &&
        (problem.code === 'USERNAME_TAKEN' || problem.code === 'VALIDATION_FAILED' || problem.code === 'INVALID_CHARACTERS')
      ) {
        setFieldError(username, describeProblem(problem, m).message);
        username.input.focus();
      } else status.replaceChildren(problemBox(problem, ctx, { onRetry: () => form.requestSubmit() }));
    } finally {
      submit.disabled = false;
    }
  });

  root.append(
    h('h1', {}, m.register.title),
    h('p', { class: 'lead' }, m.register.intro),
    ...(setupToken ? [h('p', { class: 'note setup-note', role: 'note' }, m.register.setupNote)] : []),
    form,
  );
  username.input.focus();
};

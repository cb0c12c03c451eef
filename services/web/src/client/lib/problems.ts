/**
 * Everything that can go wrong, in one shape, and how it is put into words with a way
 * forward. Pure: the unit tests run it for every code in both languages.
 */
import type { ErrorCode } from '@faceline/contracts';
import type { CameraProblem, ClientCode, Explained, Messages } from '../i18n/index.js';
import { format } from '../i18n/index.js';

export type Problem =
  | { kind: 'camera'; camera: CameraProblem }
  | { kind: 'server'; code: string; retryable?: boolean; details?: Record<string, unknown> }
  | { kind: 'client'; code: ClientCode };

/** What the page offers next to the message. */
export type NextStep = 'retry' | 'wait' | 'sign-in' | 'register' | 'contact-admin' | 'home';

export interface Described extends Explained {
  next: NextStep;
  /** milliseconds until trying again makes sense, when the server said so */
  retryAfterMs?: number;
}

const SIGN_IN_AGAIN = new Set<string>(['UNAUTHENTICATED', 'TOKEN_EXPIRED', 'TOKEN_INVALID', 'SESSION_REVOKED']);

export function serverProblem(error: { code: string; retryable?: boolean; details?: Record<string, unknown> }): Problem {
  return { kind: 'server', code: error.code, retryable: error.retryable, details: error.details };
}

/** retryAfterMs from the details, or the distance to an ISO time in lockedUntil / backoffUntil / until. */
export function retryAfter(details: Record<string, unknown> | undefined, now: number): number | undefined {
  if (!details) return undefined;
  const ms = details.retryAfterMs;
  if (typeof ms === 'number' && Number.isFinite(ms) && ms > 0) return ms;
  const secs = details.retryAfterSeconds;
  if (typeof secs === 'number' && Number.isFinite(secs) && secs > 0) return secs * 1000;
  for (const key of ['lockedUntil', 'backoffUntil', 'until']) {
    const v = details[key];
    if (typeof v === 'string') {
      const t = Date.parse(v);
      if (Number.isFinite(t) && t > now) return t - now;
    }
  }
  return undefined;
}

/** "45 s", "3 min", "2 h" — rounded up, so a countdown never says 0 while still waiting. */
export function formatDuration(ms: number, m: Messages): string {
  const s = Math.max(1, Math.ceil(ms / 1000));
  if (s < 60) return format(m.common.seconds, { n: s });
  const min = Math.ceil(s / 60);
  if (min < 60) return format(m.common.minutes, { n: min });
  return format(m.common.hours, { n: Math.ceil(min / 60) });
}

function isErrorCode(code: string, m: Messages): code is ErrorCode {
  return Object.hasOwn(m.errors, code);
}

export function describeProblem(problem: Problem, m: Messages, now = Date.now()): Described {
  if (problem.kind === 'camera') {
    return {
      ...m.cameraProblems[problem.camera],
      next: problem.camera === 'insecure' || problem.camera === 'unsupported' ? 'home' : 'retry',
    };
  }
  if (problem.kind === 'client') return { ...m.clientErrors[problem.code], next: 'retry' };

  const { code } = problem;
  if (!isErrorCode(code, m)) return { ...m.clientErrors.UNKNOWN, next: 'retry' };
  const base = m.errors[code];
  const wait = retryAfter(problem.details, now);
  const withWait = (next: NextStep): Described =>
    wait !== undefined
      ? { title: base.title, message: `${base.message} ${format(m.retryIn, { time: formatDuration(wait, m) })}`, next, retryAfterMs: wait }
      : { ...base, next };

  if (code === 'ACCOUNT_LOCKED') return withWait(wait !== undefined ? 'wait' : 'contact-admin');
  if (code === 'BACKOFF' || code === 'RATE_LIMITED') return withWait('wait');
  if (SIGN_IN_AGAIN.has(code) || code === 'REAUTH_REQUIRED') return { ...base, next: 'sign-in' };
  if (code === 'STEP_UP_REQUIRED') return { ...base, next: 'home' };
  if (code === 'NOT_ENROLLED' || code === 'FACE_UNKNOWN') return { ...base, next: 'register' };
  if (code === 'FORBIDDEN') return { ...base, next: 'home' };
  return withWait('retry');
}

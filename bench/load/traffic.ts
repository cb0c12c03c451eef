/**
 * Load generation: closed-loop virtual users (each does one face login after another), an
 * open-loop arrival stream (logins started at a fixed rate whatever the system does, for the
 * overload phase), and background page and token-check traffic. Every loop ends at its deadline
 * or when the run's request budget is spent, whichever comes first.
 */
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { AUTH_ROUTES } from '@faceline/contracts';
import { faceLogin, http, type LoginAttempt } from './client.js';

export interface EnrolledUser {
  username: string;
  identity: string;
  /** frames of a photo the user was not enrolled with */
  loginFrames: Buffer[];
  templateCount: number;
}

export interface LoginEvent {
  /** ms since the run started, at the end of the login */
  t: number;
  ms: number;
  ok: boolean;
  code?: string;
  retryable?: boolean;
  phase: string;
  replica: string;
  restarts: number;
  frameErrors: string[];
  frames: number;
  stages: LoginAttempt['stages'];
}

export interface HttpEvent {
  t: number;
  ms: number;
  ok: boolean;
  code?: string;
  retryable?: boolean;
  kind: 'page' | 'healthz' | 'token';
  phase: string;
}

export interface IssuedSession {
  accessToken: string;
  refreshToken?: string;
  replica: string;
  username: string;
  at: number;
}

export class Budget {
  used = 0;
  constructor(readonly max: number) {}
  take(n = 1): boolean {
    if (this.used + n > this.max) return false;
    this.used += n;
    return true;
  }
  get exhausted(): boolean {
    return this.used >= this.max;
  }
}

export class Recorder {
  readonly t0 = performance.now();
  logins: LoginEvent[] = [];
  http: HttpEvent[] = [];
  sessions: IssuedSession[] = [];
  phase = 'setup';
  marks: { t: number; label: string }[] = [];

  now(): number {
    return performance.now() - this.t0;
  }

  mark(label: string): void {
    this.marks.push({ t: this.now(), label });
  }

  login(a: LoginAttempt, username: string): void {
    this.logins.push({
      t: this.now(),
      ms: a.ms,
      ok: a.ok,
      code: a.code,
      retryable: a.retryable,
      phase: this.phase,
      replica: a.replica,
      restarts: a.restarts,
      frameErrors: a.frameErrors,
      frames: a.frames,
      stages: a.stages,
    });
    if (a.ok && a.session) {
      this.sessions.push({
        accessToken: a.session.accessToken,
        refreshToken: a.session.refreshToken,
        replica: a.session.replica,
        username,
        at: this.now(),
      });
      if (this.sessions.length > 2000) this.sessions.splice(0, 1000);
    }
  }
}

export interface LoadContext {
  base: string;
  users: EnrolledUser[];
  rec: Recorder;
  budget: Budget;
}

let nextUser = 0;
/**
 * Accounts in a login right now, per installation (`base`): auth allows one live login per
 * account in one database, as one person has one face (sites of a plant each have their own).
 */
const busy = new Set<string>();

/** The next account that is not logging in already at `base`, or undefined when all are. */
function pickUser(base: string, users: EnrolledUser[]): EnrolledUser | undefined {
  if (users.length === 0) throw new Error('no enrolled users to log in with');
  for (let k = 0; k < users.length; k++) {
    const u = users[nextUser++ % users.length] as EnrolledUser;
    if (!busy.has(`${base} ${u.username}`)) {
      busy.add(`${base} ${u.username}`);
      return u;
    }
  }
  return undefined;
}

function release(base: string, u: EnrolledUser): void {
  busy.delete(`${base} ${u.username}`);
}

/** `vus` virtual users, each logging in again as soon as its previous login ended, until `until` (performance.now()). */
export async function closedLoop(ctx: LoadContext, vus: number, until: number, opts: { stop?: () => boolean } = {}): Promise<void> {
  const loop = async () => {
    while (performance.now() < until && !opts.stop?.() && ctx.budget.take()) {
      let u = pickUser(ctx.base, ctx.users);
      // more virtual users than people: wait for someone to finish
      while (!u && performance.now() < until) {
        await new Promise((r) => setTimeout(r, 25));
        u = pickUser(ctx.base, ctx.users);
      }
      if (!u) break;
      const a = await faceLogin(ctx.base, u.username, u.loginFrames, { timeoutMs: 15_000 }).finally(() => release(ctx.base, u));
      ctx.rec.login(a, u.username);
      // a failed login backs off briefly, as a person would look at the message before trying again
      if (!a.ok) await new Promise((r) => setTimeout(r, 250));
    }
  };
  await Promise.all(Array.from({ length: vus }, loop));
}

/**
 * Logins started at `ratePerSecond` regardless of how fast the system answers (a crowd arriving
 * at terminals). At most `maxInFlight` at once: arrivals beyond that are counted, not started, so
 * the generator itself stays bounded.
 */
export async function openLoop(
  ctx: LoadContext,
  ratePerSecond: number,
  until: number,
  maxInFlight: number,
): Promise<{ started: number; skipped: number }> {
  let inFlight = 0;
  let started = 0;
  let skipped = 0;
  const running: Promise<void>[] = [];
  const interval = 1000 / ratePerSecond;
  let next = performance.now();
  while (performance.now() < until) {
    const wait = next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    next += interval;
    if (inFlight >= maxInFlight || !ctx.budget.take()) {
      skipped++;
      continue;
    }
    const u = pickUser(ctx.base, ctx.users);
    if (!u) {
      // everyone is logging in already: one person cannot start a second login
      skipped++;
      continue;
    }
    inFlight++;
    started++;
    const p = faceLogin(ctx.base, u.username, u.loginFrames, { timeoutMs: 15_000, maxRestarts: 1 })
      .then((a) => ctx.rec.login(a, u.username))
      .finally(() => {
        inFlight--;
        release(ctx.base, u);
      });
    running.push(p);
    if (running.length > 4 * maxInFlight) await Promise.race(running.splice(0, maxInFlight));
  }
  await Promise.all(running);
  return { started, skipped };
}

/**
 * Page loads and token checks beside the logins: the page (web's `/`, or the browser
 * configuration it fetches first when the run has no web replica), `/healthz`, and what another
 * line application does with a token: fetch the JWKS and verify the token with jose.
 */
export async function backgroundTraffic(
  ctx: LoadContext & { pagePath: string; issuer: string; audience: string },
  until: number,
  perSecond = 6,
): Promise<void> {
  const { rec } = ctx;
  let i = 0;
  while (performance.now() < until && ctx.budget.take()) {
    const tick = performance.now();
    const which = i++ % 3;
    if (which === 0) {
      const r = await http(ctx.base, 'GET', ctx.pagePath, { timeoutMs: 5000 });
      rec.http.push({ t: rec.now(), ms: r.ms, ok: r.ok, code: r.code, retryable: r.retryable, kind: 'page', phase: rec.phase });
    } else if (which === 1) {
      const r = await http(ctx.base, 'GET', AUTH_ROUTES.healthz, { timeoutMs: 5000 });
      rec.http.push({ t: rec.now(), ms: r.ms, ok: r.ok, code: r.code, retryable: r.retryable, kind: 'healthz', phase: rec.phase });
    } else {
      const s = rec.sessions.at(-1 - (i % Math.max(1, Math.min(20, rec.sessions.length))));
      if (s) {
        const started = performance.now();
        const r = await http<JSONWebKeySet>(ctx.base, 'GET', AUTH_ROUTES.jwks, { timeoutMs: 5000 });
        let ok = r.ok && !!r.body;
        let code = r.code;
        if (ok && r.body) {
          try {
            await jwtVerify(s.accessToken, createLocalJWKSet(r.body), { issuer: ctx.issuer, audience: ctx.audience });
          } catch (e) {
            ok = false;
            code = (e as { code?: string }).code ?? 'JWT_INVALID';
          }
        }
        rec.http.push({ t: rec.now(), ms: performance.now() - started, ok, code, retryable: r.retryable, kind: 'token', phase: rec.phase });
      }
    }
    const wait = 1000 / perSecond - (performance.now() - tick);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

/**
 * The simulated plant as an experiment: a hub and two sites, each with its own PostgreSQL 15,
 * vision and auth in its own network namespace, the sites behind uplink relays that delay and cut.
 *
 *   npm run bench:sites            full run (about 5 minutes) → docs/sites-report.md (+ .svg charts)
 *   npm run bench:sites:quick      short run (under 2 minutes), also the system test test/sites/plant.test.ts
 *   node --conditions=source --import tsx bench/sites/run.ts [--quick] [--no-report] [--out file] [--json file]
 *
 * Phases: logins at both sites with the links up; site A's uplink cut (logins go on at both
 * sites, enrollment at A is attempted, the hub enrolls and deletes meanwhile); the link back
 * (catch-up, nothing lost or doubled, the slot survived); replication lag and deletion latency
 * from the hub to both sites; login latency against WAN delay for today's layout (site auth on
 * the cloud database) and the site copy; and site B past its staleness limit.
 *
 * Figures are printed and written; they never fail the run. The functional checks (logins go on,
 * clear errors, nothing lost or doubled, replication recovers) do: exit code 1.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { io } from 'socket.io-client';
import { AUTH_ROUTES, SOCKET_PATH, isAckError, type AckResponse, type RegisterResponse } from '@faceline/contracts';
import { REPO_ROOT } from '@faceline/testkit';
import { enroll, faceLogin, http, register, type LoginAttempt } from '../load/client.js';
import { preparePeople, type Person } from '../load/faces.js';
import { cleanupAll, installExitHandlers, machineCpu, sleep } from '../load/procs.js';
import { fmt, percentile } from '../load/report.js';
import { Budget, Recorder, closedLoop, type EnrolledUser, type LoadContext } from '../load/traffic.js';
import { Plant, SETUP_TOKEN, SITE_NAMES, type Station } from './plant.js';
import { writeReport, type Check, type SitesResult } from './report.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: 'docs/sites-report.md' },
    'no-report': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const QUICK = args.quick === true;
const P = QUICK
  ? {
      rotation: 3,
      reserve: 2,
      vus: 2,
      baseMs: 8000,
      cutMs: 15_000,
      afterMs: 6000,
      cycles: 4,
      delays: [0, 50],
      wanLogins: 6,
      staleB: 6,
      catchUpMaxMs: 60_000,
    }
  : {
      rotation: 6,
      reserve: 3,
      vus: 2,
      baseMs: 30_000,
      cutMs: 60_000,
      afterMs: 30_000,
      cycles: 20,
      delays: [0, 10, 25, 50],
      wanLogins: 20,
      staleB: 20,
      catchUpMaxMs: 120_000,
    };

const recA = new Recorder();
const recB = new Recorder();
const t0 = performance.now();
const now = () => performance.now() - t0;
const checks: Check[] = [];
const log = (msg: string) => console.log(`[${(now() / 1000).toFixed(1).padStart(6)}s] ${msg}`);

function check(phase: string, name: string, ok: boolean, detail: string): void {
  checks.push({ phase, name, ok, detail });
  log(`${ok ? 'PASS' : 'FAIL'} ${name}: ${detail}`);
}

const stats = (ms: number[]) => {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), max: s.length ? (s.at(-1) as number) : NaN };
};

// ---------------------------------------------------------------- people

interface Enrolled {
  user: EnrolledUser;
  id: string;
  person: Person;
  enrolledWith: number;
}

/** Unique per person and run: identities can share their first letters (anon_human_emotions_a and _b). */
const usernameOf = (person: Person, tag: string) => {
  const clean = person.identity.replace(/[^a-z0-9]/gi, '').toLowerCase();
  return `${clean.slice(0, 10)}${clean.slice(-3)}.${tag}`.slice(0, 32);
};

/** Register and enroll at `base`, trying the person's photos in turn until one passes the quality gates. */
async function enrollAt(base: string, person: Person, username: string, setupToken?: string): Promise<Enrolled | undefined> {
  let reg: RegisterResponse;
  try {
    reg = await register(base, username, person.identity, setupToken);
  } catch (e) {
    log(`register ${username} failed: ${(e as Error).message}`);
    return undefined;
  }
  for (let i = 0; i < person.photos.length; i++) {
    const r = await enroll(base, reg.enrollmentTicket, (person.photos[i] as Person['photos'][number]).frames).catch(() => ({
      ok: false,
      templateCount: 0,
    }));
    if (r.ok) {
      const other = person.photos.find((_, j) => j !== i);
      return {
        user: { username, identity: person.identity, loginFrames: other?.frames ?? [], templateCount: r.templateCount ?? 0 },
        id: reg.user.id,
        person,
        enrolledWith: i,
      };
    }
  }
  return undefined;
}

/** The first photo the person was not enrolled with that logs them in at `base`. */
async function loginPhoto(base: string, e: Enrolled, mode: 'verify' | 'identify' = 'verify'): Promise<Buffer[] | undefined> {
  for (const [j, photo] of e.person.photos.entries()) {
    if (j === e.enrolledWith) continue;
    const a = await faceLogin(base, e.user.username, photo.frames, { exchange: mode === 'identify', mode });
    if (a.ok && (mode === 'verify' || a.session?.user.username === e.user.username)) return photo.frames;
  }
  return undefined;
}

async function adminToken(hubUrl: string, admin: EnrolledUser): Promise<string> {
  const a = await faceLogin(hubUrl, admin.username, admin.loginFrames);
  if (!a.ok || !a.session) throw new Error(`the administrator could not log in at the hub (${a.code})`);
  return a.session.accessToken;
}

async function deleteAtHub(hubUrl: string, token: string, id: string): Promise<void> {
  const r = await http(hubUrl, 'DELETE', AUTH_ROUTES.adminUser(id), { headers: { authorization: `Bearer ${token}` } });
  if (r.status !== 204) throw new Error(`deleting ${id} at the hub: ${r.status} ${r.code}`);
}

/** Until `fn` says yes or `ms` pass; the elapsed ms, or NaN. */
async function waitFor(fn: () => Promise<boolean>, ms: number, every = 50): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < ms) {
    if (await fn().catch(() => false)) return performance.now() - started;
    await sleep(every);
  }
  return NaN;
}

/** login:start only: what the site says about an account before any frame (USER_NOT_FOUND once deleted). */
async function loginStartCode(base: string, username: string): Promise<string | undefined> {
  const socket = io(base, { path: SOCKET_PATH, forceNew: true, reconnection: false, transports: ['websocket'], timeout: 5000 });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const r = await (socket.timeout(5000) as unknown as { emitWithAck(e: string, p: unknown): Promise<AckResponse<unknown>> }).emitWithAck(
      'login:start',
      { mode: 'verify', username },
    );
    return isAckError(r) ? r.error.code : undefined;
  } finally {
    socket.close();
  }
}

async function enrollStartCode(base: string, ticket: string): Promise<{ code: string | undefined; retryable: boolean; ms: number }> {
  const started = performance.now();
  const socket = io(base, { path: SOCKET_PATH, forceNew: true, reconnection: false, transports: ['websocket'], timeout: 5000 });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const r = await (
      socket.timeout(15_000) as unknown as { emitWithAck(e: string, p: unknown): Promise<AckResponse<unknown>> }
    ).emitWithAck('enroll:start', { ticket });
    return {
      code: isAckError(r) ? r.error.code : undefined,
      retryable: isAckError(r) && r.error.retryable === true,
      ms: performance.now() - started,
    };
  } finally {
    socket.close();
  }
}

// ---------------------------------------------------------------- observations in the databases

async function auditIds(s: Station, from: Date, to: Date): Promise<string[]> {
  const { rows } = await s.db.query(`SELECT id::text AS id FROM audit_events WHERE at >= $1 AND at < $2 AND site = $3 ORDER BY id`, [
    from,
    to,
    siteOf(s),
  ]);
  return rows.map((r) => r.id as string);
}

async function sessionIds(s: Station, from: Date, to: Date): Promise<string[]> {
  const { rows } = await s.db.query(`SELECT id::text AS id FROM sessions WHERE created_at >= $1 AND created_at < $2 ORDER BY id`, [
    from,
    to,
  ]);
  return rows.map((r) => r.id as string);
}

const siteOf = (s: Station) => (s.loc.name === 'hub' ? '' : SITE_NAMES[s.loc.name]);

async function stalenessAt(s: Station): Promise<number> {
  const { rows } = await s.db.query(`SELECT extract(epoch FROM now() - at)::float8 AS s FROM replication_heartbeat WHERE id = 1`);
  return rows[0] ? Number(rows[0].s) : Infinity;
}

async function slot(hub: Station, name: string): Promise<{ active: boolean; restartLsn: string; lagBytes: number } | undefined> {
  const { rows } = await hub.db.query(
    `SELECT active, restart_lsn::text AS r, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::float8 AS lag FROM pg_replication_slots WHERE slot_name = $1`,
    [name],
  );
  return rows[0] ? { active: Boolean(rows[0].active), restartLsn: String(rows[0].r), lagBytes: Number(rows[0].lag) } : undefined;
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  installExitHandlers();
  const runId = new Date().toISOString().replace(/\D/g, '').slice(4, 12);
  const dir = path.join(REPO_ROOT, 'artifacts', 'sites', `run-${runId}`);
  mkdirSync(dir, { recursive: true });
  log(`plant run ${runId} (${QUICK ? 'quick' : 'full'}), working folder ${path.relative(REPO_ROOT, dir)}`);
  const m0 = machineCpu();

  const plant = new Plant({ dir, log, staleLimitSeconds: { a: 86_400, b: P.staleB } });
  await plant.start();
  const hub = plant.hub;
  const A = plant.stations.a;
  const B = plant.stations.b;
  const result: SitesResult = {
    quick: QUICK,
    runId,
    network: plant.topo.mode,
    startedAt: new Date().toISOString(),
    machine: {
      cores: os.availableParallelism(),
      cpu: os.cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? '?',
      memoryGiB: os.totalmem() / 2 ** 30,
      node: process.version,
    },
    settings: { ...P, staleA: 86_400 },
    phases: {},
    checks,
    timeline: { a: recA, b: recB },
    marks: [],
    windows: [],
  };
  const mark = (label: string) => result.marks.push({ t: recA.now(), label });
  /** the chart's shaded phases: each starts where the one before ends */
  const window = (label: string) => {
    const last = result.windows.at(-1);
    if (last && last.to === undefined) last.to = recA.now();
    if (label) result.windows.push({ label, from: recA.now(), to: undefined });
  };

  // ---- people: enrolled at the hub, log in at the sites
  const people = await preparePeople(hub.vision.url, P.rotation + P.reserve + 2);
  log(`face set: ${people.length} people with ≥2 usable photos`);
  if (people.length < 4) throw new Error('too few usable people in the face set');
  const rotationPeople = people.slice(0, P.rotation);
  const reservePeople = people.slice(P.rotation, P.rotation + P.reserve);
  const [newcomer, leaver] = people.slice(P.rotation + P.reserve);
  const enrolled: Enrolled[] = [];
  for (const person of rotationPeople) {
    // the first account at the hub is its administrator, made so by the operator's setup token
    const e = await enrollAt(hub.auth.url, person, usernameOf(person, runId), enrolled.length === 0 ? SETUP_TOKEN : undefined);
    if (e) enrolled.push(e);
  }
  if (!enrolled.length) throw new Error('nobody could be enrolled at the hub (see the logs)');
  const ids = enrolled.map((e) => e.id);
  const arrivedMs = await waitFor(async () => {
    for (const s of [A, B]) {
      const { rows } = await s.db.query('SELECT count(DISTINCT user_id)::int AS n FROM face_templates WHERE user_id = ANY($1::uuid[])', [
        ids,
      ]);
      if (Number(rows[0]?.n) !== ids.length) return false;
    }
    return true;
  }, 30_000);
  log(`enrolled ${enrolled.length} people at the hub; at both sites after ${fmt(arrivedMs)} ms`);
  const users: EnrolledUser[] = [];
  for (const e of enrolled) {
    const frames = await loginPhoto(A.auth.url, e);
    if (frames) users.push({ ...e.user, loginFrames: frames });
  }
  log(`${users.length} of them log in at site A with a photo they were not enrolled with`);
  if (!users.length) throw new Error('nobody logs in at site A: nothing to measure');
  const admin =
    users.find((u) => u.username === enrolled[0]?.user.username) ??
    (() => {
      throw new Error('the administrator (first account) cannot log in');
    })();

  // reserve people for the lag and deletion cycles: a login photo that works (1:1 and, if it does, at the kiosk)
  const reserve: { person: Person; enrolledWith: number; frames: Buffer[]; kiosk: boolean }[] = [];
  {
    const token = await adminToken(hub.auth.url, admin);
    for (const person of reservePeople) {
      const e = await enrollAt(hub.auth.url, person, usernameOf(person, `c${runId}`));
      if (!e) continue;
      const frames = await loginPhoto(hub.auth.url, e);
      const kiosk = frames ? (await loginPhoto(hub.auth.url, e, 'identify')) !== undefined : false;
      if (frames) reserve.push({ person, enrolledWith: e.enrolledWith, frames, kiosk });
      await deleteAtHub(hub.auth.url, token, e.id);
    }
    log(
      `${reserve.length} more people for the lag and deletion cycles (${reserve.filter((r) => r.kiosk).length} recognised at the kiosk too)`,
    );
  }

  const budget = new Budget(1_000_000);
  const ctxA: LoadContext = { base: A.auth.url, users, rec: recA, budget };
  const ctxB: LoadContext = { base: B.auth.url, users, rec: recB, budget };
  const load = async (ms: number, phase: string, sites: ('a' | 'b')[] = ['a', 'b']) => {
    recA.phase = phase;
    recB.phase = phase;
    const until = performance.now() + ms;
    await Promise.all([
      sites.includes('a') ? closedLoop(ctxA, P.vus, until) : undefined,
      sites.includes('b') ? closedLoop(ctxB, P.vus, until) : undefined,
    ]);
  };
  const phaseEvents = (rec: Recorder, phase: string) => rec.logins.filter((e) => e.phase === phase);
  const summary = (rec: Recorder, phase: string) => {
    const ev = phaseEvents(rec, phase);
    const ok = ev.filter((e) => e.ok);
    const errors: Record<string, number> = {};
    for (const e of ev) if (!e.ok) errors[e.code ?? '?'] = (errors[e.code ?? '?'] ?? 0) + 1;
    return { attempts: ev.length, ok: ok.length, ...stats(ok.map((e) => e.ms)), errors };
  };

  // ---- 1. links up
  log(`--- links up: ${P.vus} virtual users at each site for ${P.baseMs / 1000} s`);
  window('links up');
  await load(P.baseMs, 'up');
  const upA = summary(recA, 'up');
  const upB = summary(recB, 'up');
  log(
    `site A: ${upA.ok}/${upA.attempts} logins, p50 ${fmt(upA.p50)} ms, p95 ${fmt(upA.p95)} ms; site B: ${upB.ok}/${upB.attempts}, p95 ${fmt(upB.p95)} ms`,
  );

  // ---- 2. site A's uplink cut
  const pending = await register(A.auth.url, `pending.${runId}`, 'Pending enrollment');
  const leaverEnrolled = leaver ? await enrollAt(hub.auth.url, leaver, usernameOf(leaver, `l${runId}`)) : undefined;
  if (leaverEnrolled) {
    await waitFor(
      async () =>
        Number((await A.db.query('SELECT count(*)::int AS n FROM face_templates WHERE user_id = $1', [leaverEnrolled.id])).rows[0]?.n) > 0,
      30_000,
    );
  }
  const leaverFrames = leaverEnrolled ? await loginPhoto(A.auth.url, leaverEnrolled) : undefined;
  const slotName = `faceline_identity_${SITE_NAMES.a.replace(/-/g, '_')}`;
  const slotBefore = await slot(hub, slotName);
  const token = await adminToken(hub.auth.url, admin);
  log(`--- site A's uplink cut for ${P.cutMs / 1000} s; logins go on at both sites`);
  const cutFrom = new Date();
  window('A cut off');
  mark('cut A');
  plant.uplinks.a.cut();
  const cutAt = performance.now();
  const slotSamples: { t: number; present: boolean; active: boolean | undefined; lagBytes: number | undefined }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const s = await slot(hub, slotName).catch(() => undefined);
      slotSamples.push({ t: performance.now() - cutAt, present: s !== undefined, active: s?.active, lagBytes: s?.lagBytes });
      await sleep(1000);
    }
  })();
  const during: Record<string, unknown> = {};
  let newcomerE: Enrolled | undefined;
  const events = (async () => {
    await sleep(Math.min(5000, P.cutMs * 0.2));
    // what only the hub may do, attempted at the cut-off site
    const reg = await http<RegisterResponse>(A.auth.url, 'POST', AUTH_ROUTES.register, {
      json: { username: `cutoff.${runId}`, displayName: 'Registered while cut off' },
      timeoutMs: 20_000,
    });
    during.register = {
      status: reg.status,
      code: reg.code,
      retryable: reg.retryable,
      retryAfter: reg.headers?.get('retry-after') ?? null,
      ms: reg.ms,
    };
    during.enrollStart = await enrollStartCode(A.auth.url, pending.enrollmentTicket);
    // meanwhile at the hub: a newcomer enrolls, an account is deleted
    if (newcomer) {
      const t = performance.now();
      const e = await enrollAt(hub.auth.url, newcomer, usernameOf(newcomer, `n${runId}`));
      // a photo that logs the newcomer in, tried at the hub (the cut-off site cannot know them yet)
      const frames = e ? await loginPhoto(hub.auth.url, e) : undefined;
      during.newcomer = e
        ? { username: e.user.username, enrolledAfterCutMs: Math.round(t - cutAt), loginPhoto: frames !== undefined }
        : { failed: true };
      if (e && frames) newcomerE = { ...e, user: { ...e.user, loginFrames: frames } };
    }
    if (leaverEnrolled && leaverFrames) {
      await deleteAtHub(hub.auth.url, token, leaverEnrolled.id);
      // the cut-off site cannot know yet: it still logs the account in (the staleness limit bounds this)
      const l = await faceLogin(A.auth.url, leaverEnrolled.user.username, leaverFrames, { exchange: false });
      during.leaver = { username: leaverEnrolled.user.username, loginAtAAfterDeletion: l.ok ? 'succeeded' : l.code };
    }
  })();
  await Promise.all([load(P.cutMs, 'cut'), events]);
  const cutTo = new Date();
  const crossed = await hub.db.query(`SELECT count(*)::int AS n FROM audit_events WHERE site = $1 AND at >= $2`, [SITE_NAMES.a, cutFrom]);
  const aAge = await stalenessAt(A);
  window('link A back');
  mark('link A back');
  plant.uplinks.a.restore();
  const restoreAt = performance.now();
  sampling = false;
  await sampler;
  const cutA = summary(recA, 'cut');
  const cutB = summary(recB, 'cut');
  log(
    `cut: site A ${cutA.ok}/${cutA.attempts} logins (p95 ${fmt(cutA.p95)} ms vs ${fmt(upA.p95)} ms with the link up), site B ${cutB.ok}/${cutB.attempts}`,
  );
  const reg = during.register as { status: number; code?: string; retryable: boolean; retryAfter: string | null; ms: number };
  const es = during.enrollStart as { code?: string; retryable: boolean; ms: number };
  check(
    'cut',
    'site A logs everyone in while its uplink is cut',
    cutA.attempts > 0 && cutA.ok === cutA.attempts,
    `${cutA.ok}/${cutA.attempts} logins succeeded${Object.keys(cutA.errors).length ? `; errors ${JSON.stringify(cutA.errors)}` : ''}`,
  );
  check(
    'cut',
    "site B is not affected by site A's cut",
    cutB.attempts > 0 && cutB.ok === cutB.attempts,
    `${cutB.ok}/${cutB.attempts} logins succeeded`,
  );
  check(
    'cut',
    'the cut isolates site A: nothing it recorded reached the hub, nothing from the hub reached it',
    Number(crossed.rows[0]?.n) === 0 && aAge >= (P.cutMs / 1000) * 0.8,
    `at the end of the cut the hub held ${Number(crossed.rows[0]?.n)} of site A's events from the cut; site A's copy was ${fmt(aAge, 1)} s old`,
  );
  check(
    'cut',
    'enrollment at the cut-off site answers HUB_UNAVAILABLE (retryable)',
    reg.status === 503 && reg.code === 'HUB_UNAVAILABLE' && reg.retryable && es.code === 'HUB_UNAVAILABLE' && es.retryable,
    `registration ${reg.status} ${reg.code} (Retry-After ${reg.retryAfter}) after ${fmt(reg.ms)} ms; enroll:start ${es.code}${es.retryable ? ' (retryable)' : ''} after ${fmt(es.ms)} ms`,
  );
  result.phases.up = { a: upA, b: upB };
  result.phases.cut = { a: cutA, b: cutB, during, slotBefore, slotSamples, p95Ratio: cutA.p95 / upA.p95, copyAgeAtEnd: aAge };

  // ---- 3. the link is back: catch-up
  log('--- link A back: catch-up while logins go on');
  const catchUp: Record<string, number> = {};
  const newcomerFrames = newcomerE?.user.loginFrames;
  const idsAtA = await auditIds(A, cutFrom, cutTo);
  const sessionsAtA = await sessionIds(A, cutFrom, cutTo);
  const watch = (async () => {
    const started = performance.now();
    const done = new Set<string>();
    while (performance.now() - started < P.catchUpMaxMs && done.size < 5) {
      const tick = async (name: string, ok: () => Promise<boolean>) => {
        if (done.has(name)) return;
        // the time the check came back true: an upper bound of when it became true
        if (await ok().catch(() => false)) {
          done.add(name);
          catchUp[name] = performance.now() - restoreAt;
        }
      };
      await Promise.all([
        tick('audit events of the cut at the hub', async () => {
          const { rows } = await hub.db.query(`SELECT count(*)::int AS n FROM audit_events WHERE site = $1 AND id = ANY($2::bigint[])`, [
            SITE_NAMES.a,
            idsAtA,
          ]);
          return Number(rows[0]?.n) === idsAtA.length;
        }),
        tick('sessions of the cut at the hub', async () => {
          const { rows } = await hub.db.query(`SELECT count(*)::int AS n FROM sessions WHERE id = ANY($1::uuid[])`, [sessionsAtA]);
          return Number(rows[0]?.n) === sessionsAtA.length;
        }),
        tick('heartbeat fresh at site A', async () => (await stalenessAt(A)) < 3),
        tick(
          'newcomer enrolled at the hub during the cut logs in at A',
          async () =>
            !newcomerE || !newcomerFrames || (await faceLogin(A.auth.url, newcomerE.user.username, newcomerFrames, { exchange: false })).ok,
        ),
        tick(
          'account deleted at the hub during the cut refused at A',
          async () => !leaverEnrolled || (await loginStartCode(A.auth.url, leaverEnrolled.user.username)) === 'USER_NOT_FOUND',
        ),
      ]);
      await sleep(100);
    }
  })();
  await Promise.all([load(P.afterMs, 'after'), watch]);
  const afterA = summary(recA, 'after');
  const caughtUp = Object.keys(catchUp).length === 5;
  const catchUpMs = caughtUp ? Math.max(...Object.values(catchUp)) : NaN;
  log(
    `caught up after ${fmt(catchUpMs)} ms: ${Object.entries(catchUp)
      .map(([k, v]) => `${k} ${fmt(v)} ms`)
      .join('; ')}`,
  );
  // counted by id, after the fact: the same set at the hub, each id once
  const hubAudit = await hub.db.query(
    `SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM audit_events WHERE site = $1 AND id = ANY($2::bigint[])`,
    [SITE_NAMES.a, idsAtA],
  );
  const hubAuditAll = await hub.db.query(`SELECT count(*)::int AS n FROM audit_events WHERE site = $1 AND at >= $2 AND at < $3`, [
    SITE_NAMES.a,
    cutFrom,
    cutTo,
  ]);
  const hubSessions = await hub.db.query(
    `SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM sessions WHERE id = ANY($1::uuid[])`,
    [sessionsAtA],
  );
  const siteLogins = await A.db.query(
    `SELECT count(*)::int AS n FROM audit_events WHERE type = 'login.succeeded' AND at >= $1 AND at < $2`,
    [cutFrom, cutTo],
  );
  const nAudit = Number(hubAudit.rows[0]?.n);
  const nSessions = Number(hubSessions.rows[0]?.n);
  // the ground truth: every login the load generator completed in the cut (each with a session),
  // plus the one login of the account deleted at the hub (without a session)
  const extraLogins = (during.leaver as { loginAtAAfterDeletion?: string } | undefined)?.loginAtAAfterDeletion === 'succeeded' ? 1 : 0;
  const signIns = Number(siteLogins.rows[0]?.n);
  check(
    'after',
    'every audit event recorded at site A during the cut reached the hub, once',
    idsAtA.length > 0 &&
      signIns === cutA.ok + extraLogins &&
      nAudit === idsAtA.length &&
      Number(hubAudit.rows[0]?.d) === nAudit &&
      Number(hubAuditAll.rows[0]?.n) === idsAtA.length,
    `the load generator completed ${cutA.ok} logins (+${extraLogins} of the deleted account); site A recorded ${signIns} sign-ins among ${idsAtA.length} events; the hub holds ${nAudit} of these ids, ${Number(hubAudit.rows[0]?.d)} distinct, and ${Number(hubAuditAll.rows[0]?.n)} events of site A from that window`,
  );
  check(
    'after',
    'every session issued at site A during the cut reached the hub, once',
    sessionsAtA.length > 0 &&
      sessionsAtA.length === cutA.ok &&
      nSessions === sessionsAtA.length &&
      Number(hubSessions.rows[0]?.d) === nSessions,
    `the load generator exchanged ${cutA.ok} grants for sessions; site A issued ${sessionsAtA.length}; the hub holds ${nSessions}, ${Number(hubSessions.rows[0]?.d)} distinct`,
  );
  const slotAfter = await slot(hub, slotName);
  const slotHeld = slotSamples.length > 0 && slotSamples.every((s) => s.present);
  check(
    'after',
    "the hub kept site A's replication slot through the cut and site A uses it again",
    slotHeld && slotAfter?.active === true,
    `slot ${slotName} present in ${slotSamples.filter((s) => s.present).length}/${slotSamples.length} samples during the cut (active in ${slotSamples.filter((s) => s.active).length}); after: active ${slotAfter?.active}, WAL behind ${fmt(slotAfter?.lagBytes ?? NaN)} bytes`,
  );
  check(
    'after',
    'replication caught up in both directions (new and deleted accounts, heartbeat, site rows)',
    caughtUp,
    caughtUp
      ? `after ${fmt(catchUpMs / 1000, 1)} s`
      : `not within ${P.catchUpMaxMs / 1000} s: missing ${['audit events of the cut at the hub', 'sessions of the cut at the hub', 'heartbeat fresh at site A', 'newcomer enrolled at the hub during the cut logs in at A', 'account deleted at the hub during the cut refused at A'].filter((k) => !(k in catchUp)).join(', ')}`,
  );
  const cutoffAtHub = await hub.db.query(`SELECT count(*)::int AS n FROM users WHERE username = $1`, [`cutoff.${runId}`]);
  check(
    'after',
    'nothing the cut-off site attempted was half-written',
    Number(cutoffAtHub.rows[0]?.n) === 0,
    `the account registered at site A during the cut exists at the hub: ${Number(cutoffAtHub.rows[0]?.n) === 1 ? 'yes' : 'no'}`,
  );
  result.phases.after = {
    a: afterA,
    catchUp,
    catchUpMs,
    audit: { site: idsAtA.length, hub: nAudit, siteSignIns: signIns, clientLogins: cutA.ok, extraLogins },
    sessions: { site: sessionsAtA.length, hub: nSessions },
    slotAfter,
  };

  // ---- 4. replication lag and deletion, hub -> both sites
  log(`--- replication lag and deletion: ${P.cycles} people enrolled and deleted at the hub`);
  window('lag and deletion');
  recA.phase = recB.phase = 'lag';
  const lag: Record<'a' | 'b', number[]> = { a: [], b: [] };
  const visible: Record<'a' | 'b', number[]> = { a: [], b: [] };
  const deletion: Record<'a' | 'b', number[]> = { a: [], b: [] };
  let kioskTried = 0;
  let kioskOk = 0;
  let lagFailures = 0;
  let deletionFailures = 0;
  let hubToken = await adminToken(hub.auth.url, admin);
  for (let i = 0; i < P.cycles && reserve.length; i++) {
    const r = reserve[i % reserve.length] as (typeof reserve)[number];
    const username = usernameOf(r.person, `${i}x${runId}`);
    const reg = await register(hub.auth.url, username, r.person.identity);
    const en = await enroll(hub.auth.url, reg.enrollmentTicket, (r.person.photos[r.enrolledWith] as Person['photos'][number]).frames);
    if (!en.ok) {
      log(`cycle ${i}: enrollment at the hub refused (${en.code}); skipped`);
      continue;
    }
    await Promise.all(
      (['a', 'b'] as const).map(async (s) => {
        const st = plant.stations[s];
        const seen = waitFor(
          async () => {
            const { rows } = await st.db.query('SELECT count(*)::int AS n FROM face_templates WHERE user_id = $1', [reg.user.id]);
            return Number(rows[0]?.n) > 0;
          },
          30_000,
          10,
        ).then((ms) => visible[s].push(ms));
        const ms = await waitFor(async () => (await faceLogin(st.auth.url, username, r.frames, { exchange: false })).ok, 30_000, 20);
        await seen;
        if (Number.isFinite(ms)) lag[s].push(ms);
        else lagFailures++;
      }),
    );
    if (r.kiosk && i < reserve.length) {
      kioskTried++;
      const k = await faceLogin(A.auth.url, '', r.frames, { mode: 'identify' });
      if (k.ok && k.session?.user.username === username) kioskOk++;
    }
    if (i % 5 === 4) hubToken = await adminToken(hub.auth.url, admin);
    await deleteAtHub(hub.auth.url, hubToken, reg.user.id);
    await Promise.all(
      (['a', 'b'] as const).map(async (s) => {
        const ms = await waitFor(async () => (await loginStartCode(plant.stations[s].auth.url, username)) === 'USER_NOT_FOUND', 30_000, 20);
        if (Number.isFinite(ms)) deletion[s].push(ms);
        else deletionFailures++;
      }),
    );
  }
  const lagA = stats(lag.a);
  const lagB = stats(lag.b);
  log(`enrolled at the hub → logs in at site A: p50 ${fmt(lagA.p50)} ms, p95 ${fmt(lagA.p95)} ms; site B p95 ${fmt(lagB.p95)} ms`);
  check(
    'lag',
    'every person enrolled at the hub logs in at both sites',
    lagFailures === 0 && lag.a.length > 0,
    `${lag.a.length + lag.b.length} of ${lag.a.length + lag.b.length + lagFailures} site logins succeeded`,
  );
  check(
    'lag',
    'the kiosk (1:N) at a site recognises people enrolled at the hub',
    kioskTried === 0 || kioskOk === kioskTried,
    `${kioskOk}/${kioskTried} kiosk logins at site A recognised the right person`,
  );
  check(
    'deletion',
    'every account deleted at the hub is refused at both sites',
    deletionFailures === 0 && deletion.a.length > 0,
    `${deletion.a.length + deletion.b.length} of ${deletion.a.length + deletion.b.length + deletionFailures} refusals`,
  );
  result.phases.lag = {
    a: lagA,
    b: lagB,
    visibleA: stats(visible.a),
    visibleB: stats(visible.b),
    kiosk: { tried: kioskTried, ok: kioskOk },
  };
  result.phases.deletion = { a: stats(deletion.a), b: stats(deletion.b) };

  // ---- 5. WAN delay: today's layout against the site copy
  log(`--- WAN delay on uplink A: ${P.delays.join(' / ')} ms one way, ${P.wanLogins} logins per layout and delay`);
  window('WAN delay');
  recA.phase = 'wan';
  const legacy = await plant.startLegacy();
  const legacyUsers: EnrolledUser[] = [];
  for (const u of users.slice(0, 3)) {
    const e = enrolled.find((x) => x.user.username === u.username);
    if (!e) continue;
    const le = await enrollAt(legacy.url, e.person, `${u.username.slice(0, 24)}.old`);
    if (le && (await faceLogin(legacy.url, le.user.username, u.loginFrames, { exchange: false })).ok)
      legacyUsers.push({ ...le.user, loginFrames: u.loginFrames });
  }
  log(`today's layout at site A (auth on the cloud database across the uplink): ${legacyUsers.length} people enrolled`);
  // The delays take turns login by login (each turn in another order), so that whatever else the
  // shared machine does falls on every delay alike. Each layout is measured in its own run of
  // logins: a login right after another one is faster than one after a pause (warm caches), and
  // today's layout pauses for the WAN, which would make the next site-copy login look slower.
  const samples = new Map<number, { old: number[]; copy: number[]; oldFailed: number; copyFailed: number }>(
    P.delays.map((d) => [d, { old: [], copy: [], oldFailed: 0, copyFailed: 0 }]),
  );
  const acc = (d: number) => samples.get(d) as { old: number[]; copy: number[]; oldFailed: number; copyFailed: number };
  const order = (turn: number) => P.delays.map((_, i) => P.delays[(i + turn) % P.delays.length] as number);
  await faceLogin(A.auth.url, (users[0] as EnrolledUser).username, (users[0] as EnrolledUser).loginFrames);
  for (let turn = 0, u = 0; turn < P.wanLogins; turn++) {
    for (const d of order(turn)) {
      plant.uplinks.a.setDelay(d);
      const cu = users[u++ % users.length] as EnrolledUser;
      const b = await faceLogin(A.auth.url, cu.username, cu.loginFrames);
      if (b.ok) acc(d).copy.push(b.ms);
      else acc(d).copyFailed++;
    }
  }
  if (legacyUsers[0]) await faceLogin(legacy.url, legacyUsers[0].username, legacyUsers[0].loginFrames);
  for (let turn = 0; turn < P.wanLogins && legacyUsers.length; turn++) {
    for (const d of order(turn)) {
      plant.uplinks.a.setDelay(d);
      const lu = legacyUsers[turn % legacyUsers.length] as EnrolledUser;
      const a: LoginAttempt = await faceLogin(legacy.url, lu.username, lu.loginFrames);
      if (a.ok) acc(d).old.push(a.ms);
      else acc(d).oldFailed++;
    }
  }
  const wan = P.delays.map((d) => {
    const acc = samples.get(d) as { old: number[]; copy: number[]; oldFailed: number; copyFailed: number };
    const w = { delayMs: d, old: { ...stats(acc.old), failed: acc.oldFailed }, copy: { ...stats(acc.copy), failed: acc.copyFailed } };
    log(`delay ${d} ms: today's layout p50 ${fmt(w.old.p50)} ms (n ${w.old.n}), site copy p50 ${fmt(w.copy.p50)} ms (n ${w.copy.n})`);
    return w;
  });
  plant.uplinks.a.setDelay(0);
  await plant.stopLegacy();
  check(
    'wan',
    'logins succeed at every WAN delay in both layouts',
    wan.every((w) => w.old.failed === 0 && w.copy.failed === 0 && w.copy.n > 0 && (legacyUsers.length === 0 || w.old.n > 0)),
    wan.map((w) => `${w.delayMs} ms: ${w.old.n}/${w.old.n + w.old.failed} and ${w.copy.n}/${w.copy.n + w.copy.failed}`).join('; '),
  );
  result.phases.wan = wan;

  // ---- 6. site B past its staleness limit
  log(`--- site B cut off past its staleness limit (${P.staleB} s)`);
  window('B past its limit');
  mark('cut B');
  plant.uplinks.b.cut();
  const cutBAt = performance.now();
  recB.phase = 'stale';
  const staleUntil = performance.now() + (P.staleB + 6) * 1000;
  await closedLoop({ ...ctxB, users }, 1, staleUntil);
  const staleEvents = phaseEvents(recB, 'stale');
  const firstStale = staleEvents.find((e) => !e.ok && e.code === 'SITE_STALE');
  // when that login started, counted from the cut
  const staleAfterMs = firstStale ? firstStale.t - firstStale.ms - (cutBAt - recB.t0) : NaN;
  mark('link B back');
  plant.uplinks.b.restore();
  const restoreBAt = performance.now();
  const backMs = await waitFor(
    async () =>
      (await faceLogin(B.auth.url, (users[0] as EnrolledUser).username, (users[0] as EnrolledUser).loginFrames, { exchange: false })).ok,
    60_000,
    200,
  );
  const otherCodes = staleEvents.filter((e) => !e.ok && e.code !== 'SITE_STALE');
  check(
    'stale',
    'a site cut off past its limit refuses logins with SITE_STALE (retryable) and logs in again when the link returns',
    firstStale !== undefined && firstStale.retryable === true && otherCodes.length === 0 && Number.isFinite(backMs),
    `${staleEvents.filter((e) => e.ok).length} logins before the limit, first SITE_STALE ${fmt(staleAfterMs / 1000, 1)} s after the cut (limit ${P.staleB} s), other errors: ${otherCodes.length}; logins again ${fmt(backMs)} ms after the link returned`,
  );
  result.phases.stale = {
    limitSeconds: P.staleB,
    okBefore: staleEvents.filter((e) => e.ok).length,
    refused: staleEvents.filter((e) => !e.ok).length,
    firstStaleAfterMs: staleAfterMs,
    backAfterMs: backMs,
  };
  void restoreBAt;
  window('');

  const m1 = machineCpu();
  result.machineBusy = (100 * (m1.busy - m0.busy)) / Math.max(1, m1.total - m0.total);
  result.seconds = now() / 1000;

  if (args.json) writeFileSync(path.resolve(args.json), JSON.stringify({ ...result, timeline: undefined }, null, 2));
  writeFileSync(path.join(dir, 'result.json'), JSON.stringify({ ...result, timeline: undefined }, null, 2));
  if (!args['no-report']) {
    const out = writeReport(result, path.resolve(REPO_ROOT, args.out as string));
    log(`report: ${path.relative(REPO_ROOT, out.md)}, charts: ${out.svgs.map((s) => path.relative(REPO_ROOT, s)).join(', ')}`);
  }
  const failed = checks.filter((c) => !c.ok);
  log(`${checks.length - failed.length} of ${checks.length} checks passed; ${fmt(result.seconds)} s`);
  return failed.length ? 1 : 0;
}

main()
  .then(async (code) => {
    await cleanupAll();
    process.exit(code);
  })
  .catch(async (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    if (args.json) writeFileSync(path.resolve(args.json), JSON.stringify({ error: String(err), checks }, null, 2));
    await cleanupAll();
    process.exit(1);
  });

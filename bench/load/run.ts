/**
 * Load, failover and capacity run of the whole system on this machine:
 *
 *   npm run bench:load            full run (about 5 minutes)
 *   npm run bench:load:quick      short run (about 90 seconds)
 *   node --conditions=source --import tsx bench/load/run.ts [--quick] [--users N]
 *        [--vision-route l4|lb|list] [--no-report] [--out docs/load-report.md] [--json file]
 *
 * Starts PostgreSQL (a private instance), 3 vision and 2 auth replicas and HAProxy on loopback,
 * enrolls people from the shared face set, then drives face logins, page loads and token checks
 * through the balancer in phases: capacity steps, a vision replica killed, an auth replica killed,
 * PostgreSQL restarted, and offered load at twice the measured capacity followed by recovery.
 *
 * Figures are printed and written to docs/load-report.md (+ .svg) and artifacts/load/*.json; they
 * never fail the run. The fault checks (nothing lost, errors retryable, recovery happens) do:
 * the process exits 1 when one fails.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { AUTH_ROUTES, type MeResponse, type ServiceInfo, type SessionResponse } from '@faceline/contracts';
import { REPO_ROOT } from '@faceline/testkit';
import { connectionsWithoutAffinity, enroll, faceLogin, http, register } from './client.js';
import { Cluster, type Replica } from './cluster.js';
import { preparePeople, type Person } from './faces.js';
import { diffStats, serverStats, type ServerStats } from './haproxy.js';
import { cleanupAll, installExitHandlers, machineCpu, sample, sampleSelf, sleep, type ProcSample } from './procs.js';
import { codes, fmt, percentile, renderChart, summarizeHttp, summarizeLogins, table, timeline, type LatencySummary } from './report.js';
import { Budget, backgroundTraffic, closedLoop, openLoop, Recorder, type EnrolledUser, type LoadContext } from './traffic.js';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    users: { type: 'string' },
    'vision-route': { type: 'string', default: 'l4' },
    out: { type: 'string', default: 'docs/load-report.md' },
    'no-report': { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const QUICK = args.quick === true;
const P = QUICK
  ? { users: 5, reserve: 2, steps: [6], stepMs: 8000, faultMs: 9000, pgDownMs: 4000, overloadMs: 7000, recoveryMs: 5000, budget: 4000 }
  : {
      users: 14,
      reserve: 3,
      steps: [2, 4, 8, 12, 16],
      stepMs: 15_000,
      faultMs: 25_000,
      pgDownMs: 8000,
      overloadMs: 20_000,
      recoveryMs: 15_000,
      budget: 20_000,
    };
if (args.users) P.users = Math.max(2, Number(args.users));
const ROUTES = ['lb', 'l4', 'list'] as const;
const VISION_ROUTE: (typeof ROUTES)[number] = ROUTES.find((r) => r === args['vision-route']) ?? 'l4';
if (args['vision-route'] !== VISION_ROUTE) throw new Error(`--vision-route must be lb, l4 or list, got "${args['vision-route']}"`);
const MAX_FRAME_BYTES = 1_048_576;
const VISION_WORKERS = 1;

// ---------------------------------------------------------------- bookkeeping

interface Check {
  phase: string;
  name: string;
  ok: boolean;
  detail: string;
}

interface PhaseResult {
  name: string;
  title: string;
  from: number;
  to: number;
  logins: LatencySummary;
  http: ReturnType<typeof summarizeHttp>;
  cpu: { name: string; percent: number }[];
  rssPeakMiB: { name: string; mib: number }[];
  lb: ServerStats[];
  vision: Record<string, Record<string, number>>;
  figures: Record<string, string | number>;
  notes: string[];
  /** whole machine, all processes (also other users'), % of all cores */
  machineBusy: number;
  /** median ms of each step of the successful logins */
  stages: Record<string, number>;
}

const rec = new Recorder();
const budget = new Budget(P.budget);
const checks: Check[] = [];
const phases: PhaseResult[] = [];
const log = (msg: string) => console.log(`[${(rec.now() / 1000).toFixed(1).padStart(6)}s] ${msg}`);

function check(phase: string, name: string, ok: boolean, detail: string): void {
  checks.push({ phase, name, ok, detail });
  log(`${ok ? 'PASS' : 'FAIL'} ${name}: ${detail}`);
}

/** RSS of every process, every second, for the memory figures and the overload bound. */
const rssSeries: { t: number; name: string; rss: number }[] = [];
function startSampler(cluster: Cluster): () => void {
  const timer = setInterval(() => {
    for (const { name, proc } of cluster.processes()) {
      const s = sample(proc);
      if (s) rssSeries.push({ t: rec.now(), name, rss: s.rssBytes });
    }
    rssSeries.push({ t: rec.now(), name: 'load-generator', rss: sampleSelf().rssBytes });
    if (rssSeries.length > 20_000) rssSeries.splice(0, 5000);
  }, 1000);
  timer.unref();
  return () => clearInterval(timer);
}

function cpuSnapshot(cluster: Cluster): Map<string, ProcSample> {
  const m = new Map<string, ProcSample>();
  for (const { name, proc } of cluster.processes()) {
    const s = sample(proc);
    if (s) m.set(`${name}#${proc.pid}`, s);
  }
  m.set('load-generator#self', sampleSelf());
  return m;
}

function cpuPercent(before: Map<string, ProcSample>, after: Map<string, ProcSample>, seconds: number): { name: string; percent: number }[] {
  const out: { name: string; percent: number }[] = [];
  for (const [key, a] of after) {
    const b = before.get(key);
    // a process restarted during the phase counts from its start
    const used = a.cpuSeconds - (b?.cpuSeconds ?? 0);
    const name = key.split('#')[0] as string;
    const prev = out.find((o) => o.name === name);
    const pct = (100 * used) / seconds;
    if (prev) prev.percent += pct;
    else out.push({ name, percent: pct });
  }
  return out.sort((x, y) => x.name.localeCompare(y.name));
}

/** Analyze requests each vision replica answered, by status code, from its own /metrics. */
async function visionCounters(cluster: Cluster): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  await Promise.all(
    cluster.vision.map(async (r) => {
      try {
        const res = await fetch(`${r.url}/metrics`, { signal: AbortSignal.timeout(3000) });
        const text = await res.text();
        const byStatus: Record<string, number> = {};
        for (const line of text.split('\n')) {
          const m = /^vision_http_requests_total\{([^}]*)\}\s+([\d.e+]+)/.exec(line);
          if (!m || !/route="[^"]*analyze/.test(m[1] as string)) continue;
          const status = /status_code="(\d+)"/.exec(m[1] as string)?.[1] ?? '?';
          byStatus[status] = (byStatus[status] ?? 0) + Number(m[2]);
        }
        out[r.name] = byStatus;
      } catch {
        out[r.name] = {};
      }
    }),
  );
  return out;
}

function diffCounters(a: Record<string, Record<string, number>>, b: Record<string, Record<string, number>>) {
  const out: Record<string, Record<string, number>> = {};
  for (const [name, after] of Object.entries(b)) {
    const before = a[name] ?? {};
    out[name] = {};
    for (const [k, v] of Object.entries(after)) out[name][k] = v - (before[k] ?? 0);
  }
  return out;
}

async function phase(cluster: Cluster, name: string, title: string, body: (p: PhaseResult) => Promise<void>): Promise<PhaseResult> {
  rec.phase = name;
  log(`--- ${title}`);
  const from = rec.now();
  const cpu0 = cpuSnapshot(cluster);
  const lb0 = await serverStats(cluster.opts.dir).catch(() => []);
  const v0 = await visionCounters(cluster);
  const m0 = machineCpu();
  const p: PhaseResult = {
    name,
    title,
    from,
    to: from,
    logins: summarizeLogins([], 0),
    http: summarizeHttp([]),
    cpu: [],
    rssPeakMiB: [],
    lb: [],
    vision: {},
    figures: {},
    notes: [],
    machineBusy: NaN,
    stages: {},
  };
  await body(p);
  p.to = rec.now();
  const m1 = machineCpu();
  p.machineBusy = (100 * (m1.busy - m0.busy)) / Math.max(1, m1.total - m0.total);
  const okEv = rec.logins.filter((e) => e.phase === name && e.ok);
  for (const k of ['connect', 'start', 'frames', 'session'] as const) {
    p.stages[k] = percentile(
      okEv.map((e) => e.stages[k]).sort((a, b) => a - b),
      50,
    );
  }
  p.stages.framesPerLogin = okEv.reduce((n, e) => n + e.frames, 0) / Math.max(1, okEv.length);
  const seconds = (p.to - from) / 1000;
  p.cpu = cpuPercent(cpu0, cpuSnapshot(cluster), seconds);
  p.lb = diffStats(lb0, await serverStats(cluster.opts.dir).catch(() => []));
  p.vision = diffCounters(v0, await visionCounters(cluster));
  p.logins = summarizeLogins(
    rec.logins.filter((e) => e.phase === name),
    seconds,
  );
  p.http = summarizeHttp(rec.http.filter((e) => e.phase === name));
  const peaks = new Map<string, number>();
  for (const s of rssSeries) if (s.t >= from && s.t <= p.to) peaks.set(s.name, Math.max(peaks.get(s.name) ?? 0, s.rss));
  p.rssPeakMiB = [...peaks.entries()].map(([n, v]) => ({ name: n, mib: v / 1048576 })).sort((a, b) => a.name.localeCompare(b.name));
  phases.push(p);
  const l = p.logins;
  log(
    `${name}: ${l.ok} logins ok, ${l.failed} failed, ${fmt(l.perSecond, 2)}/s, p50 ${fmt(l.p50)} ms, p95 ${fmt(l.p95)} ms, p99 ${fmt(l.p99)} ms; errors: ${codes(l.errors)}; machine CPU ${fmt(p.machineBusy)}%; steps ${stageText(p.stages)}`,
  );
  await reviveCrashed(cluster, p);
  return p;
}

function stageText(st: Record<string, number>): string {
  return `connect ${fmt(st.connect ?? NaN)} ms, login:start ${fmt(st.start ?? NaN)} ms, frames ${fmt(st.frames ?? NaN)} ms (${fmt(st.framesPerLogin ?? NaN, 2)}/login), session ${fmt(st.session ?? NaN)} ms`;
}

/**
 * A replica that exited on its own (not killed by the harness) is a finding: it is reported in the
 * phase, counted as a failed check, and started again (as Kubernetes would restart the container)
 * so that the next phase runs on the full set.
 */
const killedOnPurpose = new Set<string>();
async function reviveCrashed(cluster: Cluster, p: PhaseResult): Promise<void> {
  for (const r of [...cluster.vision, ...cluster.auth, ...cluster.web]) {
    if (!r.proc?.exited || killedOnPurpose.has(r.name)) continue;
    const how = r.proc.signal ? `signal ${r.proc.signal}` : `exit code ${r.proc.exitCode}`;
    check(
      p.name,
      `${r.name} keeps running`,
      false,
      `${r.name} exited on its own (${how})${crashCause(cluster, r)}; restarted by the harness`,
    );
    await cluster.startReplica(r);
    await waitServer(cluster, r.kind, r.name, 'UP').catch(() => undefined);
  }
}

/** The error a crashed replica printed last (Node prints the uncaught error and where it was emitted). */
function crashCause(cluster: Cluster, r: Replica): string {
  const file = path.join(cluster.opts.dir, 'logs', `${r.name}.log`);
  try {
    const lines = readFileSync(file, 'utf8').split('\n');
    const at = lines.findLastIndex((l) => /^\w*Error(: |$)/.test(l));
    const emitted = lines.slice(Math.max(0, at)).find((l) => /^Emitted 'error' event on/.test(l));
    const cause = at >= 0 ? `: "${lines[at]?.trim()}"${emitted ? `, ${emitted.trim().replace(/:$/, '')}` : ''}` : '';
    return `${cause} (log: ${path.relative(REPO_ROOT, file)})`;
  } catch {
    return '';
  }
}

async function waitServer(cluster: Cluster, backend: string, server: string, status: 'UP' | 'DOWN', timeoutMs = 15_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const s = (await serverStats(cluster.opts.dir).catch(() => [])).find((x) => x.backend === backend && x.server === server);
    if (s?.status.startsWith(status)) return performance.now() - started;
    await sleep(100);
  }
  throw new Error(`HAProxy did not mark ${backend}/${server} ${status} within ${timeoutMs} ms`);
}

// ---------------------------------------------------------------- enrollment

async function enrollPeople(
  base: string,
  people: Person[],
  runId: string,
): Promise<{ user: EnrolledUser; person: Person; enrolledWith: number }[]> {
  const out: { user: EnrolledUser; person: Person; enrolledWith: number }[] = [];
  const queue = [...people];
  const worker = async () => {
    for (let person = queue.shift(); person; person = queue.shift()) {
      const username = `${person.identity
        .replace(/[^a-z0-9]/gi, '')
        .toLowerCase()
        .slice(0, 18)}.${runId}`.slice(0, 32);
      let reg: Awaited<ReturnType<typeof register>>;
      try {
        reg = await register(base, username, person.identity);
      } catch (e) {
        log(`register ${username} failed: ${(e as Error).message}`);
        continue;
      }
      // enroll from one photo, log in with another; try the next photo when one does not pass the quality gates
      for (let i = 0; i < person.photos.length; i++) {
        const photo = person.photos[i] as Person['photos'][number];
        const r = await enroll(base, reg.enrollmentTicket, photo.frames).catch((e) => ({
          ok: false,
          code: (e as Error).message,
          templateCount: 0,
        }));
        if (r.ok) {
          const others = person.photos.filter((_, j) => j !== i);
          out.push({
            user: { username, identity: person.identity, loginFrames: others[0]?.frames ?? [], templateCount: r.templateCount ?? 0 },
            person,
            enrolledWith: i,
          });
          break;
        }
      }
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return out;
}

/** One login per enrolled user with each photo they were not enrolled with; keeps the first that works. */
async function calibrate(base: string, enrolled: { user: EnrolledUser; person: Person; enrolledWith: number }[]): Promise<EnrolledUser[]> {
  const usable: EnrolledUser[] = [];
  for (const e of enrolled) {
    for (const [j, photo] of e.person.photos.entries()) {
      if (j === e.enrolledWith) continue;
      const a = await faceLogin(base, e.user.username, photo.frames, { exchange: false });
      if (a.ok) {
        usable.push({ ...e.user, loginFrames: photo.frames });
        break;
      }
    }
  }
  return usable;
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  installExitHandlers();
  const runId = new Date().toISOString().replace(/\D/g, '').slice(4, 12);
  const dir = path.join(REPO_ROOT, 'artifacts', 'load', `run-${runId}`);
  mkdirSync(dir, { recursive: true });
  log(`load run ${runId} (${QUICK ? 'quick' : 'full'}), working folder ${path.relative(REPO_ROOT, dir)}`);

  const cluster = new Cluster({
    dir,
    visionReplicas: 3,
    authReplicas: 2,
    visionWorkers: VISION_WORKERS,
    visionRoute: VISION_ROUTE,
    maxFrameBytes: MAX_FRAME_BYTES,
    log,
  });
  await cluster.start();
  const stopSampler = startSampler(cluster);
  const base = cluster.ingressUrl;
  const infoRes = await http<ServiceInfo>(base, 'GET', AUTH_ROUTES.info);
  if (!infoRes.body) throw new Error(`auth ${AUTH_ROUTES.info} did not answer through the balancer (${infoRes.code})`);
  const info = infoRes.body;

  // ---- people and enrollment
  rec.phase = 'enroll';
  rec.mark('enroll');
  const people = await preparePeople(cluster.vision[0]?.url as string, P.users + P.reserve);
  log(`face set: ${people.length} people with ≥2 usable photos`);
  const reserve = people.slice(P.users);
  const enrolledAll = await enrollPeople(base, people.slice(0, P.users), runId);
  log(`enrolled ${enrolledAll.length} of ${Math.min(P.users, people.length)}`);
  const users = await calibrate(base, enrolledAll);
  log(`${users.length} users log in with a photo they were not enrolled with`);
  if (users.length === 0) throw new Error('no user could log in: nothing to load-test (see the auth and vision logs)');
  const acknowledged = new Map<string, number>(enrolledAll.map((e) => [e.user.username, e.user.templateCount]));
  const control = await connectionsWithoutAffinity(base, 6);
  log(`control: ${control.failed} of ${control.tried} long-polling connections without the affinity cookie failed a round trip`);

  const ctx: LoadContext = { base, users, rec, budget };
  const bgCtx = { ...ctx, pagePath: cluster.web.length ? '/' : AUTH_ROUTES.config, issuer: info.issuer, audience: info.audience };
  const withBackground = async (ms: number, fn: (until: number) => Promise<unknown>) => {
    const until = performance.now() + ms;
    await Promise.all([fn(until), backgroundTraffic(bgCtx, until)]);
  };

  // ---- capacity
  let capacity = 0;
  let kneeVus = P.steps[0] as number;
  const steps: Step[] = [];
  for (const vus of P.steps) {
    const p = await phase(cluster, `capacity-${vus}`, `capacity: ${vus} concurrent virtual users`, async () => {
      await withBackground(P.stepMs, (until) => closedLoop(ctx, vus, until));
    });
    steps.push({ vus, s: p.logins, cpu: p.cpu, machineBusy: p.machineBusy, stages: p.stages });
    if (p.logins.perSecond > capacity * 1.05) {
      capacity = p.logins.perSecond;
      kneeVus = vus;
    }
  }
  log(`capacity ≈ ${fmt(capacity, 2)} face logins/s (reached at ${kneeVus} virtual users)`);
  // faults strike at ordinary load (about half of what saturated the system), not at the peak:
  // after losing one of three vision replicas the rest must still be able to carry it
  const faultVus = Math.max(2, Math.ceil(kneeVus / 2));

  // ---- vision replica killed
  const victimV = cluster.vision[1] as Replica;
  const vk = await phase(cluster, 'vision-kill', `fault: ${victimV.name} killed (SIGKILL) under load`, async (p) => {
    const until = performance.now() + P.faultMs;
    let killAt = 0;
    const killer = (async () => {
      await sleep(P.faultMs * 0.3);
      killAt = rec.now();
      rec.mark(`kill ${victimV.name}`);
      killedOnPurpose.add(victimV.name);
      await cluster.kill(victimV);
      log(`${victimV.name} killed`);
      p.figures['balancer marked it DOWN after (ms)'] = Math.round(
        await waitServer(cluster, 'vision', victimV.name, 'DOWN').catch(() => NaN),
      );
      // the orchestrator starts a new container; it joins the rotation while the load goes on
      await sleep(Math.max(0, P.faultMs * 0.6 - (rec.now() - p.from)));
      rec.mark(`start ${victimV.name}`);
      await cluster.startReplica(victimV);
      killedOnPurpose.delete(victimV.name);
    })();
    await Promise.all([withBackground(P.faultMs, (u) => closedLoop(ctx, faultVus, Math.min(u, until))), killer]);
    const after = rec.logins.filter((e) => e.phase === 'vision-kill' && e.t >= killAt);
    const failed = after.filter((e) => !e.ok);
    const frameRetries = after.reduce((n, e) => n + e.frameErrors.length, 0);
    const lateHalf = after.filter((e) => e.t >= killAt + (p.from + P.faultMs - killAt) / 2);
    p.figures['logins after the kill'] = after.length;
    p.figures['failed logins after the kill'] = failed.length;
    p.figures['frames that had to be sent again (login still succeeded or not)'] = frameRetries;
    p.figures['failure window (ms)'] = failed.length ? Math.round((failed.at(-1)?.t ?? 0) - (failed[0]?.t ?? 0)) : 0;
    check(
      'vision-kill',
      'logins keep succeeding after a vision replica dies',
      after.some((e) => e.ok) && lateHalf.filter((e) => e.ok).length >= 0.9 * lateHalf.length,
      `${after.filter((e) => e.ok).length}/${after.length} logins after the kill succeeded; second half: ${lateHalf.filter((e) => e.ok).length}/${lateHalf.length}`,
    );
    check(
      'vision-kill',
      'no login fails with a non-retryable error because of the kill',
      failed.every((e) => e.retryable || e.code === 'FACE_MISMATCH'),
      failed.length ? codes(summarizeLogins(failed, 1).errors) : 'no failures',
    );
  });
  await waitServer(cluster, 'vision', victimV.name, 'UP');
  log(`${victimV.name} back in rotation`);
  const vs = vk.lb.find((x) => x.backend === 'vision' && x.server === victimV.name);
  if (vs && VISION_ROUTE === 'lb')
    vk.figures[`requests HAProxy resent after ${victimV.name} failed them (retries / redispatched to another replica)`] =
      `${vs.wretr} / ${vs.wredis}`;

  // ---- auth replica killed
  const victimA = cluster.auth[0] as Replica;
  const survivor = cluster.auth[1] as Replica;
  await phase(cluster, 'auth-kill', `fault: ${victimA.name} killed (SIGKILL) under load`, async (p) => {
    const until = performance.now() + P.faultMs;
    let killAt = 0;
    const before = rec.logins.length;
    const killer = (async () => {
      await sleep(P.faultMs * 0.3);
      killAt = rec.now();
      rec.mark(`kill ${victimA.name}`);
      killedOnPurpose.add(victimA.name);
      await cluster.kill(victimA);
      log(`${victimA.name} killed`);
      p.figures['balancer marked it DOWN after (ms)'] = Math.round(
        await waitServer(cluster, 'auth', victimA.name, 'DOWN').catch(() => NaN),
      );
      await sleep(Math.max(0, P.faultMs * 0.6 - (rec.now() - p.from)));
      rec.mark(`start ${victimA.name}`);
      await cluster.startReplica(victimA);
      killedOnPurpose.delete(victimA.name);
    })();
    await Promise.all([withBackground(P.faultMs, (u) => closedLoop(ctx, faultVus, Math.min(u, until))), killer]);
    const events = rec.logins.slice(before);
    const after = events.filter((e) => e.t >= killAt);
    const restarted = events.filter((e) => e.restarts > 0);
    const inFlight = events.filter((e) => e.t - e.ms < killAt && e.t > killAt);
    p.figures['logins in flight at the kill (both replicas)'] = inFlight.length;
    p.figures['of those, succeeded'] = inFlight.filter((e) => e.ok).length;
    p.figures['logins restarted on the survivor (connection lost mid-flow)'] = restarted.length;
    p.figures['restarted logins that succeeded'] = restarted.filter((e) => e.ok).length;
    p.figures['failed logins after the kill'] = after.filter((e) => !e.ok).length;
    check(
      'auth-kill',
      'logins in progress restart and succeed on the surviving replica',
      after.some((e) => e.ok) &&
        restarted.every((e) => e.ok || e.retryable === true) &&
        inFlight.every((e) => e.ok || e.retryable === true),
      `${inFlight.filter((e) => e.ok).length}/${inFlight.length} logins in flight at the kill succeeded; ${restarted.length} restarted (${restarted.filter((e) => e.ok).length} succeeded), ${after.filter((e) => e.ok).length}/${after.length} logins after the kill succeeded`,
    );

    // sessions issued by the dead replica still work on the survivor
    const theirs = rec.sessions.filter((s) => s.replica === victimA.name && s.at < killAt).slice(-8);
    const jwks = await http<JSONWebKeySet>(survivor.url, 'GET', AUTH_ROUTES.jwks);
    let meOk = 0;
    let verifyOk = 0;
    let refreshOk = 0;
    for (const s of theirs) {
      const me = await http<MeResponse>(base, 'GET', AUTH_ROUTES.me, { headers: { authorization: `Bearer ${s.accessToken}` } });
      if (me.ok && me.body?.user.username === s.username) meOk++;
      if (jwks.body) {
        await jwtVerify(s.accessToken, createLocalJWKSet(jwks.body), { issuer: info.issuer, audience: info.audience }).then(
          () => verifyOk++,
          () => undefined,
        );
      }
      if (s.refreshToken) {
        const r = await http<SessionResponse>(base, 'POST', AUTH_ROUTES.refresh, { json: { refreshToken: s.refreshToken } });
        if (r.ok && r.body?.user.username === s.username) refreshOk++;
      }
    }
    const withRefresh = theirs.filter((s) => s.refreshToken).length;
    check(
      'auth-kill',
      `sessions issued by ${victimA.name} stay valid on ${survivor.name}`,
      theirs.length > 0 && meOk === theirs.length && verifyOk === theirs.length && refreshOk === withRefresh,
      `${theirs.length} sessions: access token accepted ${meOk}, verified with the survivor's JWKS ${verifyOk}, refresh token rotated ${refreshOk}/${withRefresh}`,
    );
  });
  await waitServer(cluster, 'auth', victimA.name, 'UP');
  log(`${victimA.name} back in rotation`);

  // ---- PostgreSQL restarted
  if (cluster.pg) {
    const pgp = cluster.pg;
    await phase(cluster, 'pg-restart', 'fault: PostgreSQL stopped (immediate, like a crash) and started again under load', async (p) => {
      const until = performance.now() + P.faultMs + P.pgDownMs;
      const pidsBefore = [...cluster.auth, ...cluster.vision].map((r) => r.proc?.pid);
      // enrollments racing the stop: each one acknowledged must survive it
      const lateEnrolled = enrollPeople(base, reserve, `${runId}r`);
      let downFrom = 0;
      let downTo = 0;
      const probes: { t: number; ok: boolean; code?: string; retryable: boolean; status: number }[] = [];
      const fault = (async () => {
        await sleep(P.faultMs * 0.25);
        const late = await lateEnrolled;
        for (const e of late) acknowledged.set(e.user.username, e.user.templateCount);
        p.figures['enrollments acknowledged just before the stop'] = late.length;
        downFrom = rec.now();
        rec.mark('PostgreSQL down');
        await pgp.stop('immediate');
        log('PostgreSQL stopped');
        const end = performance.now() + P.pgDownMs;
        let k = 0;
        while (performance.now() < end) {
          // HTTP calls that need the database: registration (write) and the profile (read)
          const r =
            k++ % 2 === 0
              ? await http(base, 'POST', AUTH_ROUTES.register, {
                  json: { username: `probe${k}.${runId}`, displayName: 'probe' },
                  timeoutMs: 8000,
                })
              : await http(base, 'GET', AUTH_ROUTES.me, {
                  headers: { authorization: `Bearer ${rec.sessions.at(-1)?.accessToken ?? 'x'}` },
                  timeoutMs: 8000,
                });
          probes.push({ t: rec.now(), ok: r.ok, code: r.code, retryable: r.retryable, status: r.status });
          await sleep(250);
        }
        await pgp.start();
        downTo = rec.now();
        rec.mark('PostgreSQL up');
        log('PostgreSQL started');
      })();
      await Promise.all([withBackground(P.faultMs + P.pgDownMs, (u) => closedLoop(ctx, faultVus, Math.min(u, until))), fault]);

      // recovery: the same processes serve logins again (the first success after the start, from
      // the load itself, or from a few extra logins when the load ended before one succeeded)
      let recoveredAfter = (rec.logins.find((e) => e.phase === 'pg-restart' && e.ok && e.t - e.ms >= downTo)?.t ?? NaN) - downTo;
      const rStart = performance.now();
      while (!Number.isFinite(recoveredAfter) && performance.now() - rStart < 30_000) {
        const u = users[0] as EnrolledUser;
        const a = await faceLogin(base, u.username, u.loginFrames);
        rec.login(a, u.username);
        if (a.ok) recoveredAfter = rec.now() - downTo;
        else await sleep(500);
      }
      const pidsAfter = [...cluster.auth, ...cluster.vision].map((r) => r.proc?.pid);
      const exitedNow = [...cluster.auth, ...cluster.vision].filter((r) => !r.proc || r.proc.exited);
      const alive = exitedNow.length === 0;
      p.figures['database down (ms)'] = Math.round(downTo - downFrom);
      p.figures['first login started after PostgreSQL was back and succeeded, ended after (ms)'] = Math.round(recoveredAfter);
      const during = rec.logins.filter((e) => e.phase === 'pg-restart' && e.t >= downFrom && e.t <= downTo + 1000);
      const failedDuring = during.filter((e) => !e.ok);
      const httpDuring = rec.http.filter((e) => e.phase === 'pg-restart' && e.t >= downFrom && e.t <= downTo && !e.ok);
      const probeFails = probes.filter((x) => !x.ok);
      p.figures['login errors while down'] = codes(summarizeLogins(failedDuring, 1).errors);
      p.figures['HTTP errors while down (probes + page/token traffic)'] = codes(
        [...probeFails, ...httpDuring].reduce<Record<string, number>>(
          (acc, x) => ((acc[x.code ?? '?'] = (acc[x.code ?? '?'] ?? 0) + 1), acc),
          {},
        ),
      );
      check(
        'pg-restart',
        'requests fail cleanly with a retryable error while the database is down',
        probeFails.length > 0 &&
          [...probeFails, ...httpDuring].every((x) => x.retryable) &&
          failedDuring.every((e) => e.retryable === true),
        `HTTP: ${probeFails.length}/${probes.length} probes failed, all retryable: ${[...probeFails, ...httpDuring].every((x) => x.retryable)}; ` +
          `logins: ${failedDuring.length} failed, retryable: ${codes(
            summarizeLogins(
              failedDuring.filter((e) => e.retryable),
              1,
            ).errors,
          )}; ` +
          `NOT retryable: ${codes(
            summarizeLogins(
              failedDuring.filter((e) => !e.retryable),
              1,
            ).errors,
          )}`,
      );
      check(
        'pg-restart',
        'services reconnect without a restart',
        alive && pidsBefore.join() === pidsAfter.join() && Number.isFinite(recoveredAfter),
        `${alive && pidsBefore.join() === pidsAfter.join() ? `the same ${pidsAfter.length} processes` : `exited: ${exitedNow.map((r) => `${r.name} (${r.proc?.signal ?? `code ${r.proc?.exitCode}`})`).join(', ')}`}; first login ${fmt(recoveredAfter)} ms after PostgreSQL was back`,
      );

      // every acknowledged enrollment is in the database, with its templates
      const c = new pg.Client({ connectionString: cluster.dbUrl });
      await c.connect();
      const rows = (
        await c.query<{ username: string; n: number }>(
          'SELECT u.username, count(t.id)::int AS n FROM users u LEFT JOIN face_templates t ON t.user_id = u.id WHERE u.username = ANY($1) GROUP BY u.username',
          [[...acknowledged.keys()]],
        )
      ).rows;
      await c.end();
      const found = new Map(rows.map((r) => [r.username, r.n]));
      const missing = [...acknowledged.entries()].filter(([u, n]) => (found.get(u) ?? 0) < n);
      check(
        'pg-restart',
        'every enrollment acknowledged before the restart is still there',
        missing.length === 0,
        `${acknowledged.size - missing.length}/${acknowledged.size} accounts with all their templates${missing.length ? `; missing: ${missing.map(([u]) => u).join(', ')}` : ''}`,
      );
    });
  } else {
    log('PostgreSQL restart skipped: no private instance (initdb not found)');
  }

  // ---- overload at twice the capacity, then recovery
  const offered = Math.max(1, 2 * capacity);
  const rssBefore = new Map<string, number>();
  for (const s of rssSeries) rssBefore.set(s.name, Math.max(rssBefore.get(s.name) ?? 0, s.rss));
  await phase(cluster, 'overload', `overload: logins offered at ${fmt(offered, 1)}/s (2x capacity)`, async (p) => {
    const until = performance.now() + P.overloadMs;
    const probe = (async () => {
      // straight at one replica, as many frames at once as three times its workers and queue
      await sleep(P.overloadMs * 0.4);
      const frame = users[0]?.loginFrames[0] as Buffer;
      const target = cluster.vision[0] as Replica;
      const n = 3 * (VISION_WORKERS + 4 * VISION_WORKERS);
      const res = await Promise.all(
        Array.from({ length: n }, async () => {
          try {
            const r = await fetch(`${target.url}/v1/analyze?embeddings=true`, {
              method: 'POST',
              headers: { 'content-type': 'image/jpeg' },
              body: frame,
              signal: AbortSignal.timeout(15_000),
            });
            await r.body?.cancel();
            return { status: r.status, retryAfter: r.headers.get('retry-after') };
          } catch {
            return { status: 0, retryAfter: null };
          }
        }),
      );
      return res;
    })();
    const [, , probeRes] = await Promise.all([
      openLoop(ctx, offered, until, 150).then((r) => {
        p.figures['logins started'] = r.started;
        p.figures['arrivals not started (generator cap of 150 in flight)'] = r.skipped;
      }),
      backgroundTraffic(bgCtx, until),
      probe,
    ]);
    const rejected = probeRes.filter((r) => r.status === 503);
    p.figures['direct burst at vision1: answered 200 / 503 / other'] =
      `${probeRes.filter((r) => r.status === 200).length} / ${rejected.length} / ${probeRes.filter((r) => r.status !== 200 && r.status !== 503).length}`;
    const secs = (rec.now() - p.from) / 1000;
    const good = rec.logins.filter((e) => e.phase === 'overload' && e.ok).length;
    p.figures['successful logins/s while overloaded (goodput) vs capacity'] = `${fmt(good / secs, 1)} vs ${fmt(capacity, 1)}`;
    p.notes.push(
      "Login latency here is set by the load generator, not by a queue in vision: it keeps at most 150 logins in flight, so by Little's law latency ≈ 150 / throughput. " +
        'What the phase shows is that vision sheds the excess at once (503 + Retry-After, retried on another replica by HAProxy, then RECOGNITION_UNAVAILABLE to the client, which sends its next frame), that goodput stays near capacity and memory flat, and (next phase) that latency is back to normal as soon as the load drops. ' +
        "These clients send their next frame as soon as one is refused, as the browser app's frame pump does with the default MIN_FRAME_INTERVAL_MS=0: nothing on the client side slows down for Retry-After.",
    );
    check(
      'overload',
      'vision answers 503 with Retry-After instead of queuing without bound',
      rejected.length > 0 && rejected.every((r) => r.retryAfter !== null),
      `burst of ${probeRes.length}: ${rejected.length} got 503, all with Retry-After: ${rejected.every((r) => r.retryAfter !== null)}`,
    );
  });
  const over = phases.at(-1) as PhaseResult;
  over.figures['503 OVERLOADED answered by the vision replicas (their /metrics, phase total)'] = Object.values(over.vision).reduce(
    (n, byStatus) => n + (byStatus['503'] ?? 0),
    0,
  );
  const grew: string[] = [];
  for (const { name, mib } of over.rssPeakMiB) {
    const b = (rssBefore.get(name) ?? 0) / 1048576;
    if (name !== 'load-generator' && b > 0 && mib > b + 256) grew.push(`${name} ${fmt(b)}→${fmt(mib)} MiB`);
  }
  check(
    'overload',
    'memory stays bounded under 2x load (peak RSS within 256 MiB of the peak before)',
    grew.length === 0,
    grew.length
      ? grew.join(', ')
      : over.rssPeakMiB
          .filter((r) => r.name !== 'load-generator')
          .map((r) => `${r.name} ${fmt(r.mib)} MiB`)
          .join(', '),
  );

  await phase(cluster, 'recovery', `recovery: load back to ${faultVus} virtual users`, async (p) => {
    const start = rec.now();
    await withBackground(P.recoveryMs, (until) => closedLoop(ctx, faultVus, until));
    const ev = rec.logins.filter((e) => e.phase === 'recovery');
    const half = ev.filter((e) => e.t >= start + P.recoveryMs / 2);
    const firstOk = ev.find((e) => e.ok);
    p.figures['first successful login after the overload (ms)'] = firstOk ? Math.round(firstOk.t - start) : NaN;
    check(
      'recovery',
      'the system recovers when the load drops',
      half.length > 0 && half.filter((e) => e.ok).length >= 0.9 * half.length,
      `second half of the recovery phase: ${half.filter((e) => e.ok).length}/${half.length} logins succeeded`,
    );
  });

  stopSampler();
  const lbTotal = await serverStats(dir).catch(() => []);
  const totalSeconds = rec.now() / 1000;

  // ---- report
  const result = {
    runId,
    quick: QUICK,
    startedAt: new Date(Date.now() - rec.now()).toISOString(),
    durationSeconds: totalSeconds,
    machine: {
      cores: os.availableParallelism(),
      cpu: os.cpus()[0]?.model ?? '?',
      memoryGiB: os.totalmem() / 2 ** 30,
      node: process.version,
    },
    settings: {
      ...P,
      visionRoute: VISION_ROUTE,
      visionWorkers: VISION_WORKERS,
      visionReplicas: 3,
      authReplicas: 2,
      web: cluster.web.length > 0,
    },
    users: { people: people.length, enrolled: enrolledAll.length, usable: users.length },
    capacity: { loginsPerSecond: capacity, atVirtualUsers: kneeVus, steps: steps.map((s) => ({ vus: s.vus, ...s.s, cpu: s.cpu })) },
    stickyControl: control,
    phases,
    checks,
    budget: { max: budget.max, used: budget.used },
    lbTotal,
    marks: rec.marks,
    logins: rec.logins,
    http: rec.http.length,
  };
  const artifactsDir = path.join(REPO_ROOT, 'artifacts', 'load');
  writeFileSync(args.json ? path.resolve(args.json) : path.join(artifactsDir, `load-${runId}.json`), JSON.stringify(result, null, 1));
  if (!args['no-report']) writeReport(result, steps, totalSeconds);
  const failed = checks.filter((c) => !c.ok);
  log(
    `done in ${fmt(totalSeconds)} s: capacity ${fmt(capacity, 2)} logins/s; ${checks.length - failed.length}/${checks.length} fault checks passed`,
  );
  return failed.length ? 1 : 0;
}

interface Step {
  vus: number;
  s: LatencySummary;
  cpu: { name: string; percent: number }[];
  machineBusy: number;
  stages: Record<string, number>;
}

function bottleneck(step: Step | undefined, cores: number): { text: string; groups: Record<string, number> } {
  const cpu = step?.cpu ?? [];
  const groups: Record<string, number> = {};
  for (const c of cpu) {
    const g = c.name.replace(/\d+$/, '');
    groups[g] = (groups[g] ?? 0) + c.percent;
  }
  const total = Object.values(groups).reduce((a, b) => a + b, 0);
  const ranked = Object.entries(groups).sort((a, b) => b[1] - a[1]);
  const share = ranked.map(([g, v]) => `${g} ${fmt(v)}%`).join(', ');
  const machine = step?.machineBusy ?? NaN;
  const st = step?.stages ?? {};
  const slowest = (['connect', 'start', 'frames', 'session'] as const).map((k) => [k, st[k] ?? 0] as const).sort((a, b) => b[1] - a[1])[0];
  const saturated = machine >= 85;
  // CPU time per login, by process group: what a login costs, whatever else ran on the machine
  const perLogin = Object.fromEntries(ranked.map(([g, v]) => [g, (v * 10) / Math.max(1e-9, step?.s.perSecond ?? 0)]));
  const serverMs = Object.entries(perLogin)
    .filter(([g]) => g !== 'load-generator')
    .reduce((a, [, v]) => a + v, 0);
  const costText = ranked
    .filter(([g]) => g !== 'load-generator')
    .map(([g]) => `${g} ${fmt(perLogin[g] ?? NaN)}`)
    .join(', ');
  const genText = `the load generator itself used ${fmt(perLogin['load-generator'] ?? NaN)} ms per login on the same cores`;
  const projection = (cores * 1000) / Math.max(1e-9, serverMs);
  const [topGroup] = ranked.filter(([g]) => g !== 'load-generator')[0] ?? ['?'];
  const text = saturated
    ? `CPU. The ${cores} cores were ${fmt(machine)}% busy at capacity (every process on the machine counted, other work included); ` +
      `one face login costs ${fmt(serverMs)} ms of CPU in the services (${costText} ms per login; ${genText}), ` +
      `the largest share in ${topGroup}. With both cores for the services alone that is at most about ${fmt(projection, 1)} logins/s`
    : `not the cores (machine ${fmt(machine)}% busy at capacity, the run's processes ${fmt(total)}% of one core: ${share}); ` +
      `CPU per login ${costText} ms (${genText}); the slowest step of a login is ${slowest?.[0]} (median ${fmt(slowest?.[1] ?? NaN)} ms)`;
  return { text, groups };
}

function writeReport(
  result: Record<string, unknown> & { capacity: { loginsPerSecond: number; atVirtualUsers: number } },
  steps: Step[],
  totalSeconds: number,
): void {
  const cores = os.availableParallelism();
  const best = steps.find((s) => s.vus === result.capacity.atVirtualUsers) ?? steps.at(-1);
  const bn = bottleneck(best, cores);
  const chartPhases = phases.map((p) => ({ label: p.name, from: p.from, to: p.to }));
  const svg = renderChart(
    timeline(rec.logins, rec.now()),
    chartPhases,
    `Faceline face logins through HAProxy: 2 auth + 3 vision replicas on ${cores} cores`,
    rec.marks.filter((mk) => mk.label !== 'enroll'),
  );
  const outMd = path.resolve(REPO_ROOT, args.out as string);
  const outSvg = outMd.replace(/\.md$/, '.svg');
  mkdirSync(path.dirname(outMd), { recursive: true });
  writeFileSync(outSvg, svg);
  const m = result.machine as { cpu: string; memoryGiB: number; node: string };
  const u = result.users as { people: number; enrolled: number; usable: number };
  const lines: string[] = [];
  lines.push('# Load, failover and capacity report');
  lines.push('');
  lines.push(
    `Generated by \`npm run bench:load${QUICK ? ':quick' : ''}\` (bench/load/run.ts) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ${fmt(totalSeconds)} s. ` +
      `Machine: ${cores} cores (${m.cpu}), ${fmt(m.memoryGiB)} GiB, Node ${m.node}. Everything ran on this one machine, load generator included.`,
  );
  lines.push('');
  lines.push('## Headline');
  lines.push('');
  lines.push(
    `- **Capacity: ${fmt(result.capacity.loginsPerSecond, 1)} full face logins per second** (connect, login:start, frames until matched, grant exchanged for a session), reached at ${result.capacity.atVirtualUsers} concurrent virtual users; p50 ${fmt(best?.s.p50 ?? NaN)} ms, p95 ${fmt(best?.s.p95 ?? NaN)} ms, p99 ${fmt(best?.s.p99 ?? NaN)} ms.`,
  );
  lines.push(`- **Bottleneck: ${bn.text}.**`);
  const failed = checks.filter((c) => !c.ok);
  lines.push(
    `- Fault checks: ${checks.length - failed.length} of ${checks.length} passed${failed.length ? ` — FAILED: ${failed.map((c) => c.name).join('; ')}` : ''}.`,
  );
  lines.push('');
  const capPhases = phases.filter((p) => p.name.startsWith('capacity-'));
  const spreadOf = (backend: string) => {
    const servers = new Map<string, number>();
    for (const p of capPhases)
      for (const st of p.lb) if (st.backend === backend) servers.set(st.server, (servers.get(st.server) ?? 0) + st.total);
    const sum = [...servers.values()].reduce((a, b) => a + b, 0);
    if (!sum) return 'no traffic';
    const even = 100 / servers.size;
    const shares = [...servers.entries()].map(([n, v]) => [n, (100 * v) / sum] as const);
    const worst = Math.max(...shares.map(([, v]) => Math.abs(v - even)));
    return `${shares.map(([n, v]) => `${n} ${fmt(v, 1)}%`).join(', ')} of ${sum} requests (even would be ${fmt(even, 1)}% each; largest deviation ${fmt(worst, 1)} points)`;
  };
  let visionDeviation = 0;
  const visionSpread = () => {
    const per = new Map<string, number>();
    for (const p of capPhases)
      for (const [n, byStatus] of Object.entries(p.vision))
        per.set(n, (per.get(n) ?? 0) + Object.values(byStatus).reduce((a, b) => a + b, 0));
    const sum = [...per.values()].reduce((a, b) => a + b, 0);
    if (!sum) return 'no traffic';
    const even = 100 / per.size;
    const shares = [...per.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([n, v]) => [n, (100 * v) / sum] as const);
    visionDeviation = Math.max(...shares.map(([, v]) => Math.abs(v - even)));
    return `${shares.map(([n, v]) => `${n} ${fmt(v, 1)}%`).join(', ')} of ${sum} analyze requests (their own /metrics; even would be ${fmt(even, 1)}% each; largest deviation ${fmt(Math.max(...shares.map(([, v]) => Math.abs(v - even))), 1)} points)`;
  };
  lines.push(
    `- Balance during the capacity steps: auth ${spreadOf('auth')} (HAProxy stats socket); vision ${visionSpread()}. ` +
      `Sticky Socket.IO sessions: ${rec.logins.filter((e) => e.phase.startsWith('capacity-') && !e.ok && /CONNECT|DISCONNECT/.test(e.code ?? '')).length} connection failures in those steps; ` +
      `as a control, ${(result.stickyControl as { failed: number; tried: number }).failed} of ${(result.stickyControl as { failed: number; tried: number }).tried} long-polling connections that drop the affinity cookie failed a round trip (the replica that did not do the handshake does not know the session).`,
  );
  lines.push('');
  lines.push(`![throughput and latency over time](${path.basename(outSvg)})`);
  lines.push('');
  // what the figures and checks say, in words (each statement derived from this run's data)
  const findings: string[] = [];
  for (const c of checks.filter((x) => !x.ok)) findings.push(`**${c.name}** failed (${c.phase}): ${c.detail}.`);
  if (VISION_ROUTE === 'l4' && visionDeviation > 5) {
    findings.push(
      `Per-connection balancing (as a kube-proxy Service does) spreads frames unevenly (largest deviation ${fmt(visionDeviation, 1)} points from an even share): auth keeps its connections to vision alive, so frames follow connections, not requests. Per-request balancing (\`--vision-route lb\`, an L7 proxy) or auth's own round robin over the address list (\`list\`) spread per frame.`,
    );
    const refused = capPhases.reduce((n, p) => n + Object.values(p.vision).reduce((m, byStatus) => m + (byStatus['503'] ?? 0), 0), 0);
    const unavailable = capPhases.reduce((n, p) => n + (p.logins.errors.RECOGNITION_UNAVAILABLE ?? 0), 0);
    if (refused > 0) {
      findings.push(
        `Because of that, the busiest vision replica refuses frames (${refused} × 503 OVERLOADED in the capacity steps, ${unavailable} logins failed with RECOGNITION_UNAVAILABLE) while the others still have room: with a single Service address auth has nowhere else to send a refused frame.`,
      );
    }
  }
  const pgPhase = phases.find((p) => p.name === 'pg-restart');
  const notReady =
    (pgPhase?.http.token?.errors.NOT_READY ?? 0) +
    (pgPhase?.http.page?.errors.NOT_READY ?? 0) +
    (pgPhase?.http.healthz?.errors.NOT_READY ?? 0);
  if (notReady > 0) {
    findings.push(
      `While PostgreSQL is down, every auth replica fails \`/readyz\` (it includes the database), so the balancer takes them all out: ${notReady} background requests routed to auth (JWKS fetches among them) got the balancer's 503 NOT_READY, new Socket.IO connections are refused, and applications that verify tokens must keep the JWKS they fetched earlier.`,
    );
  }
  const ov = phases.find((p) => p.name === 'overload');
  const rcv = phases.find((p) => p.name === 'recovery');
  if (ov && rcv) {
    findings.push(
      `At twice the capacity the system kept ${ov.figures['successful logins/s while overloaded (goodput) vs capacity'] ?? '?'} successful logins/s (goodput vs capacity) while vision refused the excess; ` +
        `when the load dropped, the median login took ${fmt(rcv.logins.p50)} ms again (${fmt(best?.s.p50 ?? NaN)} ms at capacity before), with ${rcv.logins.failed} failures.`,
    );
  }
  if (findings.length) {
    lines.push('## Findings');
    lines.push('');
    for (const f of findings) lines.push(`- ${f}`);
    lines.push('');
  }
  lines.push(
    'Run it: `npm run bench:load` (about 5 minutes) or `npm run bench:load:quick` (about 90 s); needs `haproxy` (scripts/system-deps.sh), the PostgreSQL 15 server binaries (initdb, pg_ctl) and the shared face set. Raw data of every run: `artifacts/load/load-<run>.json`, process logs: `artifacts/load/run-<run>/logs/`. The quick run is also the system test `test/load/failover.test.ts`, which asserts only the fault checks.',
  );
  lines.push('');
  lines.push('## Set-up');
  lines.push('');
  lines.push(
    `- HAProxy ${'(Debian)'} as the Ingress: \`/api\`, \`/socket.io\`, \`/.well-known\` → 2 auth replicas (round robin, readiness checks on \`/readyz\` every second, sticky Socket.IO sessions by an inserted \`faceline_auth\` cookie, websocket upgrade, redispatch when the pinned replica is gone); ${result.settings && (result.settings as { web: boolean }).web ? '`/` → web' : 'no web replica (its browser bundle is not built here): the page traffic is the browser configuration call `/api/v1/config` that the page makes first'}.`,
  );
  lines.push(
    `- Auth reaches vision (\`--vision-route ${VISION_ROUTE}\`) ${
      VISION_ROUTE === 'lb'
        ? 'through a second HAProxy frontend: per-request round robin over ready replicas, and a request whose connection fails, is cut off, or gets 503 is resent to another replica (L7 retries, as an L7 proxy or mesh in front of the Service does). A plain kube-proxy Service balances per connection and retries nothing: `--vision-route l4` runs that way, `--vision-route list` gives auth the replica addresses and lets its own client fail over.'
        : VISION_ROUTE === 'l4'
          ? 'through HAProxy in TCP mode, as a kube-proxy ClusterIP Service does: each connection goes to one ready replica, nothing is retried; auth keeps connections alive, so requests follow their connection.'
          : 'through the comma-separated list of replica addresses in `VISION_URL`: auth spreads calls over them and moves to the next address on a connection error, timeout or 503.'
    }`,
  );
  lines.push(
    `- 3 vision replicas sized for ${cores} cores: ${VISION_WORKERS} worker thread each, 1 ONNX thread per worker, queue of 4 per worker (beyond that: 503 OVERLOADED with Retry-After).`,
  );
  lines.push(
    '- PostgreSQL 15: a private instance (initdb + pg_ctl, free port, fsync on) so that it can be stopped and started; a fresh database `faceline_load_<timestamp>`; removed afterwards.',
  );
  lines.push(
    `- People: ${u.people} from the shared face set with ≥2 photos; ${u.enrolled} enrolled from one photo (3 captures from frames of that photo), ${u.usable} log in with a *different* photo of themselves (the others are left out of the load: their second photo does not pass the quality gates or the 1:1 threshold, which is the matcher's business, not the load test's).`,
  );
  lines.push(
    '- **Liveness off (`LIVENESS=false`)** for the load: the face set has still photos; a challenge (turn the head, blink) needs a live frame sequence that stills cannot produce, and a fixed challenge seed would still require head turns. With liveness off a login is: one frontal frame that matches within the 1:1 threshold. A real login with a challenge sends more frames (each costs the same vision work), so per-login capacity with liveness on is lower by about the number of frames it needs.',
  );
  lines.push(
    '- Brute-force limits raised (`IP_MAX_FAILURES`, `BACKOFF_AFTER_FAILURES`, `LOCK_AFTER_FAILURES`): every virtual user comes from 127.0.0.1, so the per-address limit would stop the test after 30 failures.',
  );
  lines.push(
    `- Frames: each photo cropped around the face to 640x480 (face ≈ 40% of the width) and encoded at several JPEG qualities, so that each frame of a flow has different bytes as a camera's frames do (auth refuses repeated frames as replays). A virtual user sends at most these 6 frames per login, the next one as soon as the previous is acknowledged; the browser keeps sending until the login's time limit, so under overload real clients add more refused frames than these do.`,
  );
  lines.push(
    `- Request budget ${(result.budget as { max: number }).max} logins + background requests; used ${(result.budget as { used: number }).used}. Background traffic: ~6 requests/s of page loads, \`/healthz\`, and token checks (JWKS fetched, access token verified with jose).`,
  );
  lines.push('');
  lines.push('## Capacity steps');
  lines.push('');
  lines.push(
    table(
      [
        'virtual users',
        'logins/s',
        'p50 ms',
        'p95 ms',
        'p99 ms',
        'failed',
        'errors',
        'median ms: connect / start / frames / session',
        'machine CPU busy',
        'CPU by process (% of one core)',
      ],
      steps.map((s) => [
        s.vus,
        fmt(s.s.perSecond, 2),
        fmt(s.s.p50),
        fmt(s.s.p95),
        fmt(s.s.p99),
        s.s.failed,
        codes(s.s.errors),
        `${fmt(s.stages.connect ?? NaN)} / ${fmt(s.stages.start ?? NaN)} / ${fmt(s.stages.frames ?? NaN)} / ${fmt(s.stages.session ?? NaN)}`,
        `${fmt(s.machineBusy)}%`,
        s.cpu.map((c) => `${c.name} ${fmt(c.percent)}`).join(', '),
      ]),
    ),
  );
  lines.push('');
  lines.push('## Phases');
  for (const p of phases) {
    lines.push('');
    lines.push(`### ${p.title}`);
    lines.push('');
    const l = p.logins;
    lines.push(
      `${fmt((p.to - p.from) / 1000, 1)} s. Logins: ${l.ok} succeeded, ${l.failed} failed (${fmt(l.perSecond, 2)}/s), p50 ${fmt(l.p50)} ms, p95 ${fmt(l.p95)} ms, p99 ${fmt(l.p99)} ms. Errors by code: ${codes(l.errors)}.`,
    );
    const h = p.http;
    lines.push(
      `Background: page ${h.page?.count ?? 0} (${h.page?.failed ?? 0} failed, p50 ${fmt(h.page?.p50 ?? NaN, 1)} ms), healthz ${h.healthz?.count ?? 0} (${h.healthz?.failed ?? 0} failed), token checks ${h.token?.count ?? 0} (${h.token?.failed ?? 0} failed${h.token?.failed ? `: ${codes(h.token.errors)}` : ''}, p50 ${fmt(h.token?.p50 ?? NaN, 1)} ms).`,
    );
    lines.push('');
    for (const [k, v] of Object.entries(p.figures))
      lines.push(`- ${k}: ${typeof v === 'number' ? fmt(v, Number.isInteger(v) ? 0 : 2) : v}`);
    for (const n of p.notes) lines.push(`- ${n}`);
    const pc = checks.filter((c) => c.phase === p.name);
    for (const c of pc) lines.push(`- ${c.ok ? '✅' : '❌'} **${c.name}** — ${c.detail}`);
    lines.push('');
    lines.push(
      `Login steps (median of successful logins): ${stageText(p.stages)}. Machine CPU busy: ${fmt(p.machineBusy)}% of ${cores} cores.`,
    );
    lines.push('');
    lines.push(
      `CPU (% of one core): ${p.cpu.map((c) => `${c.name} ${fmt(c.percent)}`).join(', ')}. Peak RSS (MiB): ${p.rssPeakMiB.map((r) => `${r.name} ${fmt(r.mib)}`).join(', ')}.`,
    );
    const spread = p.lb.filter((s) => s.total > 0 || s.hrsp5xx > 0);
    if (spread.length) {
      lines.push('');
      lines.push(
        table(
          ['backend/server', 'requests', 'share', '2xx', '5xx', 'retries', 'redispatched', 'conn. errors'],
          spread.map((s) => {
            const sum = p.lb.filter((x) => x.backend === s.backend).reduce((n, x) => n + x.total, 0);
            return [
              `${s.backend}/${s.server}`,
              s.total,
              `${fmt((100 * s.total) / Math.max(1, sum))}%`,
              s.hrsp2xx,
              s.hrsp5xx,
              s.wretr,
              s.wredis,
              s.econ,
            ];
          }),
        ),
      );
    }
    const vs = Object.entries(p.vision).filter(([, v]) => Object.keys(v).length);
    if (vs.length)
      lines.push(
        '',
        `Vision /metrics, analyze answers by status: ${vs
          .map(
            ([n, v]) =>
              `${n} ${Object.entries(v)
                .map(([k, c]) => `${k}:${c}`)
                .join(' ')}`,
          )
          .join('; ')}.`,
      );
  }
  lines.push('');
  lines.push('## Fault checks');
  lines.push('');
  lines.push(
    table(
      ['phase', 'check', 'result', 'detail'],
      checks.map((c) => [c.phase, c.name, c.ok ? 'pass' : '**FAIL**', c.detail]),
    ),
  );
  lines.push('');
  lines.push(
    'Figures are measurements of one run on a shared 2-core machine and vary between runs; they never fail the run. The fault checks do (exit code 1).',
  );
  lines.push('');
  writeFileSync(outMd, lines.join('\n'));
  log(`report: ${path.relative(REPO_ROOT, outMd)}, chart: ${path.relative(REPO_ROOT, outSvg)}`);
}

main()
  .then(async (code) => {
    await cleanupAll();
    process.exit(code);
  })
  .catch(async (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    await cleanupAll();
    process.exit(1);
  });

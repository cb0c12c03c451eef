/**
 * The attack harness: the attacks Faceline must withstand, scripted against the real services
 * (vision as a child process, auth with its database, Socket.IO and HTTP as a client speaks
 * them), each tried many times, every try counted.
 *
 * Photo attacks (one ordinary photo of the victim, not used at enrollment, injected as camera
 * frames by a script): still photo with sensor noise, mirrored photo, per-frame 2-D head-turn
 * warps chosen with the local face model (anisotropic stretch, landmark-driven thin-plate
 * spline, planar rotation), eye-band squash, all of them combined; plus the replay of a real
 * recording of the victim. These run with the brute-force limits raised and each try from its
 * own address, so that every try reaches the liveness and identity checks (the limits would
 * otherwise stop the attacker long before 20 tries, which measures the limits, not liveness).
 *
 * Accounting attacks run with the default limits: cancel/disconnect and redraw loops, a
 * per-frame match oracle, parallel flows to lock the victim out, enrollment-ticket reuse, and a
 * stolen session replacing the face.
 */
import path from 'node:path';
import { ChallengeStep, ErrorCode, type AckResponse, type LoginFrameResult, type LoginResult } from '@faceline/contracts';
import { facesDir, loadCatalog, requireFaces } from '@faceline/testkit';
import { createStore, startReplica, type Replica, type Store } from '../../services/auth/test/support/auth.js';
import { ask, connect, cookieHeader, http, mjpegFrames, photo, variant } from '../../services/auth/test/support/client.js';
import { perform, performFlow, type Performer } from '../../services/auth/test/support/performer.js';
import { startVision, type ChildService } from '../../services/auth/test/support/vision.js';
import { cameraFrame, decode, encode, localModel, preparePhoto, type LocalModel, type PreparedPhoto, type TurnWarp } from './attacker.js';
import { rng, type Rgb } from './warps.js';

export interface ClassResult {
  name: string;
  kind: 'photo' | 'accounting';
  tries: number;
  successes: number;
  /** how the tries ended (error code or "success") */
  outcomes: Record<string, number>;
  note: string;
}

export interface HarnessOptions {
  tries: number;
  /** flows run at once in the photo classes */
  concurrency: number;
  log: (line: string) => void;
  backend?: 'pglite' | 'postgres';
}

interface Victim {
  username: string;
  /** photos for the attack (not enrolled) */
  attack: string[];
  /** photos enrolled */
  enroll: string[];
}

const FR = (who: string, files: string[]) => files.map((f) => `face_recognition/${who}/${f}`);
/**
 * Victims and the photos the attacker has of them: ordinary portraits, facing the camera closely
 * enough for the hold (an attacker checks that with the local model), never the ones enrolled.
 */
const PHOTO_VICTIMS: Victim[] = [
  {
    username: 'obama',
    enroll: FR('barack_obama', ['obama.jpg', 'obama_small.jpg', 'obama_partial_face.jpg']),
    attack: FR('barack_obama', ['obama2.jpg']),
  },
  {
    username: 'ana',
    enroll: ['1', '3', '4'].map((n) => `human/anon_human_emotions_a/stock-emotions-a-${n}.jpg`),
    attack: ['5', '6', '7', '8'].map((n) => `human/anon_human_emotions_a/stock-emotions-a-${n}.jpg`),
  },
  { username: 'biden', enroll: FR('joe_biden', ['biden.jpg']), attack: FR('joe_biden', ['biden2.jpg']) },
  { username: 'kit', enroll: FR('kit_harington', ['john1.jpeg']), attack: FR('kit_harington', ['johnsnow_test1.jpg']) },
  { username: 'rose', enroll: FR('rose_leslie', ['img1.jpg']), attack: FR('rose_leslie', ['img2.jpg']) },
  { username: 'alex', enroll: FR('alex_lacamoire', ['img1.jpg']), attack: FR('alex_lacamoire', ['alex_lacamoire1.jpg']) },
  // with sunglasses in the attack photo
  { username: 'vlado', enroll: ['human/vlado/person-vlado.jpg'], attack: ['human/vlado/person-vlado5.jpg'] },
];

/** Real recordings of people, enrolled from frames of another part of the recording. */
const CLIP_VICTIMS = [
  {
    username: 'clip-d3',
    feed: 'webcam/anon_lp_d3_woman_480x480.mjpeg',
    enroll: ['t03.55', 't05.91', 't08.27'].map((t) => `liveportrait/anon_lp_d3_woman/d3_frame_${t}.jpg`),
  },
  {
    username: 'clip-d9',
    feed: 'webcam/anon_lp_d9_man_glasses_480x480.mjpeg',
    enroll: ['t05.88', 't09.80', 't13.72'].map((t) => `liveportrait/anon_lp_d9_man_glasses/d9_frame_${t}.jpg`),
  },
  { username: 'clip-d7', feed: 'webcam/anon_lp_d7_blink_480x480.mjpeg', enrollFeedFrames: [150, 160, 170] },
  { username: 'clip-franck', feed: 'webcam/franck_talkingface_480x480.mjpeg', enrollFeedFrames: [379, 384, 389] },
];

/** Limits high enough that no photo-attack try is stopped by them (see the header). */
const NO_LIMITS = {
  pairBackoffAfter: 1_000_000,
  backoffAfter: 1_000_000,
  lockAfter: 1_000_001,
  ipMaxFailures: 1_000_000,
  loginStartsPerWindow: 1_000_000,
  registrationsPerIp: 1_000_000,
};

let addressCounter = 0;
/** A fresh client address per try (auth trusts X-Forwarded-For from the loopback proxy). */
function nextAddress(): string {
  addressCounter++;
  return `198.18.${(addressCounter >> 8) & 255}.${addressCounter & 255}`;
}

async function socketFrom(url: string, ip: string, cookie?: string) {
  return connect(url, { headers: { 'x-forwarded-for': ip, ...(cookie ? { cookie } : {}) } });
}

function tally(outcomes: Record<string, number>, key: string): void {
  outcomes[key] = (outcomes[key] ?? 0) + 1;
}

function outcomeOf(result: LoginResult | undefined, started: AckResponse<unknown>): string {
  if ('error' in started) return started.error.code;
  if (!result) return 'no-result';
  return result.ok ? 'success' : result.error.code;
}

/**
 * Runs `n` tries: try i belongs to lane i % lanes; lanes run at once, the tries of one lane one
 * after the other (a lane is one victim account, which has one live login at a time).
 */
async function lanes(n: number, count: number, fn: (i: number) => Promise<void>): Promise<void> {
  await Promise.all(
    Array.from({ length: Math.min(n, count) }, async (_, lane) => {
      for (let i = lane; i < n; i += count) await fn(i);
    }),
  );
}

/** Forgets every attempt counter: each phase of the harness starts with clean limits. */
async function resetLimits(r: Replica): Promise<void> {
  await r.ctx.db.query('DELETE FROM attempt_counters');
  await r.ctx.db.query('DELETE FROM live_flows');
}

// ---------------------------------------------------------------- photo performers

type PhotoStrategy = { turn: 'still' | 'mirror' | TurnWarp; blink: 'still' | 'middle' | 'lower-lid' };

/**
 * The attacker's script: the photo, noisy, while the server wants stillness; when a step is
 * shown, after a human-looking reaction time, the prepared warp sequence for it, then back.
 */
function photoPerformer(p: PreparedPhoto, strategy: PhotoStrategy, random: () => number): Performer {
  const reaction = 250 + random() * 400;
  let playing: { index: number; frames: Rgb[]; at: number } | null = null;
  return {
    async next(cue) {
      let img = p.still;
      if (cue.step && cue.sinceShownMs >= reaction) {
        if (!playing || playing.index !== cue.index) {
          let frames: Rgb[] = [];
          if (cue.step === ChallengeStep.BLINK) frames = strategy.blink === 'still' ? [] : p.blinks[strategy.blink];
          else if (strategy.turn === 'mirror') frames = [p.mirrored, p.mirrored, p.mirrored];
          else if (strategy.turn !== 'still') frames = p.turns[strategy.turn][cue.step];
          playing = { index: cue.index, frames, at: 0 };
        }
        img = playing.frames[Math.min(playing.at, playing.frames.length - 1)] ?? p.still;
        playing.at++;
      } else if (!cue.step) playing = null;
      return cameraFrame(img, random);
    },
  };
}

/** A recording played as a camera plays it: in a loop, from wherever it happens to be. */
function replayPerformer(frames: Buffer[], start: number): Performer {
  let i = start;
  return {
    next() {
      const f = frames[i % frames.length] as Buffer;
      i += 4; // 30 fps recording, about 7.5 frames a second sent
      return f;
    },
  };
}

// ---------------------------------------------------------------- the harness

export async function runAttacks(opts: HarnessOptions): Promise<ClassResult[]> {
  requireFaces();
  const t0 = Date.now();
  const log = (line: string) => opts.log(`[${String(Math.round((Date.now() - t0) / 1000)).padStart(4)} s] ${line}`);
  const results: ClassResult[] = [];
  let vision: ChildService | undefined;
  let store: Store | undefined;
  let r: Replica | undefined;
  let model: LocalModel | undefined;
  try {
    [vision, store, model] = await Promise.all([
      startVision({ VISION_WORKERS: '2' }),
      createStore(opts.backend ?? 'postgres'),
      localModel(),
    ]);
    // ---- enrollment of the victims (liveness off for this phase only: they enroll from photos)
    r = await startReplica(store, vision.url, { liveness: false, adminStepUp: false, ...NO_LIMITS });
    await enrollVictims(r, log);
    results.push(await ticketReuse(r, opts.tries, log));
    results.push(await staleSessionReenroll(r, opts.tries, log));
    await r.stop();
    r = undefined;

    // ---- photo attacks: liveness on (the defaults), limits out of the way, a new address per try
    r = await startReplica(store, vision.url, { liveness: true, trustProxy: '127.0.0.1', ...NO_LIMITS });
    log('preparing the attacker’s frames from the victims’ photos (local face model)…');
    const prepared: { victim: string; p: PreparedPhoto }[] = [];
    for (const v of PHOTO_VICTIMS) {
      for (const f of v.attack) {
        const p = await preparePhoto(path.join(facesDir(), f), model);
        if (p) prepared.push({ victim: v.username, p });
      }
    }
    // round-robin over the victims, so that tries running at once are on different accounts
    // (an account has one live login at a time)
    prepared.sort((a, b) => rankOf(prepared, a) - rankOf(prepared, b));
    log(`${prepared.length} attack photos of ${PHOTO_VICTIMS.length} victims`);
    const classes: { name: string; note: string; strategy: (i: number) => PhotoStrategy }[] = [
      {
        name: 'still photo + sensor noise',
        note: 'the photo, re-noised and re-encoded every frame',
        strategy: () => ({ turn: 'still', blink: 'still' }),
      },
      {
        name: 'mirrored photo',
        note: 'turn steps answered by the mirrored photo (a turned photo mirrored looks turned the other way)',
        strategy: () => ({ turn: 'mirror', blink: 'still' }),
      },
      {
        name: '2-D yaw warps (local model)',
        note: 'per-frame stretch / thin-plate / planar warps whose yaw the local model measures at 5..25°',
        strategy: (i) => ({ turn: (['stretch', 'tps', 'planar'] as const)[i % 3]!, blink: 'still' }),
      },
      {
        name: 'eye-band squash',
        note: 'the eye band squashed until the local model’s eye aspect ratio reads closed',
        strategy: (i) => ({ turn: 'still', blink: i % 2 ? 'middle' : 'lower-lid' }),
      },
      {
        name: 'combined warps + squash',
        note: 'the strongest photo script: thin-plate or stretch turns, squash blinks, noise, varied JPEG',
        strategy: (i) => ({ turn: i % 2 ? 'tps' : 'stretch', blink: i % 4 < 2 ? 'lower-lid' : 'middle' }),
      },
    ];
    for (const c of classes) {
      results.push(await photoClass(r, c.name, c.note, prepared, c.strategy, opts, log));
    }
    results.push(await replayClass(r, opts, log));
    await r.stop();
    r = undefined;

    // ---- accounting attacks with the default limits
    r = await startReplica(store, vision.url, { liveness: true, trustProxy: '127.0.0.1' });
    await resetLimits(r);
    results.push(await cancelRedraw(r, prepared, opts.tries, log));
    await resetLimits(r);
    results.push(await frameOracle(r, prepared, opts.tries, log));
    await resetLimits(r);
    results.push(await parallelLockout(r, prepared, opts.tries, log));
    return results;
  } finally {
    await r?.stop().catch(() => undefined);
    await model?.close().catch(() => undefined);
    await vision?.stop().catch(() => undefined);
    await store?.drop().catch(() => undefined);
  }
}

function rankOf(all: { victim: string; p: PreparedPhoto }[], x: { victim: string; p: PreparedPhoto }): number {
  const same = all.filter((y) => y.victim === x.victim);
  return same.indexOf(x) * 100 + PHOTO_VICTIMS.findIndex((v) => v.username === x.victim);
}

/** Liveness-off logins give the victims their templates (and the harness an admin). */
async function enrollVictims(r: Replica, log: (l: string) => void): Promise<void> {
  const catalog = loadCatalog();
  const file = (rel: string) => {
    if (!catalog.some((c) => c.path === rel)) throw new Error(`${rel} is not in CATALOG.tsv`);
    return photo(rel);
  };
  // the socket takes JPEG frames, as a camera sends them
  const jpeg = async (b: Buffer) => encode(await decode(b), 92);
  for (const v of PHOTO_VICTIMS) await enrollFrames(r, v.username, await Promise.all(v.enroll.map(file).map(jpeg)));
  for (const v of CLIP_VICTIMS) {
    const frames =
      'enroll' in v && v.enroll
        ? v.enroll.map(file)
        : mjpegFrames(path.join(facesDir(), v.feed)).filter((_, i) => (v.enrollFeedFrames ?? []).includes(i));
    await enrollFrames(r, v.username, frames);
  }
  log(`enrolled ${PHOTO_VICTIMS.length + CLIP_VICTIMS.length} victims; 1:N index holds ${r.ctx.templates.index.size} templates`);
}

async function enrollFrames(r: Replica, username: string, frames: Buffer[]): Promise<void> {
  const reg = await http(r.url, 'POST', '/api/v1/users', { body: { username, displayName: username } });
  if (reg.status !== 201) throw new Error(`registering ${username}: ${reg.text}`);
  const socket = await connect(r.url);
  try {
    const out = await performFlow(
      socket,
      'enroll',
      { ticket: reg.json.enrollmentTicket },
      { next: (c) => frames[c.frame % frames.length] ?? null },
      { frameIntervalMs: 0, maxFrames: 12 },
    );
    if (!out.result?.ok)
      throw new Error(
        `enrolling ${username}: ${JSON.stringify(out.result ?? out.started)} ${JSON.stringify(out.feedback.map((f) => f.codes))}`,
      );
  } finally {
    socket.disconnect();
  }
}

async function photoClass(
  r: Replica,
  name: string,
  note: string,
  prepared: { victim: string; p: PreparedPhoto }[],
  strategy: (i: number) => PhotoStrategy,
  opts: HarnessOptions,
  log: (l: string) => void,
): Promise<ClassResult> {
  const outcomes: Record<string, number> = {};
  let successes = 0;
  const victims = [...new Set(prepared.map((x) => x.victim))];
  await lanes(opts.tries, Math.min(opts.concurrency, victims.length), async (i) => {
    // lane = victim; within a lane, that victim's photos in turn
    const lane = i % Math.min(opts.concurrency, victims.length);
    const mine = prepared.filter((x) => victims.indexOf(x.victim) % Math.min(opts.concurrency, victims.length) === lane);
    const { victim, p } = mine[Math.floor(i / Math.min(opts.concurrency, victims.length)) % mine.length]!;
    const socket = await socketFrom(r.url, nextAddress());
    try {
      const out = await performFlow(
        socket,
        'login',
        { mode: i % 5 === 4 ? 'identify' : 'verify', ...(i % 5 === 4 ? {} : { username: victim }) },
        photoPerformer(p, strategy(i), rng(1000 + i)),
        { maxFrames: 220 },
      );
      const o = outcomeOf(out.result as LoginResult | undefined, out.started);
      if (process.env.ATTACK_DEBUG)
        log(
          `  try ${i} ${victim}: ${o} after ${out.acks.length} frames, steps ${JSON.stringify(out.steps.map((e) => e.step))}, ${JSON.stringify((out.result as { error?: unknown })?.error ?? null)}`,
        );
      tally(outcomes, o);
      if (o === 'success') successes++;
    } finally {
      socket.disconnect();
    }
  });
  log(`${name}: ${successes}/${opts.tries} ${JSON.stringify(outcomes)}`);
  return { name, kind: 'photo', tries: opts.tries, successes, outcomes, note };
}

async function replayClass(r: Replica, opts: HarnessOptions, log: (l: string) => void): Promise<ClassResult> {
  const outcomes: Record<string, number> = {};
  let successes = 0;
  const feeds = CLIP_VICTIMS.map((v) => ({ v, frames: mjpegFrames(path.join(facesDir(), v.feed)) }));
  const random = rng(77);
  await lanes(opts.tries, Math.min(opts.concurrency, feeds.length), async (i) => {
    const { v, frames } = feeds[i % Math.min(opts.concurrency, feeds.length)]!;
    const socket = await socketFrom(r.url, nextAddress());
    try {
      const out = await performFlow(
        socket,
        'login',
        { mode: 'verify', username: v.username },
        replayPerformer(frames, Math.floor(random() * frames.length)),
        { maxFrames: 220 },
      );
      const o = outcomeOf(out.result as LoginResult | undefined, out.started);
      tally(outcomes, o);
      if (o === 'success') successes++;
    } finally {
      socket.disconnect();
    }
  });
  const name = 'replay of a recorded genuine clip';
  log(`${name}: ${successes}/${opts.tries} ${JSON.stringify(outcomes)}`);
  return {
    name,
    kind: 'photo',
    tries: opts.tries,
    successes,
    outcomes,
    note: 'real recordings of 4 enrolled people played in a loop from random points, as a virtual camera plays them',
  };
}

/**
 * Start, look at the challenge, cancel (or disconnect) and draw again. A try succeeds for the
 * attacker when the abandoned flow left no trace: not counted against the account and address,
 * not in the audit log.
 */
async function cancelRedraw(
  r: Replica,
  prepared: { victim: string; p: PreparedPhoto }[],
  tries: number,
  log: (l: string) => void,
): Promise<ClassResult> {
  const outcomes: Record<string, number> = {};
  let successes = 0;
  const ip = nextAddress();
  const { victim, p } = prepared[0]!;
  const random = rng(5);
  for (let i = 0; i < tries; i++) {
    const socket = await socketFrom(r.url, ip);
    try {
      const started = await ask<{ loginId: string }>(socket, 'login:start', { mode: 'verify', username: victim });
      if ('error' in started) {
        tally(outcomes, `refused at start: ${started.error.code}`);
        continue;
      }
      const loginId = started.data.loginId;
      // hold still until the step is shown, then give up on it
      await perform(socket, 'login', { next: (c) => (c.step ? null : cameraFrame(p.still, random)) }, { maxFrames: 30 });
      if (i % 2 === 0) await ask(socket, 'login:cancel');
      else socket.disconnect();
      await new Promise((res) => setTimeout(res, 150));
      const { rows } = await r.ctx.db.query<{ type: string }>("SELECT type FROM audit_events WHERE details->>'loginId' = $1", [loginId]);
      const trace = rows.map((x) => x.type).join(',') || 'no trace';
      tally(outcomes, trace);
      if (rows.length === 0) successes++;
    } finally {
      socket.disconnect();
    }
  }
  log(`cancel/redraw: ${successes}/${tries} ${JSON.stringify(outcomes)}`);
  return {
    name: 'cancel / disconnect and redraw',
    kind: 'accounting',
    tries,
    successes,
    outcomes,
    note: 'a try succeeds if the abandoned flow left no audit event; from one address the account pair backs off after 3',
  };
}

/**
 * Does a frame answer tell whether a face matched? The victim's photo and a stranger's photo are
 * sent side by side on two flows; a try succeeds when any answer before the result differs in
 * status, step or feedback between the two.
 */
async function frameOracle(
  r: Replica,
  prepared: { victim: string; p: PreparedPhoto }[],
  tries: number,
  log: (l: string) => void,
): Promise<ClassResult> {
  const outcomes: Record<string, number> = {};
  let successes = 0;
  const stranger = await decode(photo('liveportrait/unknown/d9.jpg'));
  const strangerFrame = await encode(stranger);
  for (let i = 0; i < tries; i++) {
    // the limits are not what this class measures: every try starts clean
    await resetLimits(r);
    const { victim, p } = prepared[i % prepared.length]!;
    const victimJpeg = await encode(p.still);
    const answers = async (frame: Buffer): Promise<LoginFrameResult[] | null> => {
      const socket = await socketFrom(r.url, nextAddress());
      try {
        const st = await ask(socket, 'login:start', { mode: 'verify', username: victim });
        if ('error' in st) return null;
        const acks: LoginFrameResult[] = [];
        for (let k = 0; k < 6; k++) {
          const ra = await ask<LoginFrameResult>(socket, 'login:frame', { seq: k + 1, image: variant(frame, k) });
          if ('data' in ra) acks.push(ra.data);
          await new Promise((res) => setTimeout(res, 130));
        }
        await ask(socket, 'login:cancel');
        return acks;
      } finally {
        socket.disconnect();
      }
    };
    // one live login per account: the victim's photo first, then the stranger's
    const acksA = await answers(victimJpeg);
    await new Promise((res) => setTimeout(res, 200));
    const acksB = await answers(strangerFrame);
    if (!acksA || !acksB) {
      tally(outcomes, 'refused');
      continue;
    }
    // only what could tell them apart: status, step and the instruction (not the face box)
    const strip = (x: LoginFrameResult) =>
      JSON.stringify({
        s: x.status,
        st: x.step,
        n: x.stepsCompleted,
        k: Object.keys(x)
          .filter((k) => k !== 'box' && k !== 'frameSize')
          .sort(),
      });
    const differs = acksA.length !== acksB.length || acksA.some((x, k) => strip(x) !== strip(acksB[k]!));
    if (differs) log(`oracle difference: ${JSON.stringify(acksA)} vs ${JSON.stringify(acksB)}`);
    tally(outcomes, differs ? 'answers differ' : 'answers identical');
    if (differs) successes++;
  }
  log(`frame oracle: ${successes}/${tries} ${JSON.stringify(outcomes)}`);
  return {
    name: 'per-frame match oracle',
    kind: 'accounting',
    tries,
    successes,
    outcomes,
    note: 'victim photo vs stranger photo on two flows: any difference in the frame answers before the result',
  };
}

/**
 * Lock the victim out: 55 logins opened at once from one address (and, every other try, from
 * 55 addresses), each failing with a stranger's face. A try succeeds for the attacker when
 * afterwards the victim cannot log in from home, or not even at a trusted kiosk.
 */
async function parallelLockout(
  r: Replica,
  prepared: { victim: string; p: PreparedPhoto }[],
  tries: number,
  log: (l: string) => void,
): Promise<ClassResult> {
  const outcomes: Record<string, number> = {};
  let successes = 0;
  const stranger = await encode(await decode(photo('liveportrait/donald_trump/d38.jpg')));
  const victim = prepared[0]!.victim;
  const kiosk = { ip: '10.9.9.9' };
  const home = { ip: '10.1.1.1' };
  const admin = (await r.ctx.db.query<{ id: string }>('SELECT id FROM users ORDER BY created_at LIMIT 1')).rows[0]!.id;
  const kioskCredential = (await r.ctx.devices.trust('line 4 kiosk', admin, { ip: kiosk.ip, userAgent: null, deviceId: null })).credential;
  const attackerIp = nextAddress();
  for (let i = 0; i < tries; i++) {
    const distributed = i % 2 === 1;
    await resetLimits(r);
    // one address: four bursts in a row (the pair backs off after three); many addresses: eleven,
    // enough to back the account off for every untrusted origin
    let started = 0;
    for (let burst = 0; burst < (distributed ? 11 : 4); burst++) {
      await Promise.all(
        Array.from({ length: 55 }, async (_, k) => {
          const socket = await socketFrom(r.url, distributed ? nextAddress() : attackerIp);
          try {
            const s = await ask(socket, 'login:start', { mode: 'verify', username: victim });
            if ('error' in s) return;
            started++;
            await perform(socket, 'login', { next: (c) => (c.frame < 8 ? variant(stranger, k * 100 + c.frame) : null) }, { maxFrames: 8 });
          } finally {
            socket.disconnect();
          }
        }),
      );
      await new Promise((res) => setTimeout(res, 150));
    }
    await new Promise((res) => setTimeout(res, 300));
    // can the victim start a login now, from home and at the trusted kiosk? (cancelled at once,
    // before any face: that is not an attempt)
    const may = async (ip: string, cookie?: string) => {
      const socket = await socketFrom(r.url, ip, cookie);
      try {
        const s = await ask(socket, 'login:start', { mode: 'verify', username: victim });
        if ('error' in s) return false;
        await ask(socket, 'login:cancel');
        return true;
      } finally {
        socket.disconnect();
      }
    };
    const homeOk = await may(home.ip);
    const kioskOk = await may(kiosk.ip, `faceline_device=${kioskCredential}`);
    // one attacker must never keep the owner out anywhere; many may slow remote logins, never the kiosk
    const lockedOut = distributed ? !kioskOk : !homeOk || !kioskOk;
    tally(
      outcomes,
      `${distributed ? '11 bursts from 55 addresses each' : '4 bursts from one address'}: ${started} started, home ${homeOk ? 'may log in' : 'blocked'}, kiosk ${kioskOk ? 'may log in' : 'blocked'}`,
    );
    if (lockedOut) successes++;
  }
  log(`parallel lockout: ${successes}/${tries} ${JSON.stringify(outcomes)}`);
  return {
    name: 'parallel flows to lock the victim out',
    kind: 'accounting',
    tries,
    successes,
    outcomes,
    note: 'bursts of 55 logins opened at once, failing with a stranger’s face. From one address the victim must still be allowed everywhere; from 55 addresses per burst at least at a trusted kiosk',
  };
}

/** A registration ticket used again after it enrolled a face (and two enrollments racing on one ticket). */
async function ticketReuse(r: Replica, tries: number, log: (l: string) => void): Promise<ClassResult> {
  const outcomes: Record<string, number> = {};
  let successes = 0;
  // two people who are no victim (a face may belong to one account only)
  const own = photo('liveportrait/unknown/d8.jpg');
  const attacker = photo('liveportrait/unknown/d30.jpg');
  for (let i = 0; i < tries; i++) {
    const reg = await http(r.url, 'POST', '/api/v1/users', { body: { username: `ticket-${i}`, displayName: 'T' } });
    const ticket = reg.json.enrollmentTicket as string;
    const enroll = async (frame: Buffer) => {
      const s = await connect(r.url);
      try {
        return await performFlow(s, 'enroll', { ticket }, { next: (c) => variant(frame, c.frame) }, { frameIntervalMs: 0, maxFrames: 8 });
      } finally {
        s.disconnect();
      }
    };
    const userId = reg.json.user.id as string;
    if (i % 2 === 0) {
      const first = await enroll(own);
      const second = await enroll(attacker);
      const ok = Boolean(first.result?.ok) && Boolean(second.result?.ok);
      tally(
        outcomes,
        ok
          ? 'reused'
          : `second: ${'error' in second.started ? second.started.error.code : ((second.result as { error?: { code: string } })?.error?.code ?? 'no result')}`,
      );
      if (ok) successes++;
    } else {
      const both = await Promise.all([enroll(own), enroll(attacker)]);
      const completed = both.filter((b) => b.result?.ok).length;
      tally(outcomes, `racing: ${completed} completed`);
      if (completed > 1) successes++;
    }
    // a face belongs to one account: free it for the next try
    const user = await r.ctx.users.get(userId);
    await r.ctx.users.deleteAccount(user, { ip: '127.0.0.1', userAgent: null, deviceId: null });
  }
  log(`ticket reuse: ${successes}/${tries} ${JSON.stringify(outcomes)}`);
  return {
    name: 'enrollment ticket reuse',
    kind: 'accounting',
    tries,
    successes,
    outcomes,
    note: 'a used ticket again, or two enrollments racing on one ticket: a second face must never be stored',
  };
}

/**
 * A stolen session (its face login an hour old) asks for an enrollment ticket or starts an
 * enrollment on the socket to put the attacker's face on the account.
 */
async function staleSessionReenroll(r: Replica, tries: number, log: (l: string) => void): Promise<ClassResult> {
  const outcomes: Record<string, number> = {};
  let successes = 0;
  const frame = photo('human/anon_human_emotions_a/stock-emotions-a-5.jpg');
  for (let i = 0; i < tries; i++) {
    const s = await connect(r.url);
    const out = await performFlow(
      s,
      'login',
      { mode: 'verify', username: 'ana' },
      { next: (c) => variant(frame, c.frame) },
      { frameIntervalMs: 0, maxFrames: 5 },
    );
    s.disconnect();
    const grant = (out.result as LoginResult & { grant?: string })?.grant;
    if (!grant) {
      tally(outcomes, 'login failed');
      continue;
    }
    const session = await http(r.url, 'POST', '/api/v1/sessions', { body: { grant } });
    const cookie = cookieHeader(session.setCookies);
    // the thief holds the session long after the face login
    await r.ctx.db.query("UPDATE sessions SET auth_time = now() - interval '1 hour' WHERE id = $1", [
      JSON.parse(Buffer.from(String(session.json.accessToken).split('.')[1]!, 'base64url').toString()).sid,
    ]);
    // a refresh renews the tokens, not the face login
    const refreshed = await http(r.url, 'POST', '/api/v1/sessions/refresh', { cookie });
    const fresh = cookieHeader(refreshed.setCookies, new Map(cookie.split('; ').map((kv) => kv.split('=') as [string, string])));
    let got = false;
    if (i % 2 === 0) {
      const t = await http(r.url, 'POST', '/api/v1/me/enrollment-ticket', { cookie: fresh, body: {} });
      got = t.status === 200;
      tally(outcomes, got ? 'ticket issued' : `ticket: ${t.json?.error?.code}`);
    } else {
      const sock = await connect(r.url, { cookie: fresh });
      const st = await ask(sock, 'enroll:start', {});
      sock.disconnect();
      got = !('error' in st);
      tally(outcomes, got ? 'enrollment started' : `enroll:start: ${'error' in st ? st.error.code : ''}`);
    }
    if (got) successes++;
  }
  log(`stale session re-enrollment: ${successes}/${tries} ${JSON.stringify(outcomes)}`);
  return {
    name: 'stolen session replaces the face',
    kind: 'accounting',
    tries,
    successes,
    outcomes,
    note: `a session whose face login is an hour old: ticket or enroll:start must answer ${ErrorCode.REAUTH_REQUIRED}`,
  };
}

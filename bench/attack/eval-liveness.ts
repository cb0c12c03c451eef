/**
 * npm run eval:liveness — does liveness let real people in, and keep recordings out?
 *
 * Real recordings from the face set (webcam feeds, and the full driving videos when ffmpeg is
 * installed) are analysed once with the vision pipeline; then the liveness session
 * (services/auth/src/services/liveness) is run over them the way a login would:
 *
 * - genuine: for every real motion in a recording (a head turn that starts from holding still,
 *   a labelled blink of both eyes) the step is shown 300, 500 or 800 ms before the motion starts,
 *   as if the person reacted to it — the share of these that pass, per step;
 * - replay: the recording played in a loop from every starting point, against random two-step
 *   challenges, as a virtual camera plays it — the share that pass.
 *
 * Prints both; figures only, no thresholds asserted (the tests do that).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { ChallengeStep } from '@faceline/contracts';
import { facesDir, requireFaces } from '@faceline/testkit';
import { createOnnxPipeline } from '../../services/vision/src/pipeline/index.js';
import { makeChallenge } from '../../services/auth/src/services/liveness/challenge.js';
import { DEFAULT_LIVENESS_RULES } from '../../services/auth/src/services/liveness/rules.js';
import { LivenessSession, type ObservedFace } from '../../services/auth/src/services/liveness/session.js';
import { decodeTexture, meanEar } from '../../services/auth/src/services/liveness/texture.js';
import { mjpegFrames } from '../../services/auth/test/support/client.js';
import { rng } from './warps.js';

const FPS = 30;
/** Both eyes closed, seconds (by looking at the frames). */
const BLINKS: Record<string, [number, number][]> = {
  'anon_lp_d7_blink_480x480.mjpeg': [
    [0.73, 1.0],
    [2.3, 2.8],
    [3.2, 4.1],
  ],
  'franck_talkingface_480x480.mjpeg': [
    [4.1, 5.1],
    [12.3, 12.7],
  ],
};

async function analyse(frames: Buffer[]): Promise<(ObservedFace | null)[]> {
  const p = await createOnnxPipeline({ intraOpThreads: 1 });
  const out: (ObservedFace | null)[] = [];
  for (const f of frames) {
    const { data, info } = await sharp(f).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const faces = await p.analyze(
      { data: new Uint8Array(data), width: info.width, height: info.height },
      { largestOnly: false, maxFaces: 5, embeddings: true, minFaceSize: 40, texture: true },
    );
    const face = faces.length === 1 ? faces[0]! : undefined;
    out.push(
      face
        ? {
            yaw: face.quality.yaw,
            pitch: face.quality.pitch,
            ear: meanEar(face.quality),
            embedding: face.embedding!,
            texture: decodeTexture(face.texture),
          }
        : null,
    );
  }
  await p.close();
  return out;
}

/** Turns that start from holding still and facing the camera, and reach 15° within 1.5 s. */
function turnEvents(rows: (ObservedFace | null)[]): { at: number; step: ChallengeStep }[] {
  const ev: { at: number; step: ChallengeStep }[] = [];
  for (let k = 18; k < rows.length - 45; k++) {
    const win = rows.slice(k - 18, k);
    if (win.some((r) => !r || Math.abs(r.yaw) > 25 || Math.abs(r.pitch) > 25)) continue;
    const med = win.map((r) => r!.yaw).sort((a, b) => a - b)[9]!;
    if (Math.abs(med) > 12 || win.some((r) => Math.abs(r!.yaw - med) > 6)) continue;
    const cur = rows[k];
    if (!cur || Math.abs(cur.yaw - med) < 5) continue;
    const dir = Math.sign(cur.yaw - med);
    if (!rows.slice(k, k + 45).some((r) => r && dir * (r.yaw - med) >= 15)) continue;
    if (ev.length && k - ev[ev.length - 1]!.at < 30) continue;
    ev.push({ at: k, step: dir > 0 ? ChallengeStep.TURN_LEFT : ChallengeStep.TURN_RIGHT });
  }
  return ev;
}

/** One step shown `lead` frames before `at`: held from a hold of 600 ms before that, frames every 4th. */
function genuineTry(
  rows: (ObservedFace | null)[],
  step: ChallengeStep,
  at: number,
  leadMs: number,
  offset: number,
): { ok: boolean; why: string } {
  const s = new LivenessSession([step], { ...DEFAULT_LIVENESS_RULES, holdMinMs: 600, holdMaxMs: 600 }, () => 0);
  const reveal = at - Math.round((leadMs * FPS) / 1000);
  const start = reveal - Math.round((600 * FPS) / 1000) - offset;
  if (start < 0) return { ok: false, why: 'clip starts too late' };
  let revealed = false;
  for (let k = start; k < rows.length; k += 4) {
    const e = s.observe({ t: (k * 1000) / FPS, face: rows[k] ?? null });
    if (e.revealed) revealed = true;
    if (e.failure) return { ok: false, why: e.failure };
    if (s.done) return { ok: true, why: 'passed' };
    if (!revealed && k - start > 4 * FPS) return { ok: false, why: 'not holding still before the motion' };
  }
  return { ok: false, why: 'clip ended' };
}

function replayTry(rows: (ObservedFace | null)[], start: number, seed: number): boolean {
  const random = rng(seed);
  const s = new LivenessSession(makeChallenge(2), DEFAULT_LIVENESS_RULES, random);
  for (let i = 0; i < 600; i++) {
    s.observe({ t: (i * 4 * 1000) / FPS, face: rows[(start + i * 4) % rows.length] ?? null });
    if (s.done || s.failed) break;
  }
  return s.done;
}

async function recordings(): Promise<{ name: string; frames: Buffer[] }[]> {
  const dir = path.join(facesDir(), 'webcam');
  const out = [
    'franck_talkingface_480x480.mjpeg',
    'anon_lp_d7_blink_480x480.mjpeg',
    'anon_lp_d3_woman_480x480.mjpeg',
    'anon_lp_d9_man_glasses_480x480.mjpeg',
  ].map((f) => ({
    name: f,
    frames: mjpegFrames(path.join(dir, f)),
  }));
  // the full driving videos, when ffmpeg can decode them
  let ffmpeg = false;
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    ffmpeg = true;
  } catch {
    console.log('(ffmpeg not installed: only the webcam feeds, not the full driving videos)');
  }
  if (ffmpeg) {
    const tmp = mkdtempSync(path.join(tmpdir(), 'faceline-eval-'));
    for (const d of ['d3', 'd9', 'd13', 'd19', 'd20']) {
      const src = path.join(facesDir(), 'liveportrait');
      const folder = [
        'anon_lp_d3_woman',
        'anon_lp_d9_man_glasses',
        'anon_lp_d13_man_selfie',
        'anon_lp_d19_man_glasses',
        'anon_lp_d20_man',
      ].find((x) => x.includes(`_${d}_`));
      const file = folder ? path.join(src, folder, `${d}.mp4`) : '';
      if (!existsSync(file)) continue;
      const outFile = path.join(tmp, `${d}.mjpeg`);
      execFileSync('ffmpeg', [
        '-loglevel',
        'error',
        '-y',
        '-i',
        file,
        '-vf',
        "scale='min(640,iw)':-2",
        '-r',
        '30',
        '-q:v',
        '3',
        '-f',
        'mjpeg',
        outFile,
      ]);
      out.push({ name: `${d}.mp4`, frames: mjpegFrames(outFile) });
    }
  }
  return out;
}

requireFaces();
const genuine: Record<string, { ok: number; n: number; why: Record<string, number> }> = {};
let replayOk = 0,
  replayN = 0;
for (const r of await recordings()) {
  const rows = await analyse(r.frames);
  const events = turnEvents(rows);
  for (const [a] of BLINKS[r.name] ?? []) events.push({ at: Math.round(a * FPS), step: ChallengeStep.BLINK });
  for (const e of events) {
    for (const lead of [300, 500, 800]) {
      for (const offset of [0, 1, 2, 3]) {
        const g = (genuine[e.step] ??= { ok: 0, n: 0, why: {} });
        const res = genuineTry(rows, e.step, e.at, lead, offset);
        g.n++;
        if (res.ok) g.ok++;
        else g.why[res.why] = (g.why[res.why] ?? 0) + 1;
      }
    }
  }
  for (let start = 0; start < rows.length; start += 5) {
    replayN++;
    if (replayTry(rows, start, start + 1)) replayOk++;
  }
  console.log(`${r.name}: ${r.frames.length} frames, ${events.length} motions`);
}
console.log('\ngenuine motions, the step shown 300/500/800 ms before the motion starts:');
for (const [step, g] of Object.entries(genuine)) {
  console.log(`  ${step.padEnd(11)} ${g.ok}/${g.n} pass (${((100 * g.ok) / g.n).toFixed(0)}%)  failures: ${JSON.stringify(g.why)}`);
}
const all = Object.values(genuine).reduce((a, g) => ({ ok: a.ok + g.ok, n: a.n + g.n }), { ok: 0, n: 0 });
console.log(`  all          ${all.ok}/${all.n} pass (${((100 * all.ok) / all.n).toFixed(0)}%)`);
// the recordings are of people who were not asked to do anything: some motions cannot be a
// login step at all (the person was not holding still before it, or it is at the very start)
const notPerformable = ['not holding still before the motion', 'clip starts too late'];
const performable = Object.values(genuine).reduce(
  (a, g) => ({ ok: a.ok + g.ok, n: a.n + g.n - notPerformable.reduce((s, w) => s + (g.why[w] ?? 0), 0) }),
  { ok: 0, n: 0 },
);
console.log(
  `  of the motions a person asked to hold still first could have made: ${performable.ok}/${performable.n} pass (${((100 * performable.ok) / performable.n).toFixed(0)}%)`,
);
console.log(`\nrecordings replayed in a loop against random two-step challenges: ${replayOk}/${replayN} pass`);

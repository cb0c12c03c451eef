/**
 * Do the passive anti-spoofing models an npm package ships help against the attacks Faceline
 * faces? Measures @vladmandic/human's `antispoof` and `liveness` classifiers, and its mesh + iris
 * eye openness, on the shared face set:
 *
 *   genuine       the `live` photo, ordinary portraits (kind `photo`), every frame of two real
 *                 recordings (franck_talkingface, anon_lp_d7_blink)
 *   presentation  printed photo, tablet screen, the screen-replay feed (kinds spoof_print,
 *                 spoof_screen; webcam/spoof_screen_replay_480x640.mjpeg)
 *   injection     the portraits after the 2-D warps of bench/attack/warps.ts, and open-eyed frames
 *                 of the two recordings after squashEyes, re-encoded as JPEG
 *
 * npm run eval:antispoof -- [folder] [--out file] [--quick] [--eye-sheets DIR]
 *
 * Portraits are scaled to fit 640x480 (a camera frame) and re-encoded as JPEG (quality 92) both
 * unchanged and warped, so the genuine portraits and their warps differ only by the warp.
 * An evaluation, not a test: it prints figures and writes artifacts/eval-antispoof.json.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp, { type OverlayOptions } from 'sharp';
import { facesDir, loadCatalog, REPO_ROOT, requireFaces } from '@faceline/testkit';
import { mirror, planarTurn, rng, sensorNoise, squashEyes, stretchTurn, tpsTurn, type Pt, type Rgb } from '../../../bench/attack/warps.js';
import { createOnnxFacePipeline } from '../src/pipeline/index.js';
import { CLIPS, eyeState, splitMjpeg, type EyeSide } from './antispoof/clips.js';
import { faceApiEars, meshEyes, type MeshEye } from './antispoof/eyes.js';
import { createHuman, humanVersion, type HumanConfig, type HumanFace, type Tensor } from './antispoof/human-wasm.js';
import { dist, equalErrorRate, passAtGenuineKept, rocAuc, thresholdCovering, type Dist } from './antispoof/metrics.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string', default: path.join(REPO_ROOT, 'artifacts', 'eval-antispoof.json') },
    quick: { type: 'boolean', default: false },
    'eye-sheets': { type: 'string' },
  },
});
const callerDir = process.env.INIT_CWD ?? process.cwd();
const outFile = path.resolve(callerDir, values.out!);
const sheetsDir = values['eye-sheets'] ? path.resolve(callerDir, values['eye-sheets']) : null;
const dir = requireFaces(positionals[0] ? path.resolve(callerDir, positionals[0]) : facesDir());
const FRAME_STEP = values.quick ? 3 : 1;
const MAX_PORTRAITS = values.quick ? 24 : Infinity;
const JPEG_QUALITY = 92;

// ---------------------------------------------------------------- models
const human = await createHuman();
const tf = human.tf;
const onnx = await createOnnxFacePipeline({ intraOpThreads: 1 });
const fullPass = { face: { iris: { enabled: true }, antispoof: { enabled: true }, liveness: { enabled: true } } } as Partial<HumanConfig>;
const meshOnlyPass = {
  face: { iris: { enabled: false }, antispoof: { enabled: false }, liveness: { enabled: false } },
} as Partial<HumanConfig>;

// Every score is read as "higher = genuine", as human labels them (`face.real`, `face.live`). For
// liveness human reports softmax output 0, while the training script its manifest names encodes
// labels alphabetically (fake = 0, real = 1): an AUC below 0.5 is the reverse orientation.
type ScoreName = 'antispoof' | 'antispoofTight' | 'liveness' | 'livenessTight';
const SCORES: { name: ScoreName; label: string }[] = [
  { name: 'antispoof', label: 'antispoof (human crop)' },
  { name: 'antispoofTight', label: 'antispoof (tight crop)' },
  { name: 'liveness', label: 'liveness (human crop)' },
  { name: 'livenessTight', label: 'liveness (tight crop)' },
];

interface Analysis {
  found: boolean;
  scores?: Record<ScoreName, number>;
  /** human's own rounded `face.real` / `face.live` */
  humanReal?: number | undefined;
  humanLive?: number | undefined;
  eyes?: [MeshEye, MeshEye];
  eyesMeshOnly?: [MeshEye, MeshEye] | null;
  faceApiEar?: [number, number] | null;
  ms: { detect: number; face: number; antispoof: number; liveness: number };
}

interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

async function decode(input: Buffer | string, rotate = true): Promise<RgbImage> {
  let s = sharp(input);
  if (rotate) s = s.rotate();
  const { data, info } = await s.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

async function reencode(img: RgbImage): Promise<RgbImage> {
  const jpeg = await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length), {
    raw: { width: img.width, height: img.height, channels: 3 },
  })
    .jpeg({ quality: JPEG_QUALITY })
    .toBuffer();
  return decode(jpeg, false);
}

/** Runs a model on a [1,h,w,3] 0..1 crop resized to the model's input, returns its output values. */
async function runModel(name: 'antispoof' | 'liveness', crop4d: Tensor): Promise<Float32Array> {
  const model = human.models.models[name]!;
  const size = model.inputs[0]!.shape![1]!;
  const resized = tf.image.resizeBilinear(crop4d as never, [size, size], false);
  const out = model.execute(resized) as Tensor;
  const data = (await out.data()) as Float32Array;
  tf.dispose([resized, out]);
  return data;
}

let roundingMismatches = 0;

async function analyse(img: RgbImage, opts: { eyes: boolean }): Promise<Analysis> {
  const input = tf.tensor4d(img.data, [1, img.height, img.width, 3], 'int32');
  try {
    const t0 = performance.now();
    const res = await human.detect(input as never, fullPass);
    const detectMs = performance.now() - t0;
    const perf = human.performance;
    const ms = {
      detect: detectMs,
      face: perf.face ?? Number.NaN,
      antispoof: perf.antispoof ?? Number.NaN,
      liveness: perf.liveness ?? Number.NaN,
    };
    const face = res.face[0] as HumanFace | undefined;
    if (!face?.tensor) return { found: false, ms };
    // The crop human feeds both models (BlazeFace box x1.4, squared, rotation-corrected, 192x192, 0..1) …
    const crop = tf.expandDims(face.tensor as never, 0);
    const as = (await runModel('antispoof', crop as Tensor))[0]!;
    const lv = (await runModel('liveness', crop as Tensor))[0]!;
    tf.dispose([crop, face.tensor]);
    // … and a tight square around the mesh's face box, straight from the frame.
    const [bx, by, bw, bh] = face.box;
    const side = Math.max(bw, bh),
      cx = bx + bw / 2,
      cy = by + bh / 2;
    const f32 = tf.cast(input, 'float32');
    const norm = tf.div(f32, 255);
    const box = [[(cy - side / 2) / img.height, (cx - side / 2) / img.width, (cy + side / 2) / img.height, (cx + side / 2) / img.width]];
    const tight = tf.image.cropAndResize(norm as never, box, [0], [128, 128]);
    const asT = (await runModel('antispoof', tight as Tensor))[0]!;
    const lvT = (await runModel('liveness', tight as Tensor))[0]!;
    tf.dispose([f32, norm, tight]);
    // human rounds to 2 decimals and drops a 0: our raw numbers must round to what it reports.
    if (face.real !== undefined && Math.round(as * 100) / 100 !== face.real) roundingMismatches++;
    if (face.live !== undefined && Math.round(lv * 100) / 100 !== face.live) roundingMismatches++;

    const out: Analysis = {
      found: true,
      scores: { antispoof: as, antispoofTight: asT, liveness: lv, livenessTight: lvT },
      humanReal: face.real,
      humanLive: face.live,
      eyes: meshEyes(face.mesh),
      ms,
    };
    if (opts.eyes) {
      const mo = await human.detect(input as never, meshOnlyPass);
      const f2 = mo.face[0] as HumanFace | undefined;
      if (f2?.tensor) tf.dispose(f2.tensor);
      out.eyesMeshOnly = f2 && f2.mesh.length >= 468 ? meshEyes(f2.mesh.slice(0, 468)) : null;
      const [of] = await onnx.analyze(img, { largestOnly: true, maxFaces: 1, embeddings: false, minFaceSize: 1 });
      out.faceApiEar = of ? faceApiEars(of.landmarks) : null;
    }
    return out;
  } finally {
    tf.dispose(input);
  }
}

// ---------------------------------------------------------------- samples
type Kind = 'genuine' | 'presentation' | 'injection';
interface Sample {
  kind: Kind;
  group: string;
  /** the warp family for injection samples, the group otherwise */
  family: string;
  source: string;
  frame?: number;
  /** for portraits and their warps: the portrait's index, to pair a warp with its original */
  portrait?: number;
  a: Analysis;
}
const samples: Sample[] = [];
const started = performance.now();
const catalog = loadCatalog(dir);
const tensorsAtStart = tf.memory().numTensors;
const progress = (msg: string) =>
  process.stderr.write(`\r${msg.padEnd(70)} ${String(tf.memory().numTensors - tensorsAtStart).padStart(5)} tensors`);

// genuine and presentation stills, EXIF honoured; the "_upright" copies are the same pictures again
for (const e of catalog.filter((c) => ['live', 'spoof_print', 'spoof_screen'].includes(c.kind) && !c.path.includes('_upright'))) {
  const kind: Kind = e.kind === 'live' ? 'genuine' : 'presentation';
  const group = e.kind === 'live' ? 'live photo' : e.kind === 'spoof_print' ? 'printed photo' : 'tablet screen';
  samples.push({ kind, group, family: group, source: e.path, a: await analyse(await decode(e.file), { eyes: false }) });
}

// clips: the real recordings (every FRAME_STEP-th frame) and the screen-replay feed
interface ClipFrame {
  clip: keyof typeof CLIPS;
  frame: number;
  jpeg: Buffer;
  a: Analysis;
}
const clipFrames: ClipFrame[] = [];
const SQUASH = [0.6, 0.4, 0.25, 0.15];
/**
 * The squash on the recordings' own open-eyed frames (every SQUASH_CLIP_EVERY-th): the same
 * person, camera and light as the real closed eyes, so only the warp differs.
 */
const SQUASH_CLIP_EVERY = 5;
let openFramesSeen = 0;
for (const clip of Object.keys(CLIPS) as (keyof typeof CLIPS)[]) {
  const frames = splitMjpeg(await readFile(path.join(dir, CLIPS[clip].file)));
  if (frames.length !== CLIPS[clip].frames)
    throw new Error(`${CLIPS[clip].file}: ${frames.length} frames, the labels were made for ${CLIPS[clip].frames}`);
  for (let i = 0; i < frames.length; i += FRAME_STEP) {
    progress(`${clip} frame ${i + 1}/${frames.length}`);
    const a = await analyse(await decode(frames[i]!, false), { eyes: true });
    samples.push({ kind: 'genuine', group: `${clip} clip`, family: `${clip} clip`, source: CLIPS[clip].file, frame: i, a });
    clipFrames.push({ clip, frame: i, jpeg: frames[i]!, a });
    const bothOpen = eyeState(clip, i, 'imageLeft') === 'open' && eyeState(clip, i, 'imageRight') === 'open';
    if (bothOpen && openFramesSeen++ % Math.max(1, Math.round(SQUASH_CLIP_EVERY / FRAME_STEP)) === 0) {
      const img = await decode(frames[i]!, false);
      const [lmFace] = await onnx.analyze(img, { largestOnly: true, maxFaces: 1, embeddings: false, minFaceSize: 1 });
      if (!lmFace) continue;
      for (const f of SQUASH) {
        const warped = await reencode(squashEyes(img, lmFace.landmarks as Pt[], f));
        const group = `squashEyes ${f} (clip frames)`;
        samples.push({
          kind: 'injection',
          group,
          family: 'squashEyes on clip frames',
          source: CLIPS[clip].file,
          frame: i,
          a: await analyse(warped, { eyes: true }),
        });
      }
    }
  }
}
const replay = splitMjpeg(await readFile(path.join(dir, 'webcam/spoof_screen_replay_480x640.mjpeg')));
for (let i = 0; i < replay.length; i++) {
  const a = await analyse(await decode(replay[i]!, false), { eyes: false });
  samples.push({
    kind: 'presentation',
    group: 'screen replay feed',
    family: 'screen replay feed',
    source: 'webcam/spoof_screen_replay_480x640.mjpeg',
    frame: i,
    a,
  });
}

// portraits, unchanged and warped
interface Warp {
  family: string;
  label: string;
  apply: (img: Rgb, lm: readonly Pt[], i: number) => Rgb;
  eyes?: boolean;
}
const sign = (i: number) => (i % 2 ? -1 : 1); // alternate directions across portraits
const WARPS: Warp[] = [
  ...[0.15, 0.3].map((a) => ({
    family: 'stretchTurn',
    label: `stretchTurn ${a}`,
    apply: (img: Rgb, lm: readonly Pt[], i: number) => stretchTurn(img, lm, sign(i) * a),
  })),
  ...[20, 35].map((d) => ({
    family: 'planarTurn',
    label: `planarTurn ${d}°`,
    apply: (img: Rgb, lm: readonly Pt[], i: number) => planarTurn(img, lm, sign(i) * d),
  })),
  ...[15, 30].map((d) => ({
    family: 'tpsTurn',
    label: `tpsTurn ${d}°`,
    apply: (img: Rgb, lm: readonly Pt[], i: number) => tpsTurn(img, lm, sign(i) * d),
  })),
  ...SQUASH.map((f) => ({
    family: 'squashEyes',
    label: `squashEyes ${f}`,
    apply: (img: Rgb, lm: readonly Pt[]) => squashEyes(img, lm, f),
    eyes: true,
  })),
  { family: 'mirror', label: 'mirror', apply: (img: Rgb) => mirror(img) },
  ...[4, 10].map((s) => ({
    family: 'sensorNoise',
    label: `sensorNoise σ${s}`,
    apply: (img: Rgb, _lm: readonly Pt[], i: number) => sensorNoise(img, s, rng(1000 + i)),
  })),
];
const portraits = catalog.filter((c) => c.kind === 'photo').slice(0, MAX_PORTRAITS);
const portraitInfo: { source: string; lmFound: boolean; openEyed: boolean }[] = [];
for (let i = 0; i < portraits.length; i++) {
  const e = portraits[i]!;
  progress(`portrait ${i + 1}/${portraits.length} ${e.path}`);
  const { data, info } = await sharp(e.file)
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .resize(640, 480, { fit: 'inside', withoutEnlargement: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const img: RgbImage = { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  const [lmFace] = await onnx.analyze(img, { largestOnly: true, maxFaces: 1, embeddings: false, minFaceSize: 1 });
  // The warps need the 68 landmarks an attacker's face model gives; without them there is no attack.
  const lm = lmFace?.landmarks as Pt[] | undefined;
  const ears = lm ? faceApiEars(lm) : null;
  const iod = lm ? Math.hypot(lm[42]![0] - lm[39]![0], lm[42]![1] - lm[39]![1]) : 0;
  // squashEyes is an attack on open eyes: keep portraits whose eyes are open and big enough to see
  const openEyed = !!ears && Math.min(...ears) >= 0.22 && iod >= 20;
  portraitInfo.push({ source: e.path, lmFound: !!lm, openEyed });
  samples.push({
    kind: 'genuine',
    group: 'portrait',
    family: 'portrait',
    source: e.path,
    portrait: i,
    a: await analyse(await reencode(img), { eyes: openEyed }),
  });
  if (!lm) continue;
  for (const w of WARPS) {
    const warped = await reencode(w.apply(img, lm, i));
    samples.push({
      kind: 'injection',
      group: w.label,
      family: w.family,
      source: e.path,
      portrait: i,
      a: await analyse(warped, { eyes: openEyed && !!w.eyes }),
    });
  }
}
process.stderr.write('\n');
// every tensor this script made is disposed again (a leak would exhaust the WASM heap on long runs)
const leakedTensors = tf.memory().numTensors - tensorsAtStart;
const totalSeconds = (performance.now() - started) / 1000;

// ---------------------------------------------------------------- per-frame cost
/** One model alone on random input of its own size (batch 2 for iris: both eyes), warm, this machine. */
const bench = async (name: string, fallbackSize: number, batch = 1, runs = 60) => {
  const model = human.models.models[name]!;
  const declared = model.inputs[0]!.shape?.[1] ?? -1;
  const size = declared > 0 ? declared : fallbackSize;
  const x = tf.randomUniform([batch, size, size, 3]);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const out = model.execute(x) as Tensor | Tensor[];
    const outs = Array.isArray(out) ? out : [out];
    await Promise.all(outs.map((o) => o.data()));
    times.push(performance.now() - t0);
    tf.dispose(outs);
  }
  tf.dispose(x);
  return { input: `${batch}x${size}x${size}x3`, ...dist(times.slice(5)) };
};
const found = samples.filter((s) => s.a.found);
const cost = {
  humanDetectMs: dist(found.map((s) => s.a.ms.detect)),
  humanFaceStageMs: dist(found.map((s) => s.a.ms.face)),
  humanMeshIrisMs: dist(found.map((s) => s.a.ms.face - s.a.ms.antispoof - s.a.ms.liveness)),
  humanAntispoofMs: dist(found.map((s) => s.a.ms.antispoof)),
  humanLivenessMs: dist(found.map((s) => s.a.ms.liveness)),
  antispoofModelAloneMs: await bench('antispoof', 128),
  livenessModelAloneMs: await bench('liveness', 32),
  irisModelAloneMs: await bench('iris', 64, 2),
  facemeshModelAloneMs: await bench('facemesh', 192),
  blazefaceModelAloneMs: await bench('blazeface', 256),
};

// ---------------------------------------------------------------- anti-spoofing tables
const kinds = (k: Kind) => found.filter((s) => s.kind === k);
const groupsOf = (list: Sample[], key: 'group' | 'family') => [...new Set(list.map((s) => s[key]))];
const score = (list: Sample[], n: ScoreName) => list.map((s) => s.a.scores![n]);
const genuine = kinds('genuine');

interface Comparison {
  attack: string;
  n: number;
  auc: number;
  eer: number;
  passAt95: number;
  passAt99: number;
  aucVsSamePictures?: number;
  meanChangeVsOriginal?: number;
}
const pairKey = (s: Sample) => (s.portrait !== undefined ? `${s.source}#p${s.portrait}` : `${s.source}#f${s.frame ?? ''}`);
const originals = new Map(genuine.map((s) => [pairKey(s), s]));
function compare(attackName: string, attack: Sample[], n: ScoreName): Comparison {
  const g = score(genuine, n),
    a = score(attack, n);
  const c: Comparison = {
    attack: attackName,
    n: a.length,
    auc: rocAuc(g, a),
    eer: equalErrorRate(g, a).eer,
    passAt95: passAtGenuineKept(g, a, 0.95).attackPass,
    passAt99: passAtGenuineKept(g, a, 0.99).attackPass,
  };
  // the same pictures before the warp (a portrait, or a frame of a recording): a controlled comparison
  const withOrig = attack.filter((s) => originals.has(pairKey(s)));
  if (withOrig.length) {
    const orig = (s: Sample) => originals.get(pairKey(s))!.a.scores![n];
    c.aucVsSamePictures = rocAuc(withOrig.map(orig), score(withOrig, n));
    c.meanChangeVsOriginal = withOrig.reduce((acc, s) => acc + s.a.scores![n] - orig(s), 0) / withOrig.length;
  }
  return c;
}
const attackGroups: [string, Sample[]][] = [
  ['presentation (all)', kinds('presentation')],
  ...groupsOf(kinds('presentation'), 'group').map((g) => [g, kinds('presentation').filter((s) => s.group === g)] as [string, Sample[]]),
  ['injection (all)', kinds('injection')],
  ...groupsOf(kinds('injection'), 'family').map((f) => [f, kinds('injection').filter((s) => s.family === f)] as [string, Sample[]]),
];
const separation = Object.fromEntries(SCORES.map(({ name }) => [name, attackGroups.map(([g, list]) => compare(g, list, name))]));
const distributions = Object.fromEntries(
  SCORES.map(({ name }) => [
    name,
    Object.fromEntries(
      groupsOf(found, 'group').map((g) => [
        g,
        dist(
          score(
            found.filter((s) => s.group === g),
            name,
          ),
        ),
      ]),
    ),
  ]),
);
// The live photo, the print and the tablet come from one capture set (same camera, room, people):
// the only comparison here where the domain does not differ between genuine and attack.
const matched = found
  .filter((s) => ['live photo', 'printed photo', 'tablet screen'].includes(s.group))
  .map((s) => ({
    group: s.group,
    scores: s.a.scores!,
    pass95: Object.fromEntries(
      SCORES.map(({ name }) => [name, s.a.scores![name] >= passAtGenuineKept(score(genuine, name), [], 0.95).threshold]),
    ) as Record<ScoreName, boolean>,
    pass99: Object.fromEntries(
      SCORES.map(({ name }) => [name, s.a.scores![name] >= passAtGenuineKept(score(genuine, name), [], 0.99).threshold]),
    ) as Record<ScoreName, boolean>,
  }));
const thresholds = Object.fromEntries(
  SCORES.map(({ name }) => [
    name,
    {
      keep95: passAtGenuineKept(score(genuine, name), [], 0.95).threshold,
      keep99: passAtGenuineKept(score(genuine, name), [], 0.99).threshold,
    },
  ]),
);
const coverage = groupsOf(samples, 'group').map((g) => ({
  group: g,
  kind: samples.find((s) => s.group === g)!.kind,
  faces: samples.filter((s) => s.group === g && s.a.found).length,
  total: samples.filter((s) => s.group === g).length,
}));
// ---------------------------------------------------------------- eye state
type EyeMeasure = 'faceApiEar' | 'meshOnlyEar' | 'meshOnlyHumanBlink' | 'meshEar' | 'humanBlink' | 'lidOverIris' | 'irisAspect';
const MEASURES: { name: EyeMeasure; label: string }[] = [
  { name: 'faceApiEar', label: 'face-api 68-pt EAR (the vision service today)' },
  { name: 'meshOnlyEar', label: 'human mesh EAR, iris model off' },
  { name: 'meshOnlyHumanBlink', label: 'human blink ratio, iris model off' },
  { name: 'meshEar', label: 'human mesh EAR, iris-refined lids' },
  { name: 'humanBlink', label: 'human blink ratio (gesture rule <0.2), iris on' },
  { name: 'lidOverIris', label: 'lid gap / iris diameter' },
  { name: 'irisAspect', label: 'iris height / width (roundness)' },
];
function eyeValue(a: Analysis, side: 0 | 1, m: EyeMeasure): number | null {
  switch (m) {
    case 'faceApiEar':
      return a.faceApiEar?.[side] ?? null;
    case 'meshOnlyEar':
      return a.eyesMeshOnly?.[side].meshEar ?? null;
    case 'meshOnlyHumanBlink':
      return a.eyesMeshOnly?.[side].humanBlink ?? null;
    default:
      return a.eyes?.[side][m] ?? null;
  }
}
const SIDES: EyeSide[] = ['imageLeft', 'imageRight'];
const eyeSet = (pairs: { a: Analysis; side: 0 | 1 }[], m: EyeMeasure) =>
  pairs.map((p) => eyeValue(p.a, p.side, m)).filter((v): v is number => v !== null && Number.isFinite(v));
const clipEyes = (state: 'open' | 'closed', clip?: keyof typeof CLIPS) =>
  clipFrames
    .filter((f) => f.a.found && (!clip || f.clip === clip))
    .flatMap((f) => ([0, 1] as const).filter((s) => eyeState(f.clip, f.frame, SIDES[s]!) === state).map((side) => ({ a: f.a, side })));
const portraitEyes = (group: string) =>
  found
    .filter((s) => s.group === group && s.a.eyesMeshOnly !== undefined)
    .flatMap((s) => ([0, 1] as const).map((side) => ({ a: s.a, side })));

const eyeSets = {
  realOpen: clipEyes('open'),
  realClosed: clipEyes('closed'),
  portraitOpen: portraitEyes('portrait'),
  ...Object.fromEntries(SQUASH.map((f) => [`squash ${f}`, portraitEyes(`squashEyes ${f}`)])),
  ...Object.fromEntries(SQUASH.map((f) => [`clip squash ${f}`, portraitEyes(`squashEyes ${f} (clip frames)`)])),
} as Record<string, { a: Analysis; side: 0 | 1 }[]>;
/**
 * An attacker tries every squash factor on a picture and keeps one that works: the share of
 * open-eyed pictures (portraits, or clip frames) where some factor makes both eyes read closed.
 */
function bestOfSquash(m: EyeMeasure, t: number, clipFramesToo: boolean): { pictures: number; share: number } {
  const key = (s: Sample) => (clipFramesToo ? `${s.source}#${s.frame}` : `${s.source}#${s.portrait}`);
  const squashed = found.filter(
    (s) => s.group.startsWith('squashEyes ') && s.group.endsWith('(clip frames)') === clipFramesToo && s.a.eyesMeshOnly !== undefined,
  );
  const pictures = new Set(squashed.map(key));
  const works = new Set(
    squashed
      .filter((s) =>
        ([0, 1] as const).every((side) => {
          const v = eyeValue(s.a, side, m);
          return v !== null && v <= t;
        }),
      )
      .map(key),
  );
  return { pictures: pictures.size, share: works.size / (pictures.size || 1) };
}
const eyeState_ = MEASURES.map(({ name, label }) => {
  const v = Object.fromEntries(Object.entries(eyeSets).map(([k, pairs]) => [k, eyeSet(pairs, name)])) as Record<string, number[]>;
  // a real closed eye must count: the threshold under which 95% of real closed eyes fall
  const t = thresholdCovering(v.realClosed!, 0.95);
  const readClosed = (xs: number[]) => xs.filter((x) => x <= t).length / (xs.length || 1);
  return {
    measure: name,
    label,
    distributions: Object.fromEntries(Object.entries(v).map(([k, xs]) => [k, dist(xs)])) as Record<string, Dist>,
    aucOpenVsClosed: rocAuc(v.realOpen!, v.realClosed!),
    aucOpenVsClosedByClip: Object.fromEntries(
      (Object.keys(CLIPS) as (keyof typeof CLIPS)[]).map((c) => [
        c,
        rocAuc(eyeSet(clipEyes('open', c), name), eyeSet(clipEyes('closed', c), name)),
      ]),
    ),
    thresholdKeeping95ClosedAsClosed: t,
    readAsClosed: Object.fromEntries(Object.entries(v).map(([k, xs]) => [k, readClosed(xs)])),
    /**
     * An attacker tries every squash factor on a portrait and keeps one that works: the share of
     * open-eyed portraits where some factor makes both eyes read closed in the same frame.
     */
    portraitsWithAWorkingSquash: bestOfSquash(name, t, false),
    clipFramesWithAWorkingSquash: bestOfSquash(name, t, true),
    /** P(squashed eye scores higher than a real closed eye): 0.5 = a squash looks just like a real closed eye */
    aucSquashVsRealClosed: Object.fromEntries(SQUASH.map((f) => [f, rocAuc(v[`squash ${f}`]!, v.realClosed!)])),
    aucClipSquashVsRealClosed: Object.fromEntries(SQUASH.map((f) => [f, rocAuc(v[`clip squash ${f}`]!, v.realClosed!)])),
  };
});

// ---------------------------------------------------------------- eye sheets (to check the labels by eye)
if (sheetsDir) {
  await mkdir(sheetsDir, { recursive: true });
  const COLS = 6,
    TW = 220,
    TH = 70,
    BAR = 8;
  const colour = { open: [40, 180, 60], closed: [220, 40, 40], ambiguous: [128, 128, 128] } as const;
  for (const clip of Object.keys(CLIPS) as (keyof typeof CLIPS)[]) {
    const frames = clipFrames.filter((f) => f.clip === clip && f.a.found && f.a.eyes);
    const tiles: OverlayOptions[] = [];
    for (let k = 0; k < frames.length; k++) {
      const f = frames[k]!;
      const [l, r] = f.a.eyes!;
      const iod = Math.abs(r.cx - l.cx);
      const meta = await sharp(f.jpeg).metadata();
      // the eye band: 2.2 inter-ocular distances wide, centred between the eyes (mesh eye corners)
      const w = Math.round(iod * 2.2),
        h = Math.round((iod * 2.2 * TH) / TW);
      const eyeY = (l.cy + r.cy) / 2;
      const left = Math.max(0, Math.min(meta.width! - w, Math.round((l.cx + r.cx) / 2 - w / 2)));
      const top = Math.max(0, Math.min(meta.height! - h, Math.round(eyeY - h / 2)));
      const tile = await sharp(f.jpeg)
        .extract({ left, top, width: Math.min(w, meta.width!), height: Math.min(h, meta.height!) })
        .resize(TW, TH, { fit: 'fill' })
        .raw()
        .toBuffer();
      const x = (k % COLS) * (TW + 2),
        y = Math.floor(k / COLS) * (TH + BAR + 2);
      tiles.push({ input: tile, raw: { width: TW, height: TH, channels: 3 }, left: x, top: y + BAR });
      for (const [s, side] of SIDES.entries()) {
        const c = colour[eyeState(clip, f.frame, side)];
        const bar = Buffer.alloc((TW / 2) * BAR * 3);
        for (let p = 0; p < bar.length; p += 3) bar.set(c, p);
        tiles.push({ input: bar, raw: { width: TW / 2, height: BAR, channels: 3 }, left: x + s * (TW / 2), top: y });
      }
    }
    const rows = Math.ceil(frames.length / COLS);
    const file = path.join(sheetsDir, `${clip}-eyes.png`);
    await sharp({ create: { width: COLS * (TW + 2), height: rows * (TH + BAR + 2), channels: 3, background: '#000' } })
      .composite(tiles)
      .png()
      .toFile(file);
    console.log(
      `eye sheet ${file}: ${COLS} frames per row (frame = ${FRAME_STEP} x (row x ${COLS} + column)); bar over each eye: green open, red closed, grey ambiguous`,
    );
  }
}

// ---------------------------------------------------------------- report
const report = {
  folder: dir,
  package: `@vladmandic/human ${humanVersion()}`,
  backend: `tfjs ${tf.version.tfjs} ${tf.getBackend()}`,
  quick: values.quick,
  frameStep: FRAME_STEP,
  jpegQuality: JPEG_QUALITY,
  roundingMismatches,
  leakedTensors,
  coverage,
  portraits: {
    total: portraitInfo.length,
    withLandmarks: portraitInfo.filter((p) => p.lmFound).length,
    openEyed: portraitInfo.filter((p) => p.openEyed).length,
  },
  loadAverage: loadavg(),
  cost,
  distributions,
  thresholds,
  matchedCaptureSet: matched,
  separation,
  eyeState: eyeState_,
  eyeLabels: Object.fromEntries(Object.entries(CLIPS).map(([k, c]) => [k, { file: c.file, note: c.note }])),
  totalSeconds,
};
await mkdir(path.dirname(outFile), { recursive: true });
await writeFile(outFile, JSON.stringify(report, null, 2));

const f2 = (x: number | undefined, d = 2) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));
const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : `${(100 * x).toFixed(1)}%`);
const table = (head: string[], rows: string[][]) => {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join(' | ')} |`;
  console.log(
    [line(head), `|${w.map((x, i) => (i === 0 ? '-'.repeat(x + 2) : `${'-'.repeat(x + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n'),
  );
};

console.log(
  `\n${report.package} on ${report.backend}; face set ${dir}${values.quick ? ' (quick: every 3rd clip frame, 24 portraits)' : ''}`,
);
console.log(
  `Raw model outputs rounded as human rounds them: ${roundingMismatches} mismatches with human's own face.real / face.live; tensors left over: ${leakedTensors}`,
);
console.log('\nSamples (face found by human / total):');
table(
  ['group', 'kind', 'faces / total'],
  coverage.map((c) => [c.group, c.kind, `${c.faces} / ${c.total}`]),
);
console.log(
  `Portraits: ${report.portraits.total}, with 68 landmarks for the warps: ${report.portraits.withLandmarks}, open-eyed (EAR >= 0.22, for squashEyes): ${report.portraits.openEyed}`,
);

console.log('\nScore distributions, median [p5 … p95] (higher should mean genuine):');
table(
  ['group', 'n', ...SCORES.map((s) => s.label)],
  groupsOf(found, 'group').map((g) => [
    g,
    String(distributions.antispoof![g]!.n),
    ...SCORES.map(({ name }) => {
      const d = distributions[name]![g]!;
      return `${f2(d.median)} [${f2(d.p05)} … ${f2(d.p95)}]`;
    }),
  ]),
);

console.log(
  '\nThe one matched capture set (Silent-Face samples: same phone camera, same room, one live capture, one print, one tablet)' +
    '\nat the thresholds that keep 95% / 99% of all genuine frames (pass = accepted as genuine):',
);
table(
  ['picture', ...SCORES.flatMap((sc) => [sc.label, '@95%', '@99%'])],
  matched.map((m) => [
    m.group,
    ...SCORES.flatMap(({ name }) => [f2(m.scores[name]), m.pass95[name] ? 'pass' : 'reject', m.pass99[name] ? 'pass' : 'reject']),
  ]),
);

for (const { name, label } of SCORES) {
  console.log(`\n${label}: genuine (${genuine.length} frames: live photo, portraits, both clips) against each attack group`);
  table(
    [
      'attack group',
      'n',
      'ROC AUC',
      'EER',
      'pass @95% genuine kept',
      'pass @99% genuine kept',
      'AUC vs same pictures unwarped',
      'mean change vs unwarped',
    ],
    separation[name]!.map((c) => [
      c.attack,
      String(c.n),
      f2(c.auc, 3),
      pct(c.eer),
      pct(c.passAt95),
      pct(c.passAt99),
      f2(c.aucVsSamePictures, 3),
      f2(c.meanChangeVsOriginal, 3),
    ]),
  );
}

const c = cost;
console.log(`\nCost per frame (one WASM thread; load average ${report.loadAverage.map((x) => x.toFixed(1)).join(' ')}; ms):`);
const row = (label: string, d: Dist, digits: number) => [label, f2(d.min, digits), f2(d.median, digits), f2(d.p95, digits)];
table(
  ['stage', 'min', 'median', 'p95'],
  [
    row('human.detect, whole face pipeline with both classifiers', c.humanDetectMs, 1),
    row('  face stage (human.performance.face, whole ms)', c.humanFaceStageMs, 0),
    row('    BlazeFace + mesh + iris (face - antispoof - liveness)', c.humanMeshIrisMs, 0),
    row('    antispoof incl. crop resize (human.performance)', c.humanAntispoofMs, 0),
    row('    liveness incl. crop resize (human.performance)', c.humanLivenessMs, 0),
    ...(['antispoof', 'liveness', 'iris', 'facemesh', 'blazeface'] as const).map((m) =>
      row(`${m} model alone, input ${c[`${m}ModelAloneMs`].input}`, c[`${m}ModelAloneMs`], 2),
    ),
  ],
);

console.log(
  `\nEye state (per eye). Real eyes: clip frames labelled by looking at them (${eyeSets.realOpen!.length} open, ${eyeSets.realClosed!.length} closed eyes).` +
    '\nT: the threshold under which 95% of real closed eyes read ("closed" if <= T), since a real closed eye must count.',
);
table(
  ['measure', 'AUC open vs closed', 'd7', 'franck', 'T', 'real open eyes read closed', 'open portraits read closed'],
  eyeState_.map((e) => [
    e.label,
    f2(e.aucOpenVsClosed, 3),
    f2(e.aucOpenVsClosedByClip.d7, 3),
    f2(e.aucOpenVsClosedByClip.franck, 3),
    f2(e.thresholdKeeping95ClosedAsClosed, 3),
    pct(e.readAsClosed.realOpen),
    pct(e.readAsClosed.portraitOpen),
  ]),
);
for (const [title, prefix, best] of [
  [`squashEyes on ${eyeSets['squash 0.6']!.length / 2} open-eyed portraits`, 'squash', 'portraitsWithAWorkingSquash'],
  [
    `squashEyes on ${eyeSets['clip squash 0.6']!.length / 2} open-eyed frames of the two recordings (same person, camera and light as the real closed eyes)`,
    'clip squash',
    'clipFramesWithAWorkingSquash',
  ],
] as const) {
  console.log(
    `\nAttack: ${title}. Share of squashed eyes read closed at T; pictures where some factor closes both eyes; AUC squashed vs real closed eye (0.5 = indistinguishable)`,
  );
  table(
    ['measure', ...SQUASH.map((f) => `${f}: read closed`), 'best of 4, both eyes', ...SQUASH.map((f) => `${f}: AUC`)],
    eyeState_.map((e) => [
      e.label,
      ...SQUASH.map((f) => pct(e.readAsClosed[`${prefix} ${f}`])),
      `${pct(e[best].share)} of ${e[best].pictures}`,
      ...SQUASH.map((f) => f2((prefix === 'squash' ? e.aucSquashVsRealClosed : e.aucClipSquashVsRealClosed)[f], 3)),
    ]),
  );
}
console.log('\nEye measures, median [p5 … p95]:');
table(
  ['measure', ...Object.keys(eyeSets)],
  eyeState_.map((e) => [
    e.label,
    ...Object.keys(eyeSets).map((k) => `${f2(e.distributions[k]!.median)} [${f2(e.distributions[k]!.p05)}…${f2(e.distributions[k]!.p95)}]`),
  ]),
);
console.log(`\n${samples.length} frames in ${f2(totalSeconds, 0)} s. Report: ${outFile}`);
await onnx.close();

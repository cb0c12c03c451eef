/**
 * Measures how well the face pipeline tells people apart on the shared face set and suggests
 * MATCH_THRESHOLDS.  npm run eval:faces -- [folder] [--out file] [--alignment similarity|face-api]
 *
 * Uses only catalogue entries of kind `photo`, the largest face of each, every genuine pair (same
 * identity) and every impostor pair (different identities; each `unknown` photo is its own person).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { descriptorDistance, MATCH_THRESHOLDS } from '@faceline/contracts';
import { loadCatalog, REPO_ROOT, requireFaces } from '@faceline/testkit';
import { createOnnxFacePipeline, type AlignmentMode } from '../src/pipeline/index.js';
import { chooseIdentifySettings, equalErrorRate, summarize, tarAtFar, type IdentifyCase } from '../src/pipeline/evaluation.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string', default: path.join(REPO_ROOT, 'artifacts', 'eval-faces.json') },
    alignment: { type: 'string', default: 'similarity' },
  },
});
const alignment = values.alignment as AlignmentMode;
// npm runs workspace scripts in the workspace folder; relative paths mean the caller's folder.
const callerDir = process.env.INIT_CWD ?? process.cwd();
const outFile = path.resolve(callerDir, values.out!);
if (alignment !== 'similarity' && alignment !== 'face-api') throw new Error(`--alignment must be similarity or face-api, not ${alignment}`);
const dir = requireFaces(positionals[0] ? path.resolve(callerDir, positionals[0]) : path.join(REPO_ROOT, '..', 'shared', 'faces'));
const photos = loadCatalog(dir).filter((e) => e.kind === 'photo');

const pipeline = await createOnnxFacePipeline({ intraOpThreads: 1, alignment });
interface Sample {
  path: string;
  person: string;
  width: number;
  height: number;
  descriptor: number[] | null;
  faceSizePx: number | null;
}
const samples: Sample[] = [];
const started = performance.now();
let inferenceMs = 0;
for (const e of photos) {
  const { data, info } = await sharp(e.file).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const img = { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  const t0 = performance.now();
  const [face] = await pipeline.analyze(img, { largestOnly: true, maxFaces: 1, embeddings: true, minFaceSize: 1 });
  inferenceMs += performance.now() - t0;
  samples.push({
    path: e.path,
    // `unknown` marks one-off people: each such photo is a different person.
    person: e.identity === 'unknown' ? `unknown:${e.path}` : e.identity,
    width: info.width,
    height: info.height,
    descriptor: face?.embedding ?? null,
    faceSizePx: face?.quality.faceSizePx ?? null,
  });
}
await pipeline.close();

const detected = samples.filter((s) => s.descriptor);
const big = samples.filter((s) => Math.min(s.width, s.height) >= 300);
const detection = {
  photos: samples.length,
  detected: detected.length,
  rate: detected.length / samples.length,
  photosAtLeast300: big.length,
  detectedAtLeast300: big.filter((s) => s.descriptor).length,
  rateAtLeast300: big.filter((s) => s.descriptor).length / (big.length || 1),
  missed: samples.filter((s) => !s.descriptor).map((s) => `${s.path} (${s.width}x${s.height})`),
};

interface Pair {
  a: string;
  b: string;
  distance: number;
}
const genuine: Pair[] = [];
const impostor: Pair[] = [];
for (let i = 0; i < detected.length; i++) {
  for (let j = i + 1; j < detected.length; j++) {
    const a = detected[i]!,
      b = detected[j]!;
    const pair = { a: a.path, b: b.path, distance: descriptorDistance(a.descriptor!, b.descriptor!) };
    (a.person === b.person ? genuine : impostor).push(pair);
  }
}
const gd = genuine.map((p) => p.distance);
const id = impostor.map((p) => p.distance);
const eer = equalErrorRate(gd, id);
const far2 = tarAtFar(gd, id, 1e-2);
const far3 = tarAtFar(gd, id, 1e-3);
const atThreshold = (t: number) => ({
  threshold: t,
  far: id.filter((d) => d <= t).length / id.length,
  frr: gd.filter((d) => d > t).length / gd.length,
});

// Kiosk (1:N): every detected photo is a probe twice. Enrolled: the gallery holds every person,
// the probe's own photo excluded (so its person needs another photo). Non-enrolled: the probe's
// person is removed from the gallery altogether. A person's distance is to their closest photo.
const cases: IdentifyCase[] = [];
for (const probe of detected) {
  const byPerson = new Map<string, number>();
  for (const g of detected) {
    if (g === probe) continue;
    const d = descriptorDistance(probe.descriptor!, g.descriptor!);
    byPerson.set(g.person, Math.min(d, byPerson.get(g.person) ?? Infinity));
  }
  if (byPerson.has(probe.person)) cases.push({ distances: byPerson, truth: probe.person });
  const without = new Map(byPerson);
  without.delete(probe.person);
  cases.push({ distances: without, truth: null });
}
const range = (from: number, to: number, step: number) =>
  Array.from({ length: Math.round((to - from) / step) + 1 }, (_, i) => Math.round((from + i * step) * 1000) / 1000);
const kiosk = chooseIdentifySettings(cases, 0.01, range(0.3, 0.65, 0.01), range(0, 0.15, 0.01));
const people = new Set(detected.map((s) => s.person));

const report = {
  folder: dir,
  alignment,
  model: pipeline.info,
  detection,
  timing: { totalSeconds: (performance.now() - started) / 1000, meanInferenceMsPerPhoto: inferenceMs / samples.length },
  people: people.size,
  genuinePairs: summarize(gd),
  impostorPairs: summarize(id),
  eer,
  tarAtFar1e2: far2,
  tarAtFar1e3: far3,
  currentThresholds: {
    ...MATCH_THRESHOLDS,
    verifyRates: atThreshold(MATCH_THRESHOLDS.verify),
    identifyRates: atThreshold(MATCH_THRESHOLDS.identify),
  },
  verifyTable: range(0.45, 0.65, 0.01).map(atThreshold),
  worstGenuine: [...genuine].sort((p, q) => q.distance - p.distance).slice(0, 8),
  worstImpostor: [...impostor].sort((p, q) => p.distance - q.distance).slice(0, 8),
  kiosk: {
    rule: 'accept best person if distance <= threshold and second-best person is at least margin further',
    maxNonEnrolledFar: 0.01,
    enrolledProbes: cases.filter((c) => c.truth !== null).length,
    nonEnrolledProbes: cases.filter((c) => c.truth === null).length,
    chosen: kiosk.best,
    atCurrentThresholds:
      kiosk.grid.find((r) => r.threshold === MATCH_THRESHOLDS.identify && r.margin === MATCH_THRESHOLDS.identifyMargin) ?? null,
    safeSettings: kiosk.grid
      .filter((r) => r.nonEnrolledFar <= 0.01 && r.misidentified === 0 && r.correct >= (kiosk.best?.correct ?? 1) - 0.05)
      .map((r) => ({ threshold: r.threshold, margin: r.margin, correct: r.correct })),
    marginZero: kiosk.grid.filter((r) => r.margin === 0 && r.nonEnrolledFar <= 0.01 && r.misidentified === 0).at(-1) ?? null,
  },
};

await mkdir(path.dirname(outFile), { recursive: true });
await writeFile(outFile, JSON.stringify(report, null, 2));

const f = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const sum = (s: ReturnType<typeof summarize>) =>
  `n=${s.n} min ${f(s.min)} p5 ${f(s.p05)} median ${f(s.median)} mean ${f(s.mean)} p95 ${f(s.p95)} max ${f(s.max)}`;
console.log(`Face set ${dir}: ${samples.length} photos, ${people.size} people with a detected face, alignment ${alignment}`);
console.log(
  `Detection: ${detection.detected}/${detection.photos} (${pct(detection.rate)}); photos >= 300x300: ${detection.detectedAtLeast300}/${detection.photosAtLeast300} (${pct(detection.rateAtLeast300)})`,
);
for (const m of detection.missed) console.log(`  no face: ${m}`);
console.log(`Genuine distances:  ${sum(report.genuinePairs)}`);
console.log(`Impostor distances: ${sum(report.impostorPairs)}`);
console.log(`EER ${pct(eer.eer)} at threshold ${f(eer.threshold)} (FAR ${pct(eer.far)}, FRR ${pct(eer.frr)})`);
console.log(`TAR ${pct(far2.tar)} at FAR ${pct(far2.far)} (target 1e-2), threshold ${f(far2.threshold)}`);
console.log(`TAR ${pct(far3.tar)} at FAR ${pct(far3.far)} (target 1e-3), threshold ${f(far3.threshold)}`);
const cv = report.currentThresholds.verifyRates;
console.log(`Current verify threshold ${MATCH_THRESHOLDS.verify}: FAR ${pct(cv.far)}, FRR ${pct(cv.frr)}`);
console.log(
  `  ${report.verifyTable
    .filter((_, i) => i % 2 === 0)
    .map((r) => `${r.threshold.toFixed(2)}: FAR ${pct(r.far)} FRR ${pct(r.frr)}`)
    .join('\n  ')}`,
);
console.log('Worst genuine pairs (largest distance):');
for (const p of report.worstGenuine.slice(0, 5)) console.log(`  ${f(p.distance)}  ${p.a}  ${p.b}`);
console.log('Worst impostor pairs (smallest distance):');
for (const p of report.worstImpostor.slice(0, 5)) console.log(`  ${f(p.distance)}  ${p.a}  ${p.b}`);
const k = kiosk.best;
console.log(`Kiosk 1:N (${report.kiosk.enrolledProbes} enrolled probes, ${report.kiosk.nonEnrolledProbes} non-enrolled probes):`);
if (k)
  console.log(
    `  threshold ${k.threshold} + margin ${k.margin}: non-enrolled FAR ${pct(k.nonEnrolledFar)}, misidentified ${pct(k.misidentified)}, correct ${pct(k.correct)}`,
  );
else console.log('  no setting keeps the non-enrolled FAR <= 1% without misidentifications');
const cur = report.kiosk.atCurrentThresholds;
if (cur)
  console.log(
    `  current (${cur.threshold} + ${cur.margin}): non-enrolled FAR ${pct(cur.nonEnrolledFar)}, misidentified ${pct(cur.misidentified)}, correct ${pct(cur.correct)}`,
  );
console.log(
  `Inference ${f(report.timing.meanInferenceMsPerPhoto, 1)} ms per photo; total ${f(report.timing.totalSeconds, 1)} s. Report: ${outFile}`,
);

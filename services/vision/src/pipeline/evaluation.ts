/**
 * Verification and identification statistics over descriptor distances, used by
 * `npm run eval:faces` to choose MATCH_THRESHOLDS. A comparison is accepted when distance <= threshold.
 */

export interface Summary {
  n: number;
  min: number;
  p01: number;
  p05: number;
  median: number;
  mean: number;
  p95: number;
  p99: number;
  max: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function summarize(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length,
    min: s[0] ?? Number.NaN,
    p01: quantile(s, 0.01),
    p05: quantile(s, 0.05),
    median: quantile(s, 0.5),
    mean: s.reduce((a, b) => a + b, 0) / (s.length || 1),
    p95: quantile(s, 0.95),
    p99: quantile(s, 0.99),
    max: s[s.length - 1] ?? Number.NaN,
  };
}

/** Number of sorted values <= t. */
function countAtMost(sorted: readonly number[], t: number): number {
  let lo = 0,
    hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface ErrorRates {
  threshold: number;
  far: number;
  frr: number;
}

/**
 * Equal error rate: the threshold where false accepts (impostors <= t) and false rejects
 * (genuines > t) are closest, reported as their mean. Candidates are every observed distance.
 */
export function equalErrorRate(genuine: readonly number[], impostor: readonly number[]): ErrorRates & { eer: number } {
  const g = [...genuine].sort((a, b) => a - b);
  const im = [...impostor].sort((a, b) => a - b);
  let best = { threshold: 0, far: 0, frr: 1, eer: 0.5 };
  let bestGap = Infinity;
  for (const t of [...g, ...im]) {
    const far = countAtMost(im, t) / im.length;
    const frr = 1 - countAtMost(g, t) / g.length;
    const gap = Math.abs(far - frr);
    if (gap < bestGap || (gap === bestGap && (far + frr) / 2 < best.eer)) {
      bestGap = gap;
      best = { threshold: t, far, frr, eer: (far + frr) / 2 };
    }
  }
  return best;
}

/**
 * True accept rate at a false accept rate target: the largest threshold whose FAR stays within the
 * target (midway to the next impostor distance, so it does not sit exactly on a sample).
 */
export function tarAtFar(
  genuine: readonly number[],
  impostor: readonly number[],
  target: number,
): { threshold: number; far: number; tar: number } {
  const g = [...genuine].sort((a, b) => a - b);
  const im = [...impostor].sort((a, b) => a - b);
  const allowed = Math.floor(target * im.length); // impostor pairs that may be accepted
  const threshold = allowed >= im.length ? Infinity : allowed === 0 ? im[0]! - 1e-9 : (im[allowed - 1]! + im[allowed]!) / 2;
  return { threshold, far: countAtMost(im, threshold) / im.length, tar: countAtMost(g, threshold) / g.length };
}

export interface IdentifyCase {
  /** distance from the probe to each enrolled person's closest template */
  distances: Map<string, number>;
  /** the probe's person if enrolled in this gallery, otherwise null */
  truth: string | null;
}

export interface IdentifyRates {
  threshold: number;
  margin: number;
  /** non-enrolled probes that were accepted as someone */
  nonEnrolledFar: number;
  /** enrolled probes accepted as the wrong person */
  misidentified: number;
  /** enrolled probes accepted as themselves */
  correct: number;
  enrolledProbes: number;
  nonEnrolledProbes: number;
}

/** Kiosk rule: accept the best person if its distance <= threshold and the runner-up is >= margin further. */
export function identify(distances: Map<string, number>, threshold: number, margin: number): string | null {
  let best: string | null = null,
    d1 = Infinity,
    d2 = Infinity;
  for (const [id, d] of distances) {
    if (d < d1) {
      d2 = d1;
      d1 = d;
      best = id;
    } else if (d < d2) d2 = d;
  }
  return best !== null && d1 <= threshold && d2 - d1 >= margin ? best : null;
}

export function identifyRates(cases: readonly IdentifyCase[], threshold: number, margin: number): IdentifyRates {
  let fa = 0,
    mis = 0,
    ok = 0,
    enrolled = 0,
    non = 0;
  for (const c of cases) {
    const who = identify(c.distances, threshold, margin);
    if (c.truth === null) {
      non++;
      if (who !== null) fa++;
    } else {
      enrolled++;
      if (who === c.truth) ok++;
      else if (who !== null) mis++;
    }
  }
  return {
    threshold,
    margin,
    nonEnrolledFar: non ? fa / non : 0,
    misidentified: enrolled ? mis / enrolled : 0,
    correct: enrolled ? ok / enrolled : 0,
    enrolledProbes: enrolled,
    nonEnrolledProbes: non,
  };
}

/**
 * Searches thresholds and margins for the kiosk rule: among settings whose non-enrolled false-accept
 * rate is <= maxFar and that never misidentify an enrolled person, the one that identifies the most
 * enrolled probes correctly (ties: the stricter threshold, then the larger margin).
 */
export function chooseIdentifySettings(
  cases: readonly IdentifyCase[],
  maxFar: number,
  thresholds: readonly number[],
  margins: readonly number[],
): { best: IdentifyRates | null; grid: IdentifyRates[] } {
  const grid: IdentifyRates[] = [];
  let best: IdentifyRates | null = null;
  for (const t of thresholds) {
    for (const m of margins) {
      const r = identifyRates(cases, t, m);
      grid.push(r);
      if (r.nonEnrolledFar > maxFar || r.misidentified > 0) continue;
      if (
        !best ||
        r.correct > best.correct + 1e-12 ||
        (Math.abs(r.correct - best.correct) <= 1e-12 && (t < best.threshold || (t === best.threshold && m > best.margin)))
      )
        best = r;
    }
  }
  return { best, grid };
}

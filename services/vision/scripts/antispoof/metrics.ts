/**
 * Separation of two score distributions where a higher score should mean "genuine" (or "open"):
 * ROC AUC, equal error rate, and how many attacks pass at the threshold that keeps a given share
 * of genuine samples.
 */

/** P(genuine score > attack score), ties counting one half (Mann–Whitney U / (n·m)). 0.5 = no separation. */
export function rocAuc(genuine: readonly number[], attack: readonly number[]): number {
  if (!genuine.length || !attack.length) return Number.NaN;
  const all = [...genuine.map((v) => ({ v, g: true })), ...attack.map((v) => ({ v, g: false }))].sort((a, b) => a.v - b.v);
  // rank sum of the genuine samples, average ranks for ties
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (all[k]!.g) rankSum += rank;
    i = j + 1;
  }
  const n = genuine.length,
    m = attack.length;
  return (rankSum - (n * (n + 1)) / 2) / (n * m);
}

/** Accept when score >= threshold. The threshold where false accepts and false rejects are closest. */
export function equalErrorRate(
  genuine: readonly number[],
  attack: readonly number[],
): { eer: number; threshold: number; apcer: number; bpcer: number } {
  const candidates = [...new Set([...genuine, ...attack, Infinity])].sort((a, b) => a - b);
  let best = { eer: 0.5, threshold: Number.NaN, apcer: 1, bpcer: 0, gap: Infinity };
  for (const t of candidates) {
    const apcer = attack.filter((v) => v >= t).length / attack.length;
    const bpcer = genuine.filter((v) => v < t).length / genuine.length;
    const gap = Math.abs(apcer - bpcer);
    if (gap < best.gap) best = { eer: (apcer + bpcer) / 2, threshold: t, apcer, bpcer, gap };
  }
  const { gap: _gap, ...rest } = best;
  return rest;
}

/**
 * The highest threshold that still accepts at least `keep` of the genuine samples (accept when
 * score >= threshold), and the share of attacks it accepts too (APCER at that BPCER).
 */
export function passAtGenuineKept(
  genuine: readonly number[],
  attack: readonly number[],
  keep: number,
): { threshold: number; genuineKept: number; attackPass: number } {
  const g = [...genuine].sort((a, b) => a - b);
  const rejectable = Math.floor((1 - keep) * g.length + 1e-9);
  const threshold = g[rejectable] ?? Infinity;
  return {
    threshold,
    genuineKept: g.filter((v) => v >= threshold).length / g.length,
    attackPass: attack.filter((v) => v >= threshold).length / (attack.length || 1),
  };
}

/** The lowest threshold under which at least `share` of the `low` samples fall (count when value <= threshold). */
export function thresholdCovering(low: readonly number[], share: number): number {
  const s = [...low].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(share * s.length) - 1));
  return s[i] ?? Number.NaN;
}

export function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return Number.NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos),
    hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export interface Dist {
  n: number;
  min: number;
  p05: number;
  median: number;
  p95: number;
  max: number;
  mean: number;
}

export function dist(values: readonly number[]): Dist {
  return {
    n: values.length,
    min: values.length ? Math.min(...values) : Number.NaN,
    p05: quantile(values, 0.05),
    median: quantile(values, 0.5),
    p95: quantile(values, 0.95),
    max: values.length ? Math.max(...values) : Number.NaN,
    mean: values.reduce((a, b) => a + b, 0) / (values.length || 1),
  };
}

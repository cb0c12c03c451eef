/**
 * Who the face of a login is, decided once at the end over all its frames, never per frame (a
 * per-frame verdict would tell a guesser whether a face matched without costing an attempt).
 *
 * - The frontal frames of the holds decide: their median distance to the person's templates
 *   must be within the threshold (verify: MATCH_THRESHOLDS.verify; kiosk: the stricter
 *   identify threshold after the best-vs-second margin in the 1:N index).
 * - Every other frame must still be that person: within the threshold plus a slack for turned
 *   heads and closed eyes, or close to the person's own hold frames.
 * - Consecutive frames may not jump: a cut from one face to another (the photo of the victim for
 *   the holds, the attacker's own head for the motions) is a different person.
 */
import { MATCH_THRESHOLDS, descriptorDistance } from '@faceline/contracts';

/**
 * Descriptors drift as the head turns or the eyes close. Frames this much beyond the verify
 * threshold still count as the recognised person.
 */
export const TURNED_FACE_SLACK = 0.1;
/** A frame this close to one of the person's own hold frames is the same person (measured: real 15-25° turns stay within 0.38-0.55 at p95). */
export const SAME_SESSION_DISTANCE = 0.55;
/** Consecutive frames of one live face (about 8 a second) differ by less than this (measured max 0.45 on six real clips). */
export const MAX_STEP_DISTANCE = 0.55;

export type Embedding = ArrayLike<number>;

export interface IdentityEvidence {
  /** frontal frames from the holds of the challenge (or the one frontal frame without liveness) */
  hold: Embedding[];
  /** every face frame of the flow, in order (hold frames included) */
  sequence: Embedding[];
  /**
   * the frames are a camera's stream, so consecutive frames must not jump (default true; false
   * only without liveness, where separate photos may stand in for a camera)
   */
  continuous?: boolean;
}

export type IdentityVerdict =
  | { ok: true; distance: number }
  | { ok: false; reason: 'no-frames' | 'hold-mismatch' | 'frame-mismatch' | 'cut'; distance: number | null };

export function minDistance(templates: readonly Embedding[], e: Embedding): number {
  let best = Infinity;
  for (const t of templates) best = Math.min(best, descriptorDistance(t, e));
  return best;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? Infinity : s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** The evidence against one person's templates, with the hold threshold for the mode. */
export function judgeIdentity(
  templates: readonly Embedding[],
  ev: IdentityEvidence,
  holdThreshold: number = MATCH_THRESHOLDS.verify,
): IdentityVerdict {
  if (templates.length === 0 || ev.hold.length === 0) return { ok: false, reason: 'no-frames', distance: null };
  const holdDistances = ev.hold.map((h) => minDistance(templates, h));
  const distance = median(holdDistances);
  if (distance > holdThreshold) return { ok: false, reason: 'hold-mismatch', distance };
  let prev: Embedding | null = null;
  for (const e of ev.sequence) {
    if (prev && ev.continuous !== false && descriptorDistance(prev, e) > MAX_STEP_DISTANCE) return { ok: false, reason: 'cut', distance };
    prev = e;
    if (minDistance(templates, e) <= MATCH_THRESHOLDS.verify + TURNED_FACE_SLACK) continue;
    if (minDistance(ev.hold, e) <= SAME_SESSION_DISTANCE) continue;
    return { ok: false, reason: 'frame-mismatch', distance };
  }
  return { ok: true, distance: Math.min(...holdDistances) };
}

export interface IndexSearch {
  search(
    query: Embedding,
    opts: { maxDistance: number },
  ): { best: { userId: string; distance: number } | null; second: { userId: string; distance: number } | null };
}

/**
 * Kiosk: the person the hold frames point to in the 1:N index, when they agree and each is
 * clearly closer to them than to anyone else (margin). The caller re-checks the candidate
 * exactly against their own templates with judgeIdentity(…, MATCH_THRESHOLDS.identify).
 */
export function identifyCandidate(index: IndexSearch, hold: readonly Embedding[]): string | null {
  const votes = new Map<string, number>();
  for (const h of hold) {
    const { best, second } = index.search(h, { maxDistance: MATCH_THRESHOLDS.identify + MATCH_THRESHOLDS.identifyMargin });
    if (!best || best.distance > MATCH_THRESHOLDS.identify) continue;
    if (second && second.userId !== best.userId && second.distance - best.distance < MATCH_THRESHOLDS.identifyMargin) continue;
    votes.set(best.userId, (votes.get(best.userId) ?? 0) + 1);
  }
  let winner: string | null = null,
    most = 0;
  for (const [u, n] of votes) if (n > most) [winner, most] = [u, n];
  // a majority of the hold frames must agree
  return winner !== null && most * 2 > hold.length ? winner : null;
}

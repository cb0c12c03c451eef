/**
 * The steps of a liveness challenge. Every challenge holds one blink: a closing eyelid is the
 * one motion that no 2-D bending of a photo produces (it has to hide the iris that the photo
 * shows). The other steps are head turns in random directions; no step repeats back to back.
 */
import { createHash, randomInt } from 'node:crypto';
import { ChallengeStep } from '@faceline/contracts';

const TURNS = [ChallengeStep.TURN_LEFT, ChallengeStep.TURN_RIGHT];

/** With `seed` the sequence is fixed (tests and demos; the service logs a warning when it runs that way). */
export function makeChallenge(length: number, seed?: string): ChallengeStep[] {
  const digest = seed === undefined ? undefined : createHash('sha256').update(`faceline challenge ${seed}`).digest();
  let k = 0;
  const pick = (n: number) => (digest ? (digest[k++ % digest.length] as number) % n : randomInt(n));
  const blinkAt = pick(length);
  const out: ChallengeStep[] = [];
  for (let i = 0; i < length; i++) {
    if (i === blinkAt) out.push(ChallengeStep.BLINK);
    else {
      const choices = TURNS.filter((s) => s !== out[i - 1]);
      out.push(choices[pick(choices.length)] as ChallengeStep);
    }
  }
  // two blinks never follow each other: only one blink is drawn, so only turns can repeat,
  // and a turn never repeats back to back by the filter above
  return out;
}

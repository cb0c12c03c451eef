/**
 * Real recordings from the face set, cut into what a cooperative person does in front of the
 * camera: hold still, and each liveness step when asked. Frame numbers are of the 30 fps
 * .mjpeg feeds; every 4th frame is used (about the browser's 8 frames a second).
 */
import path from 'node:path';
import { ChallengeStep } from '@faceline/contracts';
import { facesDir } from '@faceline/testkit';
import { mjpegFrames } from './client.js';

const every4 = (frames: Buffer[], from: number, to: number) => frames.filter((_, i) => i >= from && i <= to && (i - from) % 4 === 0);

/** A woman facing the camera who closes both eyes (anon_lp_d7: a blink at about 0.8 s). */
export function d7Blink() {
  const f = mjpegFrames(path.join(facesDir(), 'webcam/anon_lp_d7_blink_480x480.mjpeg'));
  return { frames: f, hold: every4(f, 2, 18), steps: { [ChallengeStep.BLINK]: every4(f, 20, 40) } };
}

/** A woman turning her head to her right, and later to her left (the first 4 s of anon_lp_d3). */
export function d3Turns() {
  const f = mjpegFrames(path.join(facesDir(), 'webcam/anon_lp_d3_woman_480x480.mjpeg'));
  return {
    frames: f,
    hold: every4(f, 99, 117),
    steps: { [ChallengeStep.TURN_RIGHT]: every4(f, 0, 24), [ChallengeStep.TURN_LEFT]: every4(f, 27, 55) },
  };
}

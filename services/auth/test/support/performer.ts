/**
 * Drives a login or an enrollment the way a camera does: frames at a steady pace, with the
 * liveness prompt the server shows (`challenge:step`) deciding what the next frame shows.
 *
 * A Performer is whatever stands in front of the camera: a real recording whose person
 * performs each step after the prompt (clipPerformer, the genuine path), or an attacker's
 * script (bench/attack). Timing is real: the server judges reactions by when frames arrive.
 */
import type { AckResponse, ChallengeStep, ChallengeStepEvent, EnrollResult, FeedbackEvent, LoginResult } from '@faceline/contracts';
import { ask, data, variant, type ClientSocket } from './client.js';

export interface Cue {
  /** the step shown now, or null while the person should hold still */
  step: ChallengeStep | null;
  /** index of the step shown (or of the next one) */
  index: number;
  /** ms since the current step was shown (0 while holding) */
  sinceShownMs: number;
  /** frames sent so far */
  frame: number;
}

export interface Performer {
  /** the JPEG to send next, or null to stop sending */
  next(cue: Cue): Buffer | Promise<Buffer | null> | null;
}

export interface PerformOptions {
  /** pause between frames (the browser sends at most about 8 a second) */
  frameIntervalMs?: number;
  /** stop after this many frames */
  maxFrames?: number;
}

export interface Performance<R> {
  result: R | undefined;
  acks: AckResponse<unknown>[];
  steps: ChallengeStepEvent[];
  feedback: FeedbackEvent[];
}

/** Sends frames from `performer` on an already started flow until its result arrives. */
export async function perform<K extends 'login' | 'enroll'>(
  socket: ClientSocket,
  kind: K,
  performer: Performer,
  opts: PerformOptions = {},
): Promise<Performance<K extends 'login' ? LoginResult : EnrollResult>> {
  type R = K extends 'login' ? LoginResult : EnrollResult;
  const interval = opts.frameIntervalMs ?? 130;
  const maxFrames = opts.maxFrames ?? 400;
  let result: R | undefined;
  const steps: ChallengeStepEvent[] = [];
  const feedback: FeedbackEvent[] = [];
  let cue: Omit<Cue, 'frame'> = { step: null, index: 0, sinceShownMs: 0 };
  let shownAt = 0;
  const onResult = (r: R) => (result = r);
  const onStep = (e: ChallengeStepEvent) => {
    steps.push(e);
    cue = { step: e.step, index: e.index, sinceShownMs: 0 };
    shownAt = Date.now();
  };
  const onFeedback = (f: FeedbackEvent) => {
    feedback.push(f);
    // a completed step ends its prompt (the next one comes as another challenge:step)
    if (f.codes.includes('STEP_DONE')) cue = { step: null, index: cue.index + 1, sinceShownMs: 0 };
  };
  socket.on(`${kind}:result` as 'login:result', onResult as never);
  socket.on('challenge:step', onStep);
  socket.on('feedback', onFeedback);
  const acks: AckResponse<unknown>[] = [];
  try {
    for (let i = 0; i < maxFrames && !result; i++) {
      const began = Date.now();
      const jpeg = await performer.next({ ...cue, sinceShownMs: cue.step ? Date.now() - shownAt : 0, frame: i });
      if (!jpeg) break;
      // every camera frame has its own bytes; identical bytes are refused as a replay
      acks.push(await ask(socket, `${kind}:frame`, { seq: i + 1, image: variant(jpeg, i), capturedAt: Date.now() }));
      const rest = interval - (Date.now() - began);
      if (rest > 0 && !result) await new Promise((r) => setTimeout(r, rest));
    }
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    socket.off(`${kind}:result` as 'login:result', onResult as never);
    socket.off('challenge:step', onStep);
    socket.off('feedback', onFeedback);
  }
  return { result, acks, steps, feedback };
}

/** login:start (or enroll:start) and perform; the start answer is returned when it refuses. */
export async function performFlow<K extends 'login' | 'enroll'>(
  socket: ClientSocket,
  kind: K,
  start: unknown,
  performer: Performer,
  opts?: PerformOptions,
): Promise<Performance<K extends 'login' ? LoginResult : EnrollResult> & { started: AckResponse<unknown> }> {
  const started = await ask(socket, `${kind}:start`, start);
  if ('error' in started) return { started, result: undefined, acks: [], steps: [], feedback: [] };
  data(started);
  return { started, ...(await perform(socket, kind, performer, opts)) };
}

/**
 * A real recording of one person performing the steps when asked: between prompts it plays
 * the `hold` frames back and forth (the person keeping still); once a step is shown it waits
 * `reactionMs` (a human reaction) and plays that step's segment, then holds again.
 */
export function clipPerformer(clip: { hold: Buffer[]; steps: Partial<Record<ChallengeStep, Buffer[]>> }, reactionMs = 350): Performer {
  let h = 0;
  let dir = 1;
  let playing: { index: number; frames: Buffer[]; at: number } | null = null;
  const holdFrame = () => {
    const f = clip.hold[h] as Buffer;
    if (clip.hold.length > 1) {
      if (h + dir < 0 || h + dir >= clip.hold.length) dir = -dir;
      h += dir;
    }
    return f;
  };
  return {
    next(cue) {
      if (!cue.step) {
        playing = null;
        return holdFrame();
      }
      if (cue.sinceShownMs < reactionMs) return holdFrame();
      if (!playing || playing.index !== cue.index) playing = { index: cue.index, frames: clip.steps[cue.step] ?? [], at: 0 };
      const f = playing.frames[playing.at];
      playing.at++;
      return f ?? holdFrame();
    },
  };
}

/**
 * Challenge-response liveness with the server in charge of time. Per step:
 *
 *   hold   the person faces the camera and keeps still for a random time the client cannot
 *          know (it sees only "look straight"); these frames are the baseline: pose, the
 *          open-eyed look of the eyes, the person's descriptors;
 *   reveal the step is shown (TURN_LEFT, TURN_RIGHT or BLINK);
 *   react  the motion must start within a reaction window, not before a person could have
 *          seen the prompt, go the right way, and be continuous at the camera's frame rate
 *          (intermediate yaws, no cuts, no pauses);
 *   judge  a turn is complete at `turnDegrees` of yaw from the baseline; a blink when the
 *          eye regions of the landmark-normalised texture stop looking like the open eyes of
 *          the hold (an eyelid covers the iris) and then look open again, while the face stays
 *          the same person in the same pose.
 *
 * A recording cannot know when the prompt comes nor which one; a picture bent in 2-D keeps its
 * eyes open in the normalised texture however the eye band is squashed, and a squash strong
 * enough to hide the eye changes who the face looks like. What is still possible is written in
 * docs/auth-service.md (threat model). Identity is judged elsewhere (login.service.ts); this
 * class never looks at whose face it is, so its feedback tells the client nothing about a match.
 */
import { ChallengeStep, FeedbackCode, descriptorDistance } from '@faceline/contracts';
import type { LivenessRules } from './rules.js';
import { eyeSimilarity, lidDrop, type Texture } from './texture.js';

export interface ObservedFace {
  yaw: number;
  pitch: number;
  /** mean eye aspect ratio of the two eyes from the landmarks */
  ear: number;
  embedding: ArrayLike<number>;
  texture: Texture | null;
}

export interface Observation {
  /** server time the frame arrived (ms) */
  t: number;
  /** the one face of the frame when it passed the quality gates, else null */
  face: ObservedFace | null;
}

export type LivenessFailure =
  /** motion before a person could have reacted to the prompt */
  | 'anticipated'
  | 'wrong-direction'
  /** no motion within the reaction window */
  | 'late'
  /** the step was not completed in time */
  | 'too-slow'
  /** a cut in the motion: a jump of yaw between consecutive frames, or a turn without intermediate frames */
  | 'discontinuous'
  /** frames stopped coming during a step */
  | 'gap'
  /** a motion other than the one asked for (a nod during a turn, a head turn before a blink) */
  | 'wrong-motion'
  /** frames without the texture a blink is judged by */
  | 'no-evidence';

export interface LivenessEvent {
  feedback: FeedbackCode[];
  /** a step was just shown: the caller tells the client */
  revealed?: { index: number; step: ChallengeStep };
  /** a step was just completed */
  completed?: number;
  failure?: LivenessFailure;
}

interface Hold {
  since: number;
  frames: ObservedFace[];
  need: number;
}

/** Counters for the audit record: why frames did not count. */
export interface LivenessNotes {
  holdRestarts: number;
  closedFramesRefused: number;
  revealedAt: number[];
  reactionMs: number[];
}

export class LivenessSession {
  private index = 0;
  private phase: 'hold' | 'step' | 'done' | 'failed' = 'hold';
  private hold: Hold | null = null;
  private baseYaw = 0;
  private basePitch = 0;
  private baseEar = 0;
  /** open-eyed textures and descriptors of the person, from the holds */
  private readonly refs: Texture[] = [];
  readonly holdEmbeddings: ArrayLike<number>[] = [];
  private revealedAt = 0;
  private onsetAt: number | null = null;
  private intermediate = 0;
  private closedAt: number | null = null;
  private lastYaw: number | null = null;
  private lastAt = 0;
  readonly notes: LivenessNotes = { holdRestarts: 0, closedFramesRefused: 0, revealedAt: [], reactionMs: [] };

  constructor(
    readonly steps: readonly ChallengeStep[],
    private readonly rules: LivenessRules,
    private readonly random: () => number = Math.random,
  ) {}

  get done(): boolean {
    return this.phase === 'done';
  }

  get failed(): boolean {
    return this.phase === 'failed';
  }

  /** steps completed so far */
  get completed(): number {
    return this.index;
  }

  /** the step being asked for now, or null during a hold */
  get current(): ChallengeStep | null {
    return this.phase === 'step' ? (this.steps[this.index] ?? null) : null;
  }

  /** what the person should do now */
  prompt(): FeedbackCode[] {
    const s = this.current;
    return s ? [s as FeedbackCode] : [FeedbackCode.LOOK_STRAIGHT];
  }

  observe(o: Observation): LivenessEvent {
    if (this.phase === 'done' || this.phase === 'failed') return { feedback: [] };
    return this.phase === 'hold' ? this.observeHold(o) : this.observeStep(o);
  }

  private fail(failure: LivenessFailure): LivenessEvent {
    this.phase = 'failed';
    return { feedback: [], failure };
  }

  private observeHold(o: Observation): LivenessEvent {
    const f = o.face;
    const frontal = f !== null && Math.abs(f.yaw) <= this.rules.maxFrontalAngle && Math.abs(f.pitch) <= this.rules.maxFrontalAngle;
    if (!f || !frontal) {
      if (this.hold) this.notes.holdRestarts++;
      this.hold = null;
      return { feedback: [FeedbackCode.LOOK_STRAIGHT] };
    }
    if (this.hold) {
      const first = this.hold.frames[0] as ObservedFace;
      const steady =
        Math.abs(f.yaw - first.yaw) <= this.rules.holdToleranceDegrees &&
        Math.abs(f.pitch - first.pitch) <= this.rules.holdToleranceDegrees;
      if (!steady) {
        this.notes.holdRestarts++;
        this.hold = null;
      }
    }
    if (!this.hold) {
      const span = Math.max(0, this.rules.holdMaxMs - this.rules.holdMinMs);
      this.hold = { since: o.t, frames: [], need: this.rules.holdMinMs + Math.floor(this.random() * (span + 1)) };
    }
    this.hold.frames.push(f);
    if (o.t - this.hold.since < this.hold.need || this.hold.frames.length < 3) {
      return { feedback: this.hold.frames.length > 1 ? [FeedbackCode.HOLD_STILL] : [FeedbackCode.LOOK_STRAIGHT] };
    }
    // the baseline of this step
    const frames = this.hold.frames;
    this.baseYaw = median(frames.map((x) => x.yaw));
    this.basePitch = median(frames.map((x) => x.pitch));
    this.baseEar = median(frames.map((x) => x.ear));
    for (const x of frames) this.holdEmbeddings.push(x.embedding);
    this.addReferences(frames);
    this.hold = null;
    this.phase = 'step';
    this.revealedAt = o.t;
    this.onsetAt = null;
    this.intermediate = 0;
    this.closedAt = null;
    this.lastYaw = f.yaw;
    this.lastAt = o.t;
    this.notes.revealedAt.push(o.t);
    const step = this.steps[this.index] as ChallengeStep;
    return { feedback: [step as FeedbackCode], revealed: { index: this.index, step } };
  }

  /**
   * Open-eyed references: the hold frames, less those whose eyes look closed next to the other
   * hold frames (a natural blink during the hold); the latest few kept.
   */
  private addReferences(frames: ObservedFace[]): void {
    const tex = frames.map((f) => f.texture).filter((t): t is Texture => t !== null);
    const open = tex.filter(
      (t) =>
        !this.looksClosed(
          t,
          tex.filter((u) => u !== t),
        ),
    );
    this.refs.push(...(open.length ? open : tex));
    this.refs.splice(0, Math.max(0, this.refs.length - 8));
  }

  /** The eye regions no longer look like the references and their darkest line moved down to the lower lid. */
  private looksClosed(t: Texture, refs: readonly Texture[]): boolean {
    return refs.length > 0 && eyeSimilarity(t, refs) <= this.rules.blinkClosedBelow && lidDrop(t, refs) >= this.rules.blinkLidDrop;
  }

  /**
   * The landmark net follows a closing lid only part of the way: the eyes' aspect ratio drops a
   * little while the lid covers the iris. A picture bent in 2-D cannot do both: when the landmarks
   * follow a squashed eye band the normalised texture un-squashes it (it looks open again), and
   * when they do not follow, the aspect ratio does not drop.
   */
  private lidsFollow(f: ObservedFace): boolean {
    return f.ear <= this.baseEar - this.rules.blinkEarDrop;
  }

  private looksOpen(t: Texture): boolean {
    return eyeSimilarity(t, this.refs) >= this.rules.blinkOpenAbove && lidDrop(t, this.refs) < this.rules.blinkLidDrop;
  }

  private observeStep(o: Observation): LivenessEvent {
    const dt = o.t - this.revealedAt;
    if (o.t - this.lastAt > this.rules.maxGapMs) return this.fail('gap');
    this.lastAt = o.t;
    if (dt > this.rules.stepTimeMs) return this.fail('too-slow');
    const f = o.face;
    if (!f) {
      if (this.onsetAt === null && dt > this.rules.reactionMs) return this.fail('late');
      return { feedback: this.prompt() };
    }
    if (this.lastYaw !== null && Math.abs(f.yaw - this.lastYaw) > this.rules.maxJumpDegrees) return this.fail('discontinuous');
    this.lastYaw = f.yaw;
    const step = this.steps[this.index] as ChallengeStep;
    const result =
      step === ChallengeStep.BLINK ? this.judgeBlink(f, o.t, dt) : this.judgeTurn(f, o.t, dt, step === ChallengeStep.TURN_LEFT ? 1 : -1);
    if (result === 'completed') return this.completeStep();
    if (typeof result === 'string') return this.fail(result);
    return { feedback: this.prompt() };
  }

  private judgeTurn(f: ObservedFace, t: number, dt: number, dir: 1 | -1): LivenessFailure | 'completed' | null {
    const d = dir * (f.yaw - this.baseYaw);
    const moved = Math.abs(f.yaw - this.baseYaw);
    if (dt < this.rules.minReactionMs && moved > this.rules.onsetDegrees) return 'anticipated';
    if (d < -this.rules.wrongWayDegrees) return 'wrong-direction';
    if (Math.abs(f.pitch - this.basePitch) > this.rules.blinkMaxPoseChange) return 'wrong-motion';
    if (this.onsetAt === null) {
      if (d >= this.rules.onsetDegrees) {
        this.onsetAt = t;
        this.notes.reactionMs.push(dt);
        if (dt > this.rules.reactionMs) return 'late';
      } else if (dt > this.rules.reactionMs) return 'late';
    }
    if (this.onsetAt === null) return null;
    if (d >= this.rules.turnDegrees) return this.intermediate >= 1 ? 'completed' : 'discontinuous';
    if (d >= this.rules.onsetDegrees) this.intermediate++;
    return null;
  }

  private judgeBlink(f: ObservedFace, t: number, dt: number): LivenessFailure | 'completed' | null {
    if (!f.texture || this.refs.length === 0) return 'no-evidence';
    if (this.closedAt === null) {
      if (dt > this.rules.reactionMs) return 'late';
      const still =
        Math.abs(f.yaw - this.baseYaw) <= this.rules.blinkMaxPoseChange &&
        Math.abs(f.pitch - this.basePitch) <= this.rules.blinkMaxPoseChange;
      // the head stays where it was until the eyes close: a blink is asked for, not a turn or a nod
      if (!still && dt >= this.rules.minReactionMs) return 'wrong-motion';
      if (!this.looksClosed(f.texture, this.refs)) return null;
      const same = nearest(f.embedding, this.holdEmbeddings) <= this.rules.blinkIdentityMax;
      if (!still || !same || !this.lidsFollow(f)) {
        this.notes.closedFramesRefused++;
        return null;
      }
      // a blink this early was not a reaction to the prompt; it simply does not count
      if (dt < this.rules.minReactionMs) return null;
      this.closedAt = t;
      this.notes.reactionMs.push(dt);
      return null;
    }
    if (this.looksOpen(f.texture)) return t - this.closedAt <= this.rules.blinkMaxMs ? 'completed' : null;
    // eyes kept shut are not a blink
    if (t - this.closedAt > this.rules.blinkMaxMs) return 'too-slow';
    return null;
  }

  private completeStep(): LivenessEvent {
    this.index++;
    if (this.index >= this.steps.length) {
      this.phase = 'done';
      return { feedback: [FeedbackCode.STEP_DONE], completed: this.index };
    }
    this.phase = 'hold';
    this.hold = null;
    return { feedback: [FeedbackCode.STEP_DONE, FeedbackCode.LOOK_STRAIGHT], completed: this.index };
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function nearest(e: ArrayLike<number>, refs: readonly ArrayLike<number>[]): number {
  let best = Infinity;
  for (const r of refs) best = Math.min(best, descriptorDistance(e, r));
  return best;
}

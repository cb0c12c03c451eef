/**
 * Challenge-response liveness. The person first looks straight at the camera (the baseline
 * frame), then performs a random sequence of head turns and blinks. Each step is judged from
 * the vision report of a frame whose identity matched: yaw relative to the baseline for turns,
 * the eye aspect ratio going from open to closed for blinks. A still photo, however it is
 * re-encoded, has a constant pose and constant eyes and never completes a step.
 */
import { createHash, randomInt } from 'node:crypto';
import { ChallengeStep, FeedbackCode, type Quality } from '@faceline/contracts';

const STEPS: ChallengeStep[] = [ChallengeStep.TURN_LEFT, ChallengeStep.TURN_RIGHT, ChallengeStep.BLINK];

/**
 * A random sequence without the same step twice in a row. With `seed` the sequence is fixed
 * (tests, demos; the service logs a warning when it runs that way).
 */
export function makeChallenge(length: number, seed?: string): ChallengeStep[] {
  const out: ChallengeStep[] = [];
  const digest = seed === undefined ? undefined : createHash('sha256').update(`faceline challenge ${seed}`).digest();
  for (let i = 0; i < length; i++) {
    const choices = STEPS.filter((s) => s !== out[i - 1]);
    const pick = digest ? (digest[i % digest.length] as number) % choices.length : randomInt(choices.length);
    out.push(choices[pick] as ChallengeStep);
  }
  return out;
}

export interface LivenessRules {
  turnDegrees: number;
  eyeClosedBelow: number;
  eyeOpenAbove: number;
  maxFrontalAngle: number;
}

export interface StepOutcome {
  feedback: FeedbackCode[];
  stepCompleted: boolean;
}

export class ChallengeTracker {
  private baselineYaw: number | null = null;
  private index = 0;
  private eyesSeenOpen = false;

  constructor(
    readonly steps: readonly ChallengeStep[],
    private readonly rules: LivenessRules,
  ) {}

  get step(): number {
    return this.index;
  }

  get done(): boolean {
    return this.baselineYaw !== null && this.index >= this.steps.length;
  }

  get hasBaseline(): boolean {
    return this.baselineYaw !== null;
  }

  /** The instruction for the current state. */
  prompt(): FeedbackCode[] {
    if (this.baselineYaw === null) return [FeedbackCode.LOOK_STRAIGHT];
    const s = this.steps[this.index];
    return s ? [s as FeedbackCode] : [];
  }

  /** Call only with frames whose identity matched; others must not advance the challenge. */
  observe(q: Quality): StepOutcome {
    const eyes = (q.eyeOpenness.left + q.eyeOpenness.right) / 2;
    if (this.baselineYaw === null) {
      if (Math.abs(q.yaw) <= this.rules.maxFrontalAngle && Math.abs(q.pitch) <= this.rules.maxFrontalAngle) {
        this.baselineYaw = q.yaw;
        this.eyesSeenOpen = eyes >= this.rules.eyeOpenAbove;
        return { feedback: this.prompt(), stepCompleted: false };
      }
      return { feedback: [FeedbackCode.LOOK_STRAIGHT], stepCompleted: false };
    }
    const step = this.steps[this.index];
    if (step === undefined) return { feedback: [], stepCompleted: false };
    let completed = false;
    if (step === ChallengeStep.TURN_LEFT) completed = q.yaw - this.baselineYaw >= this.rules.turnDegrees;
    else if (step === ChallengeStep.TURN_RIGHT) completed = this.baselineYaw - q.yaw >= this.rules.turnDegrees;
    else {
      // a blink is open → closed; eyes that were never seen open (a photo with closed eyes) do not count
      if (eyes >= this.rules.eyeOpenAbove) this.eyesSeenOpen = true;
      completed = this.eyesSeenOpen && eyes < this.rules.eyeClosedBelow;
    }
    if (!completed) return { feedback: this.prompt(), stepCompleted: false };
    this.index++;
    this.eyesSeenOpen = eyes >= this.rules.eyeOpenAbove;
    return { feedback: [FeedbackCode.STEP_DONE, ...this.prompt()], stepCompleted: true };
  }
}

/** The thresholds and timings liveness is judged by; config.ts fills them from the environment. */
export interface LivenessRules {
  /** yaw away from the hold's baseline that completes a turn */
  turnDegrees: number;
  /** |yaw| and |pitch| up to this count as facing the camera during the hold */
  maxFrontalAngle: number;
  /** the hold before each step lasts a random time in [holdMinMs, holdMaxMs] of steady, frontal frames */
  holdMinMs: number;
  holdMaxMs: number;
  /** yaw/pitch may wander this much during the hold (more restarts it) */
  holdToleranceDegrees: number;
  /** the motion must start within this time after the step is shown */
  reactionMs: number;
  /** motion earlier than this after the step was shown cannot be a reaction to it */
  minReactionMs: number;
  /** a step must be completed within this time after it is shown */
  stepTimeMs: number;
  /** yaw change that counts as the start of a turn */
  onsetDegrees: number;
  /** turning this far the other way fails the step */
  wrongWayDegrees: number;
  /** yaw change between two consecutive frames above this is a cut, not a head turn */
  maxJumpDegrees: number;
  /** frames may not stop for longer than this during a step */
  maxGapMs: number;
  /** eye regions less similar than this to the open eyes of the hold count as closed */
  blinkClosedBelow: number;
  /** ...and their darkest line (the lashes of a closed lid) must lie this many texture pixels below the open iris */
  blinkLidDrop: number;
  /** ...and the landmarks' eye aspect ratio must have dropped this much below the hold's */
  blinkEarDrop: number;
  /** ...and more similar than this as open again */
  blinkOpenAbove: number;
  /** the eyes must open again within this time */
  blinkMaxMs: number;
  /** a closed-eye frame must stay this close (descriptor distance) to the person of the hold */
  blinkIdentityMax: number;
  /** yaw/pitch may change this much while blinking, and pitch while turning (more is another motion) */
  blinkMaxPoseChange: number;
}

export const DEFAULT_LIVENESS_RULES: LivenessRules = {
  turnDegrees: 15,
  maxFrontalAngle: 25,
  holdMinMs: 600,
  holdMaxMs: 1400,
  holdToleranceDegrees: 12,
  reactionMs: 2000,
  minReactionMs: 150,
  stepTimeMs: 3500,
  onsetDegrees: 5,
  wrongWayDegrees: 8,
  maxJumpDegrees: 20,
  maxGapMs: 1500,
  blinkClosedBelow: 0.25,
  blinkLidDrop: 1.5,
  blinkEarDrop: 0.02,
  blinkOpenAbove: 0.35,
  blinkMaxMs: 2000,
  blinkIdentityMax: 0.35,
  blinkMaxPoseChange: 15,
};

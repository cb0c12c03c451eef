/**
 * The face login flow (username + face, or kiosk face only) as a pure state machine.
 *
 *   idle → camera → connecting → scanning → verifying → signing-in → success
 *                 ↘ failed (from any step; RETRY goes back to idle)      ↘ confirming ↗
 *
 * "confirming": the server wants the administrator's passkey before it makes the session
 * (STEP_UP_REQUIRED at the grant exchange); the browser's passkey prompt is open.
 *
 * "scanning" covers the whole liveness challenge: the person faces the camera and holds still
 * until the server shows a step (a `challenge:step` event, at a moment only the server
 * chooses), performs it, and so on. Frame answers say what to do, never whether the face
 * matched; that comes once, in the result.
 */
import type {
  AckError,
  ChallengeStep,
  ChallengeStepEvent,
  FeedbackCode,
  LoginFrameResult,
  LoginMode,
  LoginResult,
  LoginStarted,
  Profile,
  User,
  FaceLocation,
} from '@faceline/contracts';
import type { CameraProblem } from '../i18n/index.js';
import { serverProblem, type Problem } from '../lib/problems.js';
import { faceOf, isTransientFrameError } from './common.js';

export interface Scanning {
  phase: 'scanning';
  loginId: string;
  mode: LoginMode;
  liveness: boolean;
  /** steps the challenge has (0 without liveness) */
  steps: number;
  /** the step to perform now, or null while holding still */
  current: ChallengeStep | null;
  step: number;
  stepsCompleted: number;
  feedback: FeedbackCode[];
  /** where the server found the face on the latest frame (for the overlay) */
  face?: FaceLocation;
  lastSeq: number;
  expiresAt: string;
}

export type LoginState =
  | { phase: 'idle' }
  | { phase: 'camera' }
  | { phase: 'connecting' }
  | Scanning
  | { phase: 'verifying'; loginId: string; steps: number; stepsCompleted: number }
  | { phase: 'signing-in'; user: User; grant: string; liveness: boolean }
  | { phase: 'confirming'; user: User; grant: string; liveness: boolean }
  | { phase: 'success'; user: User; profile: Profile; liveness: boolean }
  | { phase: 'failed'; problem: Problem };

export type LoginEvent =
  | { type: 'START' }
  | { type: 'CAMERA_READY' }
  | { type: 'CAMERA_FAILED'; problem: CameraProblem }
  | { type: 'STARTED'; started: LoginStarted }
  | { type: 'FRAME'; result: LoginFrameResult }
  | { type: 'CHALLENGE'; event: ChallengeStepEvent }
  | { type: 'FRAME_REFUSED'; error: AckError }
  | { type: 'RESULT'; result: LoginResult }
  | { type: 'SIGNED_IN'; user: User; profile: Profile }
  /** the grant exchange asks for a passkey (an administrator away from a trusted kiosk) */
  | { type: 'STEP_UP' }
  /** the time limit from LoginStarted passed without a result (the server may have gone quiet) */
  | { type: 'EXPIRED' }
  | { type: 'FAILED'; problem: Problem }
  | { type: 'RETRY' };

export const initialLoginState: LoginState = { phase: 'idle' };

export function loginReducer(state: LoginState, event: LoginEvent): LoginState {
  switch (event.type) {
    case 'START':
      return state.phase === 'idle' || state.phase === 'failed' ? { phase: 'camera' } : state;
    case 'CAMERA_READY':
      return state.phase === 'camera' ? { phase: 'connecting' } : state;
    case 'CAMERA_FAILED':
      return state.phase === 'camera' ? { phase: 'failed', problem: { kind: 'camera', camera: event.problem } } : state;
    case 'STARTED': {
      if (state.phase !== 'connecting') return state;
      const s = event.started;
      return {
        phase: 'scanning',
        loginId: s.loginId,
        mode: s.mode,
        liveness: s.liveness,
        steps: s.steps,
        current: null,
        step: 0,
        stepsCompleted: 0,
        feedback: [],
        lastSeq: -1,
        expiresAt: s.expiresAt,
      };
    }
    case 'FRAME': {
      if (state.phase !== 'scanning' || event.result.seq <= state.lastSeq) return state;
      const r = event.result;
      if (r.status !== 'continue') {
        return { phase: 'verifying', loginId: state.loginId, steps: state.steps, stepsCompleted: r.stepsCompleted };
      }
      // a completed step ends the prompt until the server shows the next one
      const current = r.stepsCompleted > state.stepsCompleted ? null : state.current;
      return {
        ...state,
        current,
        step: r.step,
        stepsCompleted: Math.max(state.stepsCompleted, r.stepsCompleted),
        feedback: r.feedback,
        face: faceOf(r),
        lastSeq: r.seq,
      };
    }
    case 'CHALLENGE':
      if (state.phase !== 'scanning' || event.event.loginId !== state.loginId) return state;
      // Acks and pushes can cross; never move backwards.
      if (event.event.completed < state.stepsCompleted) return state;
      return { ...state, current: event.event.step, step: event.event.index, stepsCompleted: event.event.completed };
    case 'FRAME_REFUSED':
      if (state.phase !== 'scanning') return state;
      if (isTransientFrameError(event.error))
        return { ...state, feedback: event.error.code === 'RATE_LIMITED' ? ['SLOW_DOWN'] : state.feedback };
      return { phase: 'failed', problem: serverProblem(event.error) };
    case 'RESULT': {
      if (state.phase !== 'scanning' && state.phase !== 'verifying') return state;
      if (event.result.loginId !== state.loginId) return state;
      const r = event.result;
      return r.ok
        ? { phase: 'signing-in', user: r.user, grant: r.grant, liveness: r.liveness }
        : { phase: 'failed', problem: serverProblem(r.error) };
    }
    case 'EXPIRED':
      return state.phase === 'scanning' || state.phase === 'verifying'
        ? { phase: 'failed', problem: { kind: 'server', code: 'CHALLENGE_EXPIRED' } }
        : state;
    case 'STEP_UP':
      return state.phase === 'signing-in' ? { ...state, phase: 'confirming' } : state;
    case 'SIGNED_IN':
      return state.phase === 'signing-in' || state.phase === 'confirming'
        ? { phase: 'success', user: event.user, profile: event.profile, liveness: state.liveness }
        : state;
    case 'FAILED':
      return state.phase === 'success' || state.phase === 'failed' || state.phase === 'idle'
        ? state
        : { phase: 'failed', problem: event.problem };
    case 'RETRY':
      return state.phase === 'failed' || state.phase === 'success' ? { phase: 'idle' } : state;
  }
}

export function loginWantsFrames(state: LoginState): boolean {
  return state.phase === 'scanning';
}

export type Instruction =
  | { kind: 'wait' }
  | { kind: 'feedback'; code: FeedbackCode }
  | { kind: 'step'; step: ChallengeStep; index: number; total: number };

/**
 * What to tell the person now. Problems with the picture (no face, too dark...) come
 * before the challenge step, because the step cannot succeed until they are fixed.
 */
export function loginInstruction(state: LoginState): Instruction {
  if (state.phase !== 'scanning') return { kind: 'wait' };
  const first = state.feedback[0];
  const blocking =
    first !== undefined &&
    !['GOOD', 'STEP_DONE', 'CAPTURED', 'TURN_LEFT', 'TURN_RIGHT', 'BLINK', 'SLOW_DOWN', 'HOLD_STILL', 'LOOK_STRAIGHT'].includes(first);
  if (blocking) return { kind: 'feedback', code: first };
  if (state.liveness && state.current) return { kind: 'step', step: state.current, index: state.step, total: state.steps };
  if (state.liveness) return { kind: 'feedback', code: first === 'HOLD_STILL' ? 'HOLD_STILL' : 'LOOK_STRAIGHT' };
  return first ? { kind: 'feedback', code: first } : { kind: 'wait' };
}

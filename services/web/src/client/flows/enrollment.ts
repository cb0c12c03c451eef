/**
 * The guided enrollment flow as a pure state machine: the page feeds it what happened
 * (camera, socket answers) and draws whatever state comes out.
 *
 *   idle → camera → connecting → capturing → finishing → done
 *                 ↘ failed (from any step; RETRY goes back to idle)
 */
import type {
  AckError,
  ChallengeStep,
  ChallengeStepEvent,
  EnrollFrameResult,
  EnrollResult,
  EnrollStarted,
  FaceLocation,
  FeedbackCode,
  User,
} from '@faceline/contracts';
import type { CameraProblem } from '../i18n/index.js';
import { serverProblem, type Problem } from '../lib/problems.js';
import { faceOf, isTransientFrameError } from './common.js';

export type EnrollState =
  | { phase: 'idle' }
  | { phase: 'camera' }
  | { phase: 'connecting' }
  | {
      phase: 'capturing';
      enrollmentId: string;
      accepted: number;
      required: number;
      /** liveness steps of the enrollment and the one to perform now (null: hold still) */
      steps: number;
      stepsCompleted: number;
      current: ChallengeStep | null;
      feedback: FeedbackCode[];
      /** where the server found the face on the latest frame (for the overlay) */
      face?: FaceLocation;
      lastSeq: number;
      expiresAt: string;
    }
  | { phase: 'finishing'; enrollmentId: string; accepted: number; required: number }
  | { phase: 'done'; user: User; templateCount: number }
  | { phase: 'failed'; problem: Problem };

export type EnrollEvent =
  | { type: 'START' }
  | { type: 'CAMERA_READY' }
  | { type: 'CAMERA_FAILED'; problem: CameraProblem }
  | { type: 'STARTED'; started: EnrollStarted }
  | { type: 'FRAME'; result: EnrollFrameResult }
  | { type: 'CHALLENGE'; event: ChallengeStepEvent }
  | { type: 'FRAME_REFUSED'; error: AckError }
  | { type: 'RESULT'; result: EnrollResult }
  | { type: 'FAILED'; problem: Problem }
  | { type: 'EXPIRED' }
  | { type: 'RETRY' };

export const initialEnrollState: EnrollState = { phase: 'idle' };

export function enrollReducer(state: EnrollState, event: EnrollEvent): EnrollState {
  switch (event.type) {
    case 'START':
      return state.phase === 'idle' || state.phase === 'failed' ? { phase: 'camera' } : state;
    case 'CAMERA_READY':
      return state.phase === 'camera' ? { phase: 'connecting' } : state;
    case 'CAMERA_FAILED':
      return state.phase === 'camera' ? { phase: 'failed', problem: { kind: 'camera', camera: event.problem } } : state;
    case 'STARTED':
      if (state.phase !== 'connecting') return state;
      return {
        phase: 'capturing',
        enrollmentId: event.started.enrollmentId,
        accepted: 0,
        required: event.started.capturesRequired,
        steps: event.started.steps,
        stepsCompleted: 0,
        current: null,
        feedback: [],
        lastSeq: -1,
        expiresAt: event.started.expiresAt,
      };
    case 'FRAME': {
      if (state.phase !== 'capturing' || event.result.seq <= state.lastSeq) return state;
      const r = event.result;
      if (r.completed)
        return { phase: 'finishing', enrollmentId: state.enrollmentId, accepted: r.capturesAccepted, required: r.capturesRequired };
      const stepDone = r.feedback.includes('STEP_DONE');
      return {
        ...state,
        accepted: r.capturesAccepted,
        required: r.capturesRequired,
        stepsCompleted: stepDone ? state.stepsCompleted + 1 : state.stepsCompleted,
        current: stepDone ? null : state.current,
        feedback: r.feedback,
        face: faceOf(r),
        lastSeq: r.seq,
      };
    }
    case 'CHALLENGE':
      if (state.phase !== 'capturing' || event.event.loginId !== state.enrollmentId || event.event.completed < state.stepsCompleted)
        return state;
      return { ...state, current: event.event.step, stepsCompleted: event.event.completed };
    case 'FRAME_REFUSED':
      if (state.phase !== 'capturing') return state;
      if (isTransientFrameError(event.error))
        return { ...state, feedback: event.error.code === 'RATE_LIMITED' ? ['SLOW_DOWN'] : state.feedback };
      return { phase: 'failed', problem: serverProblem(event.error) };
    case 'RESULT': {
      if (state.phase !== 'capturing' && state.phase !== 'finishing') return state;
      if (event.result.enrollmentId !== state.enrollmentId) return state;
      return event.result.ok
        ? { phase: 'done', user: event.result.user, templateCount: event.result.templateCount }
        : { phase: 'failed', problem: serverProblem(event.result.error) };
    }
    case 'EXPIRED':
      return state.phase === 'capturing' || state.phase === 'finishing'
        ? { phase: 'failed', problem: { kind: 'server', code: 'CHALLENGE_EXPIRED' } }
        : state;
    case 'FAILED':
      return state.phase === 'done' || state.phase === 'failed' || state.phase === 'idle'
        ? state
        : { phase: 'failed', problem: event.problem };
    case 'RETRY':
      return state.phase === 'failed' || state.phase === 'done' ? { phase: 'idle' } : state;
  }
}

/** Frames flow only while captures are being collected. */
export function enrollWantsFrames(state: EnrollState): boolean {
  return state.phase === 'capturing';
}

/** 0..1 for the progress bar: captures and liveness steps together. */
export function enrollProgress(state: EnrollState): number {
  if (state.phase === 'done') return 1;
  if (state.phase === 'finishing') return 1;
  if (state.phase !== 'capturing') return 0;
  const total = state.required + state.steps;
  return total > 0 ? Math.min(1, (state.accepted + state.stepsCompleted) / total) : 0;
}

/**
 * The auth service's Socket.IO contract (default namespace, path `/socket.io`).
 *
 * Both flows are frame streams the client drives:
 *   enroll:start → enroll:frame × n (each acknowledged with live feedback) → enroll:result
 *   login:start  → login:frame  × n (each acknowledged; challenge steps advance) → login:result
 *
 * Every client event takes an acknowledgement callback and gets either `{ data }` or
 * `{ error: { code, message, retryable? } }` with a stable code from errors.ts. Events sent
 * without a callback, or that are malformed, get a `flow:error` event instead. Frames carry a
 * strictly increasing sequence number and one binary JPEG; a repeated, older or identical
 * frame is refused (FRAME_REPLAYED / FRAME_OUT_OF_ORDER) and changes nothing.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { User, Profile } from './auth.js';

export const SOCKET_PATH = '/socket.io';

// ---------------------------------------------------------------- acknowledgements

export interface AckError {
  code: string;
  message: string;
  retryable?: boolean;
  /** e.g. `{ retryAfterMs }` for BACKOFF, the offending field for VALIDATION_FAILED */
  details?: Record<string, unknown>;
}
export type AckResponse<T> = { data: T } | { error: AckError };
export type Ack<T> = (response: AckResponse<T>) => void;

export function isAckError<T>(r: AckResponse<T>): r is { error: AckError } {
  return typeof r === 'object' && r !== null && 'error' in r;
}

// ---------------------------------------------------------------- feedback and challenge

/**
 * Live feedback codes, one or more per frame, most important first. The browser turns them
 * into words and arrows; the server never sends free text that the UI must parse.
 */
export const FeedbackCode = {
  /** frame fine, nothing to do yet */
  GOOD: 'GOOD',
  /** enrollment: this frame became a capture */
  CAPTURED: 'CAPTURED',
  /** login: the current challenge step was completed */
  STEP_DONE: 'STEP_DONE',
  NO_FACE: 'NO_FACE',
  MULTIPLE_FACES: 'MULTIPLE_FACES',
  MOVE_CLOSER: 'MOVE_CLOSER',
  HOLD_STILL: 'HOLD_STILL',
  TOO_DARK: 'TOO_DARK',
  BLURRY: 'BLURRY',
  LOOK_STRAIGHT: 'LOOK_STRAIGHT',
  TURN_LEFT: 'TURN_LEFT',
  TURN_RIGHT: 'TURN_RIGHT',
  BLINK: 'BLINK',
  /** the face in view is not the one the flow started with */
  FACE_CHANGED: 'FACE_CHANGED',
  /** frames arrive faster than minFrameIntervalMs; this one was dropped */
  SLOW_DOWN: 'SLOW_DOWN',
} as const;
export type FeedbackCode = (typeof FeedbackCode)[keyof typeof FeedbackCode];

/**
 * One liveness step. TURN_LEFT/TURN_RIGHT are the person's own left/right (the vision
 * report's yaw: positive = the person turns to their left). A mirrored preview in the
 * browser makes "turn left" move the face to the screen's left, which is what people expect.
 */
export const ChallengeStep = {
  TURN_LEFT: 'TURN_LEFT',
  TURN_RIGHT: 'TURN_RIGHT',
  BLINK: 'BLINK',
} as const;
export type ChallengeStep = (typeof ChallengeStep)[keyof typeof ChallengeStep];

export const LoginMode = Type.Union([
  Type.Literal('verify', { description: '1:1, username + face' }),
  Type.Literal('identify', { description: '1:N kiosk, face only' }),
]);
export type LoginMode = Static<typeof LoginMode>;

// ---------------------------------------------------------------- frames

/**
 * One camera frame. `image` is the JPEG bytes (ArrayBuffer/Uint8Array in the browser,
 * a Buffer on the server); keep it under ClientConfig.maxFrameBytes.
 */
export interface FrameMessage {
  /** strictly increasing per flow, starting at any non-negative integer */
  seq: number;
  image: ArrayBuffer | Uint8Array;
  /** client clock, ms since epoch; informative only */
  capturedAt?: number;
}

/** The non-binary part of a frame, validated on the server. */
export const FrameMeta = Type.Object(
  {
    seq: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    capturedAt: Type.Optional(Type.Number()),
  },
  { additionalProperties: true },
);

/**
 * Where the one face of a frame was found, in pixels of the frame as sent (not mirrored; the
 * origin is the top-left corner of the JPEG). Present on frame acknowledgements and feedback
 * events when exactly one face was detected, so the browser can draw the real box over its
 * preview; absent otherwise (no face, several faces, a frame that was not analysed).
 */
export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The size of the analysed frame, which `box` refers to. */
export interface FrameSize {
  width: number;
  height: number;
}

/** Optional face location carried by frame results and feedback events. */
export interface FaceLocation {
  box?: FaceBox;
  frameSize?: FrameSize;
}

// ---------------------------------------------------------------- enrollment

/** Either a ticket from registration / POST /me/enrollment-ticket, or a signed-in socket. */
export const EnrollStartRequest = Type.Object(
  { ticket: Type.Optional(Type.String({ minLength: 16, maxLength: 2048 })) },
  { additionalProperties: false },
);
export type EnrollStartRequest = Static<typeof EnrollStartRequest>;

export interface EnrollStarted {
  enrollmentId: string;
  capturesRequired: number;
  /** liveness steps the enrollment asks for (0 when liveness is off), shown by `challenge:step` */
  steps: number;
  timeLimitMs: number;
  expiresAt: string;
}

export interface EnrollFrameResult extends FaceLocation {
  seq: number;
  /** this frame became one of the captures */
  accepted: boolean;
  feedback: FeedbackCode[];
  capturesAccepted: number;
  capturesRequired: number;
  /** true on the frame that completed enrollment (enroll:result follows) */
  completed: boolean;
}

export type EnrollResult =
  | { ok: true; enrollmentId: string; user: User; templateCount: number }
  | { ok: false; enrollmentId: string; error: AckError };

// ---------------------------------------------------------------- login

export const LoginStartRequest = Type.Object(
  {
    mode: LoginMode,
    /** required for verify, forbidden for identify */
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type LoginStartRequest = Static<typeof LoginStartRequest>;

export interface LoginStarted {
  loginId: string;
  mode: LoginMode;
  liveness: boolean;
  /**
   * how many liveness steps will be asked for (0 when liveness is off). Which steps, and when,
   * the client learns only from `challenge:step` events: each is shown after the person has
   * held still, facing the camera, for a time only the server knows.
   */
  steps: number;
  timeLimitMs: number;
  expiresAt: string;
}

export type LoginStatus = 'continue' | 'succeeded' | 'failed';

/**
 * The answer to one login frame: what the person should do, never whether the face matched
 * (that is decided once, at the end, in login:result).
 */
export interface LoginFrameResult extends FaceLocation {
  seq: number;
  feedback: FeedbackCode[];
  /** index of the step now asked for; equals LoginStarted.steps when all are done */
  step: number;
  stepsCompleted: number;
  status: LoginStatus;
}

export interface LoginSuccess {
  ok: true;
  loginId: string;
  mode: LoginMode;
  user: User;
  profile: Profile;
  /** one-time, short-lived: POST /api/v1/sessions { grant } turns it into cookies and an access token */
  grant: string;
  grantExpiresAt: string;
  liveness: boolean;
}
export interface LoginFailure {
  ok: false;
  loginId: string;
  mode: LoginMode;
  error: AckError;
}
export type LoginResult = LoginSuccess | LoginFailure;

// ---------------------------------------------------------------- server pushes

export interface FeedbackEvent extends FaceLocation {
  flow: 'enroll' | 'login';
  seq: number;
  codes: FeedbackCode[];
}

/**
 * A liveness step to perform now (`step`), or, with `step: null`, that the person should face
 * the camera and hold still until the next one is shown. The motion must start soon after the
 * step is shown, not before.
 */
export interface ChallengeStepEvent {
  /** the login or enrollment this step belongs to */
  loginId: string;
  /** index of the step now asked for */
  index: number;
  step: ChallengeStep | null;
  completed: number;
  total: number;
}

export interface FlowErrorEvent {
  /** the client event that caused it, e.g. "login:frame" */
  event: string;
  error: AckError;
}

// ---------------------------------------------------------------- event maps

export interface ClientToServerEvents {
  'enroll:start': (request: EnrollStartRequest, ack: Ack<EnrollStarted>) => void;
  'enroll:frame': (frame: FrameMessage, ack: Ack<EnrollFrameResult>) => void;
  'enroll:cancel': (ack: Ack<{ cancelled: boolean }>) => void;
  'login:start': (request: LoginStartRequest, ack: Ack<LoginStarted>) => void;
  'login:frame': (frame: FrameMessage, ack: Ack<LoginFrameResult>) => void;
  'login:cancel': (ack: Ack<{ cancelled: boolean }>) => void;
}

export interface ServerToClientEvents {
  feedback: (event: FeedbackEvent) => void;
  'challenge:step': (event: ChallengeStepEvent) => void;
  'enroll:result': (result: EnrollResult) => void;
  'login:result': (result: LoginResult) => void;
  'flow:error': (event: FlowErrorEvent) => void;
}

// biome-ignore lint/complexity/noBannedTypes: Socket.IO's type for "no events between servers" is an empty map
export type InterServerEvents = {};

/**
 * Runs a face flow end to end: camera → socket → start → frames until the server decides.
 * The reducers in ../flows decide what each answer means; this file only moves data.
 */
import type { AckError, AckResponse, ClientConfig, FrameMessage, LoginStartRequest, SessionResponse } from '@faceline/contracts';
import { enrollReducer, enrollWantsFrames, type EnrollEvent, type EnrollState } from '../flows/enrollment.js';
import { loginReducer, loginWantsFrames, type LoginEvent, type LoginState } from '../flows/login.js';
import { api } from './api.js';
import { CameraError, openCamera, stopCamera } from './camera.js';
import { ROUTES } from './contracts.js';
import { FramePump } from './frames.js';
import { passkeyAssertion, stepUpOptions } from './passkeys.js';
import { connect, FlowError, request, type FacelineSocket } from './realtime.js';
import type { Problem } from './problems.js';

const ACK_TIMEOUT_MS = 15_000;
/** At most ~8 frames a second, whatever the server allows: enough for head turns and blinks. */
export const CLIENT_MIN_FRAME_INTERVAL_MS = 120;
/** Extra time after the server's own limit before the client gives up on hearing a result. */
const DEADLINE_GRACE_MS = 3000;

export interface FlowHandle<S> {
  state: () => S;
  stop: () => void;
}

function problemOf(err: unknown): Problem {
  if (err instanceof FlowError) return err.problem;
  const p = (err as { problem?: Problem }).problem;
  return p ?? { kind: 'client', code: 'UNKNOWN' };
}

/** Shared plumbing: camera, socket, frame pump, and a stop that undoes all three. */
function plumbing(video: HTMLVideoElement) {
  let socket: FacelineSocket | undefined;
  let pump: FramePump | undefined;
  let stopped = false;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  return {
    get stopped() {
      return stopped;
    },
    setSocket(s: FacelineSocket) {
      socket = s;
    },
    /** A flow that hears nothing by its time limit fails by itself instead of spinning forever. */
    expireAfter(ms: number, onExpired: () => void) {
      clearTimeout(deadline);
      deadline = setTimeout(onExpired, ms + DEADLINE_GRACE_MS);
    },
    stop() {
      stopped = true;
      clearTimeout(deadline);
      pump?.stop();
      socket?.removeAllListeners();
      socket?.close();
      stopCamera(video);
    },
    stopStreaming() {
      pump?.stop();
    },
    /**
     * Sends camera frames while the flow wants them. Each acknowledgement becomes a FRAME event,
     * a refusal from the server a FRAME_REFUSED event (the reducer decides whether to go on),
     * and anything else fails the flow.
     */
    streamFrames<R>(
      video: HTMLVideoElement,
      config: ClientConfig,
      flow: {
        ask: (frame: FrameMessage) => Promise<AckResponse<R>>;
        dispatch: (event: FrameEvent<R>) => void;
        wantsFrames: () => boolean;
      },
    ) {
      const next = new FramePump({
        video,
        targetWidth: config.recommendedFrameWidth,
        minIntervalMs: Math.max(CLIENT_MIN_FRAME_INTERVAL_MS, config.minFrameIntervalMs),
        maxBytes: config.maxFrameBytes,
        send: async (frame) => {
          try {
            flow.dispatch({ type: 'FRAME', result: await request(flow.ask(frame), ACK_TIMEOUT_MS) });
          } catch (err) {
            const problem = problemOf(err);
            if (problem.kind === 'server') {
              flow.dispatch({
                type: 'FRAME_REFUSED',
                error: { code: problem.code, message: '', retryable: problem.retryable, details: problem.details },
              });
            } else flow.dispatch({ type: 'FAILED', problem });
          }
          if (!flow.wantsFrames()) next.stop();
        },
        onError: (err) => flow.dispatch({ type: 'FAILED', problem: problemOf(err) }),
      });
      pump = next;
      if (flow.wantsFrames()) next.start();
    },
  };
}

/** The events a frame answer turns into; both flows' reducers understand them. */
type FrameEvent<R> = { type: 'FRAME'; result: R } | { type: 'FRAME_REFUSED'; error: AckError } | { type: 'FAILED'; problem: Problem };

export function runEnrollment(opts: {
  video: HTMLVideoElement;
  config: ClientConfig;
  ticket: string | undefined;
  onChange: (state: EnrollState) => void;
}): FlowHandle<EnrollState> {
  let state: EnrollState = { phase: 'idle' };
  const p = plumbing(opts.video);
  const dispatch = (event: EnrollEvent) => {
    if (p.stopped) return;
    const next = enrollReducer(state, event);
    if (next === state) return;
    state = next;
    if (!enrollWantsFrames(state)) p.stopStreaming();
    if (state.phase === 'done' || state.phase === 'failed') p.stop();
    opts.onChange(state);
  };

  void (async () => {
    dispatch({ type: 'START' });
    try {
      await openCamera(opts.video, opts.config.recommendedFrameWidth);
    } catch (err) {
      dispatch({ type: 'CAMERA_FAILED', problem: err instanceof CameraError ? err.problem : 'failed' });
      return;
    }
    dispatch({ type: 'CAMERA_READY' });
    try {
      const socket = await connect();
      if (p.stopped) return void socket.close();
      p.setSocket(socket);
      socket.on('enroll:result', (result) => dispatch({ type: 'RESULT', result }));
      socket.on('challenge:step', (event) => dispatch({ type: 'CHALLENGE', event }));
      socket.on('flow:error', (e) =>
        dispatch({ type: 'FAILED', problem: { kind: 'server', code: e.error.code, details: e.error.details } }),
      );
      socket.on('disconnect', () => dispatch({ type: 'FAILED', problem: { kind: 'client', code: 'DISCONNECTED' } }));
      const started = await request(socket.emitWithAck('enroll:start', opts.ticket ? { ticket: opts.ticket } : {}), ACK_TIMEOUT_MS);
      dispatch({ type: 'STARTED', started });
      p.expireAfter(started.timeLimitMs, () => dispatch({ type: 'EXPIRED' }));
      p.streamFrames(opts.video, opts.config, {
        ask: (frame) => socket.emitWithAck('enroll:frame', frame),
        dispatch,
        wantsFrames: () => enrollWantsFrames(state),
      });
    } catch (err) {
      dispatch({ type: 'FAILED', problem: problemOf(err) });
    }
  })();

  return { state: () => state, stop: () => p.stop() };
}

export function runLogin(opts: {
  video: HTMLVideoElement;
  config: ClientConfig;
  start: LoginStartRequest;
  onChange: (state: LoginState) => void;
}): FlowHandle<LoginState> {
  let state: LoginState = { phase: 'idle' };
  const p = plumbing(opts.video);
  // Once the camera and socket are stopped, late socket events (a rejected frame ack after
  // login:result, a disconnect) must not undo the result; only the grant exchange goes on.
  const dispatch = (event: LoginEvent) => {
    if (!p.stopped) apply(event);
  };
  const apply = (event: LoginEvent) => {
    const next = loginReducer(state, event);
    if (next === state) return;
    state = next;
    if (!loginWantsFrames(state)) p.stopStreaming();
    if (state.phase === 'signing-in') {
      p.stop();
      void exchange(state.grant);
    }
    if (state.phase === 'failed') p.stop();
    opts.onChange(state);
  };

  // An administrator away from a trusted kiosk confirms with a passkey: the server answers
  // STEP_UP_REQUIRED with the WebAuthn options, and the same grant is posted again with the answer.
  const exchange = async (grant: string) => {
    try {
      let session: SessionResponse;
      try {
        session = await api<SessionResponse>('POST', ROUTES.sessions, { grant });
      } catch (err) {
        const options = stepUpOptions(err);
        if (!options) throw err;
        apply({ type: 'STEP_UP' });
        const webauthn = await passkeyAssertion(options);
        session = await api<SessionResponse>('POST', ROUTES.sessions, { grant, webauthn });
      }
      apply({ type: 'SIGNED_IN', user: session.user, profile: session.profile });
    } catch (err) {
      apply({ type: 'FAILED', problem: problemOf(err) });
    }
  };

  void (async () => {
    dispatch({ type: 'START' });
    try {
      await openCamera(opts.video, opts.config.recommendedFrameWidth);
    } catch (err) {
      dispatch({ type: 'CAMERA_FAILED', problem: err instanceof CameraError ? err.problem : 'failed' });
      return;
    }
    dispatch({ type: 'CAMERA_READY' });
    try {
      const socket = await connect();
      if (p.stopped) return void socket.close();
      p.setSocket(socket);
      socket.on('login:result', (result) => dispatch({ type: 'RESULT', result }));
      socket.on('challenge:step', (event) => dispatch({ type: 'CHALLENGE', event }));
      socket.on('flow:error', (e) =>
        dispatch({ type: 'FAILED', problem: { kind: 'server', code: e.error.code, details: e.error.details } }),
      );
      socket.on('disconnect', () => {
        if (state.phase !== 'signing-in' && state.phase !== 'confirming' && state.phase !== 'success')
          dispatch({ type: 'FAILED', problem: { kind: 'client', code: 'DISCONNECTED' } });
      });
      const started = await request(socket.emitWithAck('login:start', opts.start), ACK_TIMEOUT_MS);
      dispatch({ type: 'STARTED', started });
      p.expireAfter(started.timeLimitMs, () => dispatch({ type: 'EXPIRED' }));
      p.streamFrames(opts.video, opts.config, {
        ask: (frame) => socket.emitWithAck('login:frame', frame),
        dispatch,
        wantsFrames: () => loginWantsFrames(state),
      });
    } catch (err) {
      dispatch({ type: 'FAILED', problem: problemOf(err) });
    }
  })();

  return { state: () => state, stop: () => p.stop() };
}

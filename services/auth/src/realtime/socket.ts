/**
 * Socket.IO side of auth: enrollment and login flows as frame streams. Every event is
 * validated against the contracts; anything malformed, oversized, out of order, replayed or
 * too frequent gets an error acknowledgement with a stable code and changes nothing.
 * Flow state lives in the connection: if this replica dies, the client starts the flow again.
 */
import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import { Value } from '@sinclair/typebox/value';
import {
  AUTH_COOKIES,
  EnrollStartRequest,
  ErrorCode,
  FeedbackCode,
  FrameMeta,
  LoginStartRequest,
  SOCKET_PATH,
  type AckError,
  type AckResponse,
  type ClientToServerEvents,
  type InterServerEvents,
  type ServerToClientEvents,
} from '@faceline/contracts';
import type { Logger } from 'pino';
import type { AuthConfig } from '../config.js';
import { AuthError, toAckError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { EnrollmentFlow, EnrollmentService } from '../services/enrollment.service.js';
import type { LoginFlow, LoginService } from '../services/login.service.js';
import type { ClientInfo, SessionService } from '../services/session.service.js';
import { clientAddress, trustFunction } from '../lib/client-address.js';
import { originAllowed, originPolicy, requestHost } from '../lib/origin.js';
import { FrameGuard, asBytes, looksLikeJpeg } from './frame-guard.js';

export interface RealtimeDeps {
  config: AuthConfig;
  log: Logger;
  metrics: Metrics;
  sessions: SessionService;
  enrollment: EnrollmentService;
  login: LoginService;
}

interface EnrollState {
  flow: EnrollmentFlow;
  guard: FrameGuard;
  /** ends the flow when its time is up, even if no frame (or only refused frames) arrive */
  timer: NodeJS.Timeout;
}

interface LoginState {
  flow: LoginFlow;
  guard: FrameGuard;
  timer: NodeJS.Timeout;
}

interface ConnectionState {
  client: ClientInfo;
  enroll?: EnrollState;
  login?: LoginState;
  busy: boolean;
  lastFrameAt: number;
  tokens: number;
  refilledAt: number;
  dropped: number;
}

type AppSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, ConnectionState>;
export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, ConnectionState>;

const KNOWN_EVENTS = new Set(['enroll:start', 'enroll:frame', 'enroll:cancel', 'login:start', 'login:frame', 'login:cancel']);

/** Codes after which the flow continues (the next frame may well succeed). */
const RECOVERABLE = new Set<string>([
  ErrorCode.RECOGNITION_UNAVAILABLE,
  ErrorCode.PAYLOAD_TOO_LARGE,
  ErrorCode.IMAGE_CORRUPT,
  ErrorCode.IMAGE_UNSUPPORTED_TYPE,
  ErrorCode.IMAGE_EMPTY,
  ErrorCode.IMAGE_TOO_SMALL,
]);

export function createRealtime(httpServer: HttpServer, deps: RealtimeDeps): RealtimeServer {
  const { config, log, metrics } = deps;
  const policy = originPolicy(config);
  const io: RealtimeServer = new Server(httpServer, {
    path: SOCKET_PATH,
    serveClient: false,
    // a frame plus its envelope; larger messages close the connection inside Socket.IO
    maxHttpBufferSize: config.maxFrameBytes + 64 * 1024,
    pingInterval: 10_000,
    pingTimeout: 10_000,
    // cross-site websocket hijacking: browsers send cookies with cross-site upgrades
    allowRequest: (req, callback) => {
      const ok = originAllowed(req.headers.origin, requestHost(req.headers, config.trustProxy), policy);
      if (!ok) log.warn({ origin: String(req.headers.origin).slice(0, 200) }, 'refused a Socket.IO connection from another origin');
      callback(ok ? null : 'origin not allowed', ok);
    },
  });

  io.on('connection', (socket: AppSocket) => {
    metrics.sockets.inc();
    socket.data = {
      client: clientOf(socket, config),
      busy: false,
      lastFrameAt: 0,
      tokens: config.socketEventsPerSecond * 2,
      refilledAt: Date.now(),
      dropped: 0,
    };
    socket.on('disconnect', () => {
      metrics.sockets.dec();
      endEnroll(socket);
      endLogin(socket);
    });

    socket.onAny((event: string) => {
      if (!KNOWN_EVENTS.has(event)) {
        socket.emit('flow:error', { event: String(event).slice(0, 64), error: { code: ErrorCode.NOT_FOUND, message: 'unknown event' } });
      }
    });

    handle(socket, 'enroll:start', async (payload) => {
      if (!Value.Check(EnrollStartRequest, payload)) throw invalid('enroll:start expects { ticket?: string }');
      if (socket.data.enroll) throw new AuthError(ErrorCode.FLOW_ALREADY_RUNNING, 'an enrollment is already running on this connection; cancel it first');
      const userId = payload.ticket ? await deps.sessions.verifyEnrollTicketOrThrow(payload.ticket) : await signedInUser(socket, deps);
      const flow = await deps.enrollment.start(userId);
      const state: EnrollState = { flow, guard: new FrameGuard(), timer: setTimeout(() => void expireEnroll(socket, state), msUntil(flow.expiresAt)) };
      socket.data.enroll = state;
      return {
        enrollmentId: flow.id,
        capturesRequired: config.capturesRequired,
        timeLimitMs: config.enrollTimeLimitMs,
        expiresAt: new Date(flow.expiresAt).toISOString(),
      };
    });

    handle(socket, 'enroll:frame', async (payload) => {
      const state = socket.data.enroll;
      // the clock is checked before frame admission: refused frames must not keep a flow alive
      if (state && Date.now() > state.flow.expiresAt && !socket.data.busy) return (await expireEnroll(socket, state, seqOf(payload))) ?? flowEnded('enroll');
      const { seq, image } = admitFrame(socket, payload, state?.guard, 'enroll');
      if (!state) throw new AuthError(ErrorCode.FLOW_NOT_STARTED, 'send enroll:start first');
      socket.data.busy = true;
      try {
        const out = await deps.enrollment.frame(state.flow, seq, image, socket.data.client);
        socket.emit('feedback', { flow: 'enroll', seq, codes: out.result.feedback, box: out.result.box, frameSize: out.result.frameSize });
        if (out.final) {
          endEnroll(socket);
          socket.emit('enroll:result', out.final);
        }
        return out.result;
      } finally {
        socket.data.busy = false;
      }
    });

    handle(socket, 'enroll:cancel', async () => {
      const had = Boolean(socket.data.enroll);
      endEnroll(socket);
      return { cancelled: had };
    });

    handle(socket, 'login:start', async (payload) => {
      if (!Value.Check(LoginStartRequest, payload)) throw invalid('login:start expects { mode: "verify" | "identify", username? }');
      if (socket.data.login?.flow.ended) endLogin(socket);
      if (socket.data.login) throw new AuthError(ErrorCode.FLOW_ALREADY_RUNNING, 'a login is already running on this connection; cancel it first');
      const flow = await deps.login.start(payload, socket.data.client);
      const state: LoginState = { flow, guard: new FrameGuard(), timer: setTimeout(() => void expireLogin(socket, state), msUntil(flow.expiresAt)) };
      socket.data.login = state;
      if (flow.liveness) {
        socket.emit('challenge:step', { loginId: flow.id, index: 0, step: flow.challenge[0] ?? null, completed: 0, total: flow.challenge.length });
      }
      return {
        loginId: flow.id,
        mode: flow.mode,
        liveness: flow.liveness,
        challenge: flow.challenge,
        timeLimitMs: config.challengeTimeLimitMs,
        expiresAt: new Date(flow.expiresAt).toISOString(),
      };
    });

    handle(socket, 'login:frame', async (payload) => {
      const state = socket.data.login;
      if (state && Date.now() > state.flow.expiresAt && !socket.data.busy) return (await expireLogin(socket, state, seqOf(payload))) ?? flowEnded('login');
      const { seq, image } = admitFrame(socket, payload, state?.guard, 'login');
      if (!state) throw new AuthError(ErrorCode.FLOW_NOT_STARTED, 'send login:start first');
      const { flow } = state;
      const before = flow.tracker.step;
      socket.data.busy = true;
      try {
        let out;
        try {
          out = await deps.login.frame(flow, seq, image, socket.data.client);
        } catch (err) {
          if (err instanceof AuthError && !RECOVERABLE.has(err.code) && !flow.ended) {
            // e.g. the account got locked by another replica while this login ran
            out = await deps.login.fail(flow, seq, err, 'locked', socket.data.client);
          } else throw err;
        }
        socket.emit('feedback', { flow: 'login', seq, codes: out.result.feedback, box: out.result.box, frameSize: out.result.frameSize });
        if (flow.tracker.step !== before && !out.final) {
          const i = flow.tracker.step;
          socket.emit('challenge:step', { loginId: flow.id, index: i, step: flow.challenge[i] ?? null, completed: i, total: flow.challenge.length });
        }
        if (out.final) {
          endLogin(socket);
          socket.emit('login:result', out.final);
        }
        return out.result;
      } finally {
        socket.data.busy = false;
      }
    });

    handle(socket, 'login:cancel', async () => {
      const had = Boolean(socket.data.login);
      endLogin(socket);
      return { cancelled: had };
    });
  });

  function endEnroll(socket: AppSocket): void {
    if (socket.data.enroll) clearTimeout(socket.data.enroll.timer);
    socket.data.enroll = undefined;
  }

  function endLogin(socket: AppSocket): void {
    if (socket.data.login) clearTimeout(socket.data.login.timer);
    socket.data.login = undefined;
  }

  /**
   * Ends an enrollment whose time is up and tells the client. A frame being analysed finishes
   * first (it may complete the flow); the timer then looks again shortly after.
   */
  async function expireEnroll(socket: AppSocket, state: EnrollState, seq = 0) {
    if (socket.data.enroll !== state || !socket.connected) return undefined;
    if (socket.data.busy) {
      state.timer = setTimeout(() => void expireEnroll(socket, state), 50);
      return undefined;
    }
    endEnroll(socket);
    socket.data.busy = true;
    try {
      const out = await deps.enrollment.expire(state.flow, seq, socket.data.client);
      if (out.final) socket.emit('enroll:result', out.final);
      return out.result;
    } catch (err) {
      log.error({ err }, 'could not end an expired enrollment cleanly');
      socket.emit('enroll:result', { ok: false, enrollmentId: state.flow.id, error: toAckError(err) });
      return undefined;
    } finally {
      socket.data.busy = false;
    }
  }

  async function expireLogin(socket: AppSocket, state: LoginState, seq = 0) {
    if (socket.data.login !== state || state.flow.ended || !socket.connected) return undefined;
    if (socket.data.busy) {
      state.timer = setTimeout(() => void expireLogin(socket, state), 50);
      return undefined;
    }
    endLogin(socket);
    socket.data.busy = true;
    try {
      const out = await deps.login.timeUp(state.flow, seq, socket.data.client);
      if (out.final) socket.emit('login:result', out.final);
      return out.result;
    } catch (err) {
      log.error({ err }, 'could not end an expired login cleanly');
      socket.emit('login:result', { ok: false, loginId: state.flow.id, mode: state.flow.mode, error: toAckError(err) });
      return undefined;
    } finally {
      socket.data.busy = false;
    }
  }

  function handle(socket: AppSocket, event: keyof ClientToServerEvents, fn: (payload: unknown) => Promise<unknown>): void {
    socket.on(event, async (...args: unknown[]) => {
      const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as (r: AckResponse<unknown>) => void) : undefined;
      const reply = (r: AckResponse<unknown>) => {
        if (ack) ack(r);
        else if ('error' in r) socket.emit('flow:error', { event, error: r.error });
      };
      if (!takeToken(socket, config.socketEventsPerSecond)) {
        metrics.frames.inc({ flow: event.split(':')[0] as string, result: ErrorCode.RATE_LIMITED });
        reply({ error: { code: ErrorCode.RATE_LIMITED, message: 'too many events; slow down', retryable: true } });
        if (socket.data.dropped > config.socketEventsPerSecond * 10) {
          log.warn({ ip: socket.data.client.ip }, 'disconnecting a socket that keeps flooding');
          socket.disconnect(true);
        }
        return;
      }
      if (!ack) {
        socket.emit('flow:error', { event, error: { code: ErrorCode.VALIDATION_FAILED, message: `${event} needs an acknowledgement callback` } });
        return;
      }
      try {
        reply({ data: await fn(args[0]) });
      } catch (err) {
        const error: AckError = toAckError(err);
        if (error.code === ErrorCode.DATABASE_UNAVAILABLE && !(err instanceof AuthError)) log.warn({ err: (err as Error).message, event }, 'database unavailable');
        else if (!(err instanceof AuthError)) log.error({ err, event }, 'socket event failed');
        else if (event.endsWith(':frame')) metrics.frames.inc({ flow: event.split(':')[0] as string, result: error.code });
        reply({ error });
      }
    });
  }

  function admitFrame(socket: AppSocket, payload: unknown, guard: FrameGuard | undefined, flow: 'enroll' | 'login') {
    if (typeof payload !== 'object' || payload === null || !Value.Check(FrameMeta, payload)) {
      throw invalid('a frame is { seq: non-negative integer, image: JPEG bytes }');
    }
    const image = asBytes((payload as { image?: unknown }).image);
    if (!image || image.byteLength === 0) throw invalid('frame.image must be binary JPEG bytes');
    if (image.byteLength > config.maxFrameBytes) {
      throw new AuthError(ErrorCode.PAYLOAD_TOO_LARGE, `frame larger than ${config.maxFrameBytes} bytes`, { maxFrameBytes: config.maxFrameBytes });
    }
    if (!looksLikeJpeg(image)) throw new AuthError(ErrorCode.IMAGE_UNSUPPORTED_TYPE, 'frames must be JPEG images');
    if (!guard) throw new AuthError(ErrorCode.FLOW_NOT_STARTED, `send ${flow}:start first`);
    if (socket.data.busy) {
      throw new AuthError(ErrorCode.RATE_LIMITED, 'wait for the acknowledgement of the previous frame', { feedback: FeedbackCode.SLOW_DOWN });
    }
    const now = Date.now();
    if (now - socket.data.lastFrameAt < config.minFrameIntervalMs) {
      throw new AuthError(ErrorCode.RATE_LIMITED, 'frames arrive too fast', { feedback: FeedbackCode.SLOW_DOWN, minFrameIntervalMs: config.minFrameIntervalMs });
    }
    const seq = (payload as { seq: number }).seq;
    const hash = guard.admit(seq, image);
    guard.commit(seq, hash);
    socket.data.lastFrameAt = now;
    metrics.frames.inc({ flow, result: 'accepted' });
    return { seq, image };
  }

  return io;
}

function msUntil(at: number): number {
  // a little after the deadline, so that the `Date.now() > expiresAt` checks agree
  return Math.max(0, at - Date.now()) + 5;
}

function seqOf(payload: unknown): number {
  const seq = (payload as { seq?: unknown } | null)?.seq;
  return typeof seq === 'number' && Number.isInteger(seq) && seq >= 0 ? seq : 0;
}

function flowEnded(flow: 'enroll' | 'login'): never {
  throw new AuthError(ErrorCode.FLOW_NOT_STARTED, `this ${flow === 'enroll' ? 'enrollment' : 'login'} has ended; start a new one`);
}

function invalid(message: string): AuthError {
  return new AuthError(ErrorCode.VALIDATION_FAILED, message);
}

function takeToken(socket: AppSocket, perSecond: number): boolean {
  const s = socket.data;
  const now = Date.now();
  s.tokens = Math.min(perSecond * 2, s.tokens + ((now - s.refilledAt) / 1000) * perSecond);
  s.refilledAt = now;
  if (s.tokens >= 1) {
    s.tokens -= 1;
    s.dropped = Math.max(0, s.dropped - 1);
    return true;
  }
  s.dropped++;
  return false;
}

function clientOf(socket: AppSocket, config: AuthConfig): ClientInfo {
  // the same TRUST_PROXY rules as HTTP (lib/client-address.ts)
  const ip = clientAddress(socket.handshake.address, socket.handshake.headers['x-forwarded-for'], trustFunction(config.trustProxy));
  const ua = socket.handshake.headers['user-agent'];
  return { ip, userAgent: typeof ua === 'string' ? ua.slice(0, 300) : null };
}

/** The account signed in on this connection (access-token cookie or `auth.token`). */
async function signedInUser(socket: AppSocket, deps: RealtimeDeps): Promise<string> {
  const fromAuth = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
  const token = typeof fromAuth === 'string' ? fromAuth : readCookie(socket.handshake.headers.cookie, AUTH_COOKIES.access);
  if (!token) throw new AuthError(ErrorCode.UNAUTHENTICATED, 'enrollment needs a ticket or a signed-in session');
  const { user } = await deps.sessions.authenticate(token);
  return user.id;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * Socket.IO side of auth: enrollment and login flows as frame streams. Every event is
 * validated against the contracts; anything malformed, oversized, out of order, replayed or
 * too frequent gets an error acknowledgement with a stable code and changes nothing.
 * Flow state lives in the connection (flow-slot.ts); if this replica dies, the client starts
 * the flow again, and the attempt it had begun stays counted.
 */
import type { Server as HttpServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import { Value } from '@sinclair/typebox/value';
import {
  AUTH_COOKIES,
  EnrollStartRequest,
  ErrorCode,
  FrameMeta,
  LoginStartRequest,
  SOCKET_PATH,
  type AckError,
  type ChallengeStep,
  type ClientToServerEvents,
  type InterServerEvents,
  type ServerToClientEvents,
} from '@faceline/contracts';
import type { Logger } from 'pino';
import type { AuthConfig } from '../config.js';
import { AuthError, toAckError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { DeviceService } from '../services/device.service.js';
import type { EnrollTicketService } from '../services/enroll-ticket.service.js';
import type { EnrollmentFlow, EnrollmentService } from '../services/enrollment.service.js';
import type { LoginFlow, LoginService } from '../services/login.service.js';
import type { ClientInfo, SessionService } from '../services/session.service.js';
import { clientAddress, trustFunction } from '../lib/client-address.js';
import { originAllowed, originPolicy, requestHost } from '../lib/origin.js';
import { on, type ClientEvent, type HandlerHooks } from './events.js';
import { FlowSlot } from './flow-slot.js';

export interface RealtimeDeps {
  config: AuthConfig;
  log: Logger;
  metrics: Metrics;
  sessions: SessionService;
  tickets: EnrollTicketService;
  devices: DeviceService;
  enrollment: EnrollmentService;
  login: LoginService;
}

interface ConnectionState {
  client: ClientInfo;
  enroll: FlowSlot<EnrollmentFlow>;
  login: FlowSlot<LoginFlow>;
  tokens: number;
  refilledAt: number;
  dropped: number;
}

type AppSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, ConnectionState>;
export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, ConnectionState>;

const KNOWN_EVENTS = new Set<string>([
  'enroll:start',
  'enroll:frame',
  'enroll:cancel',
  'login:start',
  'login:frame',
  'login:cancel',
] satisfies ClientEvent[]);

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
  const limits = { maxFrameBytes: config.maxFrameBytes, minFrameIntervalMs: config.minFrameIntervalMs };
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

  // the trusted-device cookie is checked once per connection, before any event is handled
  io.use((socket, next) => {
    const base = clientOf(socket as AppSocket, config);
    deps.devices
      .verify(readCookie(socket.handshake.headers.cookie, AUTH_COOKIES.device))
      .then((deviceId) => {
        socket.data = {
          client: { ...base, deviceId },
          enroll: new FlowSlot<EnrollmentFlow>('enroll', limits),
          login: new FlowSlot<LoginFlow>('login', limits),
          tokens: config.socketEventsPerSecond * 2,
          refilledAt: Date.now(),
          dropped: 0,
        };
        next();
      })
      .catch((err: unknown) => {
        log.warn({ err: (err as Error).message }, 'could not check the device credential of a connection');
        next(new Error('service unavailable'));
      });
  });

  io.on('connection', (socket: AppSocket) => {
    metrics.sockets.inc();
    const hooks = handlerHooks(socket);
    socket.on('disconnect', () => {
      metrics.sockets.dec();
      const e = socket.data.enroll.end();
      if (e)
        void deps.enrollment
          .abandon(e)
          .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not end an abandoned enrollment'));
      const l = socket.data.login.end();
      if (l)
        void deps.login
          .abandon(l, 'abandoned', socket.data.client)
          .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not end an abandoned login'));
    });

    socket.onAny((event: string) => {
      if (!KNOWN_EVENTS.has(event)) {
        socket.emit('flow:error', { event: String(event).slice(0, 64), error: { code: ErrorCode.NOT_FOUND, message: 'unknown event' } });
      }
    });

    // ------------------------------------------------------------ enrollment

    on(socket, 'enroll:start', hooks, async (payload) => {
      if (!Value.Check(EnrollStartRequest, payload)) throw invalid('enroll:start expects { ticket?: string }');
      if (socket.data.enroll.flow)
        throw new AuthError(ErrorCode.FLOW_ALREADY_RUNNING, 'an enrollment is already running on this connection; cancel it first');
      let userId: string;
      let jti: string | null = null;
      if (payload.ticket) ({ userId, jti } = await deps.tickets.verify(payload.ticket));
      else userId = await freshSignedInUser(socket, deps);
      const flow = await deps.enrollment.start(userId, jti);
      socket.data.enroll.begin(flow, (f) => void expireEnroll(socket, f));
      return {
        enrollmentId: flow.id,
        capturesRequired: config.capturesRequired,
        steps: flow.liveness?.steps.length ?? 0,
        timeLimitMs: config.enrollTimeLimitMs,
        expiresAt: new Date(flow.expiresAt).toISOString(),
      };
    });

    on(socket, 'enroll:frame', hooks, async (payload) => {
      const slot = socket.data.enroll;
      const current = slot.flow;
      // the clock is checked before frame admission: refused frames must not keep a flow alive
      if (current && Date.now() > current.expiresAt && !slot.busy)
        return (await expireEnroll(socket, current, seqOf(payload))) ?? flowEnded('enroll');
      const { seq, image, flow } = slot.admit(payload, (p) => Value.Check(FrameMeta, p));
      metrics.frames.inc({ flow: 'enroll', result: 'accepted' });
      slot.busy = true;
      try {
        const out = await deps.enrollment.frame(flow, seq, image, socket.data.client);
        socket.emit('feedback', { flow: 'enroll', seq, codes: out.result.feedback, box: out.result.box, frameSize: out.result.frameSize });
        if (out.revealed) emitStep(socket, flow.id, out.revealed, flow.liveness?.steps.length ?? 0);
        if (out.final) {
          slot.end(flow);
          socket.emit('enroll:result', out.final);
        }
        return out.result;
      } finally {
        slot.busy = false;
      }
    });

    on(socket, 'enroll:cancel', hooks, async () => {
      const flow = socket.data.enroll.end();
      if (flow) await deps.enrollment.abandon(flow);
      return { cancelled: Boolean(flow) };
    });

    // ------------------------------------------------------------ login

    on(socket, 'login:start', hooks, async (payload) => {
      if (!Value.Check(LoginStartRequest, payload)) throw invalid('login:start expects { mode: "verify" | "identify", username? }');
      const slot = socket.data.login;
      if (slot.flow?.ended) slot.end();
      if (slot.flow) throw new AuthError(ErrorCode.FLOW_ALREADY_RUNNING, 'a login is already running on this connection; cancel it first');
      const flow = await deps.login.start(payload, socket.data.client);
      slot.begin(flow, (f) => void expireLogin(socket, f));
      if (flow.liveness) emitStep(socket, flow.id, null, flow.liveness.steps.length, 0);
      return {
        loginId: flow.id,
        mode: flow.mode,
        liveness: flow.liveness !== null,
        steps: flow.liveness?.steps.length ?? 0,
        timeLimitMs: config.challengeTimeLimitMs,
        expiresAt: new Date(flow.expiresAt).toISOString(),
      };
    });

    on(socket, 'login:frame', hooks, async (payload) => {
      const slot = socket.data.login;
      const current = slot.flow;
      if (current && Date.now() > current.expiresAt && !slot.busy)
        return (await expireLogin(socket, current, seqOf(payload))) ?? flowEnded('login');
      const { seq, image, flow } = slot.admit(payload, (p) => Value.Check(FrameMeta, p));
      metrics.frames.inc({ flow: 'login', result: 'accepted' });
      const before = flow.liveness?.completed ?? 0;
      slot.busy = true;
      try {
        let out: Awaited<ReturnType<LoginService['frame']>>;
        try {
          out = await deps.login.frame(flow, seq, image, socket.data.client);
        } catch (err) {
          if (err instanceof AuthError && !RECOVERABLE.has(err.code) && !flow.ended) {
            out = await deps.login.fail(flow, seq, err, 'locked', socket.data.client);
          } else throw err;
        }
        socket.emit('feedback', { flow: 'login', seq, codes: out.result.feedback, box: out.result.box, frameSize: out.result.frameSize });
        const total = flow.liveness?.steps.length ?? 0;
        if (out.revealed) emitStep(socket, flow.id, out.revealed, total);
        else if (!out.final && flow.liveness && flow.liveness.completed !== before)
          emitStep(socket, flow.id, null, total, flow.liveness.completed);
        if (out.final) {
          slot.end(flow);
          socket.emit('login:result', out.final);
        }
        return out.result;
      } finally {
        slot.busy = false;
      }
    });

    on(socket, 'login:cancel', hooks, async () => {
      const flow = socket.data.login.end();
      if (flow) await deps.login.abandon(flow, 'cancelled', socket.data.client);
      return { cancelled: Boolean(flow) };
    });
  });

  /** Rate limit per connection and one place that turns errors into acknowledgements. */
  function handlerHooks(socket: AppSocket): HandlerHooks {
    return {
      admit(event, reply) {
        if (takeToken(socket, config.socketEventsPerSecond)) return true;
        metrics.frames.inc({ flow: event.split(':')[0] as string, result: ErrorCode.RATE_LIMITED });
        reply({ error: { code: ErrorCode.RATE_LIMITED, message: 'too many events; slow down', retryable: true } });
        if (socket.data.dropped > config.socketEventsPerSecond * 10) {
          log.warn({ ip: socket.data.client.ip }, 'disconnecting a socket that keeps flooding');
          socket.disconnect(true);
        }
        return false;
      },
      failed(event, err): AckError {
        const error = toAckError(err);
        if (error.code === ErrorCode.DATABASE_UNAVAILABLE && !(err instanceof AuthError))
          log.warn({ err: (err as Error).message, event }, 'database unavailable');
        else if (!(err instanceof AuthError)) log.error({ err, event }, 'socket event failed');
        else if (event.endsWith(':frame')) metrics.frames.inc({ flow: event.split(':')[0] as string, result: error.code });
        return error;
      },
    };
  }

  /**
   * Ends an enrollment whose time is up and tells the client. A frame being analysed finishes
   * first (it may complete the flow); the timer then looks again shortly after.
   */
  async function expireEnroll(socket: AppSocket, flow: EnrollmentFlow, seq = 0) {
    const slot = socket.data.enroll;
    if (slot.flow !== flow || !socket.connected) return undefined;
    if (slot.busy) return void slot.retryExpiry(flow, (f) => void expireEnroll(socket, f));
    slot.end(flow);
    slot.busy = true;
    try {
      const out = await deps.enrollment.expire(flow, seq, socket.data.client);
      if (out.final) socket.emit('enroll:result', out.final);
      return out.result;
    } catch (err) {
      log.error({ err }, 'could not end an expired enrollment cleanly');
      socket.emit('enroll:result', { ok: false, enrollmentId: flow.id, error: toAckError(err) });
      return undefined;
    } finally {
      slot.busy = false;
    }
  }

  async function expireLogin(socket: AppSocket, flow: LoginFlow, seq = 0) {
    const slot = socket.data.login;
    if (slot.flow !== flow || flow.ended || !socket.connected) return undefined;
    if (slot.busy) return void slot.retryExpiry(flow, (f) => void expireLogin(socket, f));
    slot.end(flow);
    slot.busy = true;
    try {
      const out = await deps.login.timeUp(flow, seq, socket.data.client);
      if (out.final) socket.emit('login:result', out.final);
      return out.result;
    } catch (err) {
      log.error({ err }, 'could not end an expired login cleanly');
      socket.emit('login:result', { ok: false, loginId: flow.id, mode: flow.mode, error: toAckError(err) });
      return undefined;
    } finally {
      slot.busy = false;
    }
  }

  return io;
}

function emitStep(
  socket: AppSocket,
  flowId: string,
  revealed: { index: number; step: ChallengeStep } | null,
  total: number,
  completed?: number,
): void {
  socket.emit('challenge:step', {
    loginId: flowId,
    index: revealed ? revealed.index : (completed ?? 0),
    step: revealed ? revealed.step : null,
    completed: revealed ? revealed.index : (completed ?? 0),
    total,
  });
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

function clientOf(socket: AppSocket, config: AuthConfig): Omit<ClientInfo, 'deviceId'> {
  // the same TRUST_PROXY rules as HTTP (lib/client-address.ts)
  const ip = clientAddress(socket.handshake.address, socket.handshake.headers['x-forwarded-for'], trustFunction(config.trustProxy));
  const ua = socket.handshake.headers['user-agent'];
  return { ip, userAgent: typeof ua === 'string' ? ua.slice(0, 300) : null };
}

/**
 * The account signed in on this connection (access-token cookie or `auth.token`), when its
 * face login is fresh: a new face needs the person, not just a session that may be stolen.
 */
async function freshSignedInUser(socket: AppSocket, deps: RealtimeDeps): Promise<string> {
  const fromAuth = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
  const token = typeof fromAuth === 'string' ? fromAuth : readCookie(socket.handshake.headers.cookie, AUTH_COOKIES.access);
  if (!token) throw new AuthError(ErrorCode.UNAUTHENTICATED, 'enrollment needs a ticket or a signed-in session');
  const { user, session } = await deps.sessions.authenticate(token);
  deps.sessions.assertFresh(session);
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

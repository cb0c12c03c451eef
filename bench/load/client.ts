/**
 * What a browser does, as a Node client through the balancer: HTTP calls with the affinity
 * cookie, and the Socket.IO enrollment and face-login flows (socket.io-client with its cookie
 * jar, so HAProxy's sticky cookie keeps the long-polling requests and the websocket upgrade of
 * one connection on one auth replica). Every wait is bounded.
 */
import { io, type Socket } from 'socket.io-client';
import {
  AUTH_COOKIES,
  AUTH_ROUTES,
  SOCKET_PATH,
  isAckError,
  type AckResponse,
  type ClientToServerEvents,
  type EnrollFrameResult,
  type EnrollResult,
  type EnrollStarted,
  type LoginFrameResult,
  type LoginResult,
  type LoginStarted,
  type RegisterResponse,
  type ServerToClientEvents,
  type SessionResponse,
} from '@faceline/contracts';
import { AFFINITY_COOKIE } from './haproxy.js';

type AppSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface HttpResult<T = unknown> {
  status: number;
  ok: boolean;
  body: T | undefined;
  headers: Headers | undefined;
  /** the error code: from the body, or NETWORK / TIMEOUT / HTTP_<status> */
  code: string | undefined;
  retryable: boolean;
  ms: number;
}

export async function http<T = unknown>(
  base: string,
  method: string,
  path: string,
  opts: { json?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<HttpResult<T>> {
  const started = performance.now();
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { accept: 'application/json', ...(opts.json !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
      body: opts.json !== undefined ? JSON.stringify(opts.json) : undefined,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    const err = (body as { error?: { code?: string; retryable?: boolean } } | undefined)?.error;
    return {
      status: res.status,
      ok: res.ok,
      body: body as T,
      headers: res.headers,
      code: res.ok ? undefined : (err?.code ?? `HTTP_${res.status}`),
      retryable: !res.ok && (err?.retryable === true || res.status === 503),
      ms: performance.now() - started,
    };
  } catch (e) {
    const timeout = (e as Error).name === 'TimeoutError';
    return {
      status: 0,
      ok: false,
      body: undefined,
      headers: undefined,
      code: timeout ? 'TIMEOUT' : 'NETWORK',
      retryable: true,
      ms: performance.now() - started,
    };
  }
}

// ---------------------------------------------------------------- sockets

export class FlowError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable = false,
  ) {
    super(message);
  }
}

export interface Connection {
  socket: AppSocket;
  /** the auth replica HAProxy pinned this connection to */
  replica: string;
  /** rejects when the connection drops: races every wait below */
  dropped: Promise<never>;
  close(): void;
}

export async function connect(base: string, timeoutMs = 8000): Promise<Connection> {
  const socket: AppSocket = io(base, {
    path: SOCKET_PATH,
    forceNew: true,
    reconnection: false,
    withCredentials: true, // cookie jar: the affinity cookie travels with every polling request and the upgrade
    timeout: timeoutMs,
    transports: ['polling', 'websocket'],
  });
  let onDrop: (e: FlowError) => void = () => undefined;
  const dropped = new Promise<never>((_, reject) => (onDrop = reject));
  dropped.catch(() => undefined);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new FlowError('CONNECT_TIMEOUT', 'socket did not connect in time', true)), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('connect_error', (err) => {
      clearTimeout(timer);
      reject(new FlowError('CONNECT_FAILED', err.message, true));
    });
  }).catch((e) => {
    socket.close();
    throw e;
  });
  socket.on('disconnect', (reason) => onDrop(new FlowError('DISCONNECTED', `connection lost: ${reason}`, true)));
  // engine.io keeps its cookie jar private; reading it is the only way to see the pin
  const jar = (socket.io.engine as unknown as { _cookieJar?: { _cookies: Map<string, { value: string }> } })._cookieJar;
  const replica = jar?._cookies.get(AFFINITY_COOKIE)?.value ?? 'unknown';
  return { socket, replica, dropped, close: () => socket.close() };
}

async function call<T>(conn: Connection, event: keyof ClientToServerEvents, payload: unknown, timeoutMs: number): Promise<T> {
  const send = (conn.socket.timeout(timeoutMs) as unknown as { emitWithAck(ev: string, ...args: unknown[]): Promise<AckResponse<T>> })
    .emitWithAck(event, ...(payload === undefined ? [] : [payload]))
    .catch((e: Error) => {
      throw new FlowError('ACK_TIMEOUT', `${event}: ${e.message}`, true);
    });
  const r = await Promise.race([send, conn.dropped]);
  if (isAckError(r)) throw new FlowError(r.error.code, r.error.message, r.error.retryable === true);
  return r.data;
}

/**
 * A control for the sticky sessions: long-polling connections that do NOT keep the affinity
 * cookie. Their requests are spread over the replicas, and a replica that did not do the
 * handshake does not know the session. Returns how many of `n` such connections failed to
 * complete a round trip (connect + one acknowledged event).
 */
export async function connectionsWithoutAffinity(base: string, n: number): Promise<{ failed: number; tried: number }> {
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const socket: AppSocket = io(base, {
      path: SOCKET_PATH,
      forceNew: true,
      reconnection: false,
      withCredentials: false,
      transports: ['polling'],
      upgrade: false,
      timeout: 4000,
    });
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      socket.once('connect_error', () => (clearTimeout(timer), resolve(false)));
      socket.once('disconnect', () => (clearTimeout(timer), resolve(false)));
      socket.once('connect', () => {
        // an event that needs no account: a cancel with nothing running is acknowledged
        (socket.timeout(4000) as unknown as { emitWithAck(ev: string): Promise<unknown> }).emitWithAck('login:cancel').then(
          () => (clearTimeout(timer), resolve(true)),
          () => (clearTimeout(timer), resolve(false)),
        );
      });
    });
    socket.close();
    if (!ok) failed++;
  }
  return { failed, tried: n };
}

// ---------------------------------------------------------------- enrollment

/** `setupToken`: the operator's one-time token that makes this account the first administrator. */
export async function register(base: string, username: string, displayName: string, setupToken?: string): Promise<RegisterResponse> {
  const r = await http<RegisterResponse>(base, 'POST', AUTH_ROUTES.register, {
    json: { username, displayName, ...(setupToken ? { setupToken } : {}) },
  });
  if (!r.ok || !r.body) throw new FlowError(r.code ?? 'REGISTER_FAILED', `register ${username}: ${r.status}`, r.retryable);
  return r.body;
}

export interface EnrollOutcome {
  ok: boolean;
  code?: string;
  templateCount?: number;
  frames: number;
}

/** One enrollment over a fresh connection, frames sent until the server decides (bounded by the frame list). */
export async function enroll(base: string, ticket: string, frames: Buffer[], timeoutMs = 20_000): Promise<EnrollOutcome> {
  const conn = await connect(base);
  try {
    let result: EnrollResult | undefined;
    conn.socket.on('enroll:result', (r) => (result = r));
    await call<EnrollStarted>(conn, 'enroll:start', { ticket }, timeoutMs);
    let sent = 0;
    for (const [i, image] of frames.entries()) {
      sent++;
      try {
        const ack = await call<EnrollFrameResult>(conn, 'enroll:frame', { seq: i, image }, timeoutMs);
        if (ack.completed || result) break;
      } catch (e) {
        if (!(e instanceof FlowError) || !e.retryable || e.code === 'DISCONNECTED') throw e;
      }
      if (result) break;
    }
    // the result event precedes the acknowledgement of the frame that ended the flow
    if (result?.ok) return { ok: true, templateCount: result.templateCount, frames: sent };
    if (result && !result.ok) return { ok: false, code: result.error.code, frames: sent };
    return { ok: false, code: 'ENROLL_INCOMPLETE', frames: sent };
  } finally {
    conn.close();
  }
}

// ---------------------------------------------------------------- login

/** Frame refusals after which auth keeps the login going (its RECOVERABLE set, plus pacing). */
const FRAME_RECOVERABLE = new Set(['RECOGNITION_UNAVAILABLE', 'RATE_LIMITED', 'IMAGE_CORRUPT', 'IMAGE_EMPTY', 'IMAGE_TOO_SMALL']);

export interface LoginAttempt {
  ok: boolean;
  code?: string;
  retryable?: boolean;
  /** connect → session, ms */
  ms: number;
  frames: number;
  /** flows started again after the connection dropped */
  restarts: number;
  /** auth replica of the (last) connection */
  replica: string;
  session?: SessionResponse & { refreshToken?: string; replica: string };
  /** frame-level errors seen along the way (retried) */
  frameErrors: string[];
  /** ms spent in each step of the last try: connect, login:start, frames, session exchange */
  stages: { connect: number; start: number; frames: number; session: number };
}

/**
 * One full face login as a user at a terminal does it: connect, login:start (verify mode, or the
 * kiosk's identify mode with `mode: 'identify'`, where `username` is not sent), frames
 * until the result, then the grant becomes a session over HTTP on the same replica. A dropped
 * connection (auth replica gone) restarts the flow on a new connection, at most `maxRestarts` times.
 */
export async function faceLogin(
  base: string,
  username: string,
  frames: Buffer[],
  opts: { timeoutMs?: number; maxRestarts?: number; exchange?: boolean; maxMs?: number; mode?: 'verify' | 'identify' } = {},
): Promise<LoginAttempt> {
  const started = performance.now();
  // one login never takes longer than this, however many frames and restarts it goes through
  const deadline = started + (opts.maxMs ?? 30_000);
  const left = () => Math.max(1, Math.min(opts.timeoutMs ?? 15_000, deadline - performance.now()));
  const frameErrors: string[] = [];
  let restarts = 0;
  let waits = 0;
  let totalFrames = 0;
  let replica = 'unknown';
  const stages = { connect: 0, start: 0, frames: 0, session: 0 };
  const fail = (code: string, retryable = false): LoginAttempt => ({
    ok: false,
    code,
    retryable,
    ms: performance.now() - started,
    frames: totalFrames,
    restarts,
    replica,
    frameErrors,
    stages,
  });
  for (;;) {
    let conn: Connection | undefined;
    try {
      let t = performance.now();
      conn = await connect(base);
      stages.connect = performance.now() - t;
      replica = conn.replica;
      let result: LoginResult | undefined;
      conn.socket.on('login:result', (r) => (result = r));
      t = performance.now();
      await call<LoginStarted>(conn, 'login:start', opts.mode === 'identify' ? { mode: 'identify' } : { mode: 'verify', username }, left());
      stages.start = performance.now() - t;
      t = performance.now();
      for (const [i, image] of frames.entries()) {
        if (performance.now() >= deadline) break;
        totalFrames++;
        try {
          const ack = await call<LoginFrameResult>(conn, 'login:frame', { seq: i, image, capturedAt: Date.now() }, left());
          if (ack.status !== 'continue' || result) break;
        } catch (e) {
          if (!(e instanceof FlowError) || e.code === 'DISCONNECTED' || e.code === 'ACK_TIMEOUT') throw e;
          frameErrors.push(e.code);
          // auth keeps the flow for these (vision busy or gone, a frame too early): the next frame may succeed;
          // any other refusal ends the attempt, retryable or not, and a person would press "try again"
          if (!FRAME_RECOVERABLE.has(e.code)) return fail(e.code, e.retryable);
        }
        if (result) break;
      }
      stages.frames = performance.now() - t;
      if (!result) return fail(frameErrors.at(-1) ?? 'LOGIN_INCOMPLETE', true);
      if (!result.ok) return fail(result.error.code, result.error.retryable === true);
      if (opts.exchange === false)
        return { ok: true, ms: performance.now() - started, frames: totalFrames, restarts, replica, frameErrors, stages };
      t = performance.now();
      const s = await http<SessionResponse>(base, 'POST', AUTH_ROUTES.sessions, {
        json: { grant: result.grant },
        headers: { cookie: `${AFFINITY_COOKIE}=${replica}` },
        timeoutMs: left(),
      });
      stages.session = performance.now() - t;
      if (!s.ok || !s.body) return fail(s.code ?? 'SESSION_FAILED', s.retryable);
      const refreshToken = s.headers
        ?.getSetCookie()
        .map((c) => new RegExp(`^${AUTH_COOKIES.refresh}=([^;]+)`).exec(c)?.[1])
        .find(Boolean);
      return {
        ok: true,
        ms: performance.now() - started,
        frames: totalFrames,
        restarts,
        replica,
        frameErrors,
        stages,
        session: { ...s.body, refreshToken: refreshToken ? decodeURIComponent(refreshToken) : undefined, replica },
      };
    } catch (e) {
      const fe = e instanceof FlowError ? e : new FlowError('CLIENT_ERROR', (e as Error).message);
      const connectionLost = ['DISCONNECTED', 'CONNECT_FAILED', 'CONNECT_TIMEOUT', 'ACK_TIMEOUT'].includes(fe.code);
      if (connectionLost && restarts < (opts.maxRestarts ?? 3) && performance.now() < deadline - 1000) {
        restarts++;
        frameErrors.push(fe.code);
        await new Promise((r) => setTimeout(r, 200 * restarts));
        continue;
      }
      // after a lost connection the dead replica's flow still holds the account's live-login slot
      // until its lease lapses (a few seconds): wait for it, as a person pressing "try again" would
      if (fe.code === 'FLOW_ALREADY_RUNNING' && restarts > 0 && waits < 8 && performance.now() < deadline - 2000) {
        waits++;
        frameErrors.push(fe.code);
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      return fail(fe.code, fe.retryable);
    } finally {
      conn?.close();
    }
  }
}

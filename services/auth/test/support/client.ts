/** Socket.IO and HTTP clients that behave like the browser, and frames made from real photos. */
import { readFileSync } from 'node:fs';
import { io, type Socket } from 'socket.io-client';
import {
  SOCKET_PATH,
  type AckResponse,
  type ClientToServerEvents,
  type EnrollResult,
  type FeedbackEvent,
  type LoginResult,
  type ServerToClientEvents,
} from '@faceline/contracts';
import { loadCatalog } from '@faceline/testkit';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const catalog = loadCatalog();
export function photo(relPath: string): Buffer {
  const e = catalog.find((c) => c.path === relPath);
  if (!e) throw new Error(`${relPath} is not in CATALOG.tsv`);
  return readFileSync(e.file);
}

/**
 * The same picture with different bytes: a JPEG comment segment (COM) after SOI. Decodes to the
 * identical image; this is what a replay through a re-encoding virtual camera looks like.
 */
export function variant(jpeg: Buffer, n: number): Buffer {
  const text = Buffer.from(`faceline test variant ${n}`);
  const seg = Buffer.alloc(4);
  seg[0] = 0xff;
  seg[1] = 0xfe;
  seg.writeUInt16BE(text.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), seg, text, jpeg.subarray(2)]);
}

/** Frames of an .mjpeg webcam feed (concatenated JPEGs). */
export function mjpegFrames(file: string): Buffer[] {
  const buf = readFileSync(file);
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    const s = buf.indexOf(Buffer.from([0xff, 0xd8, 0xff]), i);
    if (s < 0) break;
    const e = buf.indexOf(Buffer.from([0xff, 0xd9]), s);
    if (e < 0) break;
    out.push(buf.subarray(s, e + 2));
    i = e + 2;
  }
  return out;
}

export async function connect(
  url: string,
  opts: { cookie?: string; headers?: Record<string, string>; transports?: ('websocket' | 'polling')[] } = {},
): Promise<ClientSocket> {
  const socket: ClientSocket = io(url, {
    path: SOCKET_PATH,
    transports: opts.transports ?? ['websocket'],
    forceNew: true,
    reconnection: false,
    extraHeaders: { ...(opts.cookie ? { cookie: opts.cookie } : {}), ...opts.headers },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

/** Emits with an acknowledgement and resolves with it (times out instead of hanging). */
export function ask<T>(socket: ClientSocket, event: string, ...args: unknown[]): Promise<AckResponse<T>> {
  return (socket.timeout(60_000) as unknown as { emitWithAck: (e: string, ...a: unknown[]) => Promise<AckResponse<T>> }).emitWithAck(
    event,
    ...args,
  );
}

export function data<T>(r: AckResponse<T>): T {
  if ('error' in r) throw new Error(`expected data, got ${r.error.code}: ${r.error.message}`);
  return r.data;
}

export function errorCode(r: AckResponse<unknown>): string | undefined {
  return 'error' in r ? r.error.code : undefined;
}

export function nextEvent<E extends 'enroll:result' | 'login:result'>(
  socket: ClientSocket,
  event: E,
): Promise<E extends 'enroll:result' ? EnrollResult : LoginResult> {
  return new Promise((resolve) => socket.once(event, resolve as never));
}

/** Streams frames until the flow ends (result event) or frames run out; returns the result or undefined. */
export async function streamLogin(
  socket: ClientSocket,
  frames: Buffer[],
  startSeq = 1,
): Promise<{ result: LoginResult | undefined; acks: AckResponse<unknown>[] }> {
  let result: LoginResult | undefined;
  const onResult = (r: LoginResult) => (result = r);
  socket.on('login:result', onResult);
  const acks: AckResponse<unknown>[] = [];
  for (let i = 0; i < frames.length && !result; i++) {
    acks.push(await ask(socket, 'login:frame', { seq: startSeq + i, image: frames[i] }));
  }
  // the result event is emitted before the acknowledgement
  await new Promise((r) => setImmediate(r));
  socket.off('login:result', onResult);
  return { result, acks };
}

export async function enroll(
  url: string,
  ticket: string,
  frames: Buffer[],
): Promise<{ result: EnrollResult | undefined; acks: AckResponse<unknown>[]; feedback: FeedbackEvent[] }> {
  const socket = await connect(url);
  try {
    data(await ask(socket, 'enroll:start', { ticket }));
    let result: EnrollResult | undefined;
    const feedback: FeedbackEvent[] = [];
    socket.on('enroll:result', (r) => (result = r));
    socket.on('feedback', (f) => feedback.push(f));
    const acks: AckResponse<unknown>[] = [];
    for (let i = 0; i < frames.length && !result; i++) acks.push(await ask(socket, 'enroll:frame', { seq: i, image: frames[i] }));
    await new Promise((r) => setImmediate(r));
    return { result, acks, feedback };
  } finally {
    socket.disconnect();
  }
}

/** login:start + frames on a fresh connection. */
export async function login(url: string, start: { mode: 'verify' | 'identify'; username?: string }, frames: Buffer[]) {
  const socket = await connect(url);
  try {
    const started = await ask(socket, 'login:start', start);
    if ('error' in started) return { started, result: undefined, acks: [] };
    const { result, acks } = await streamLogin(socket, frames);
    return { started, result, acks };
  } finally {
    socket.disconnect();
  }
}

export async function http(
  url: string,
  method: string,
  pathName: string,
  opts: { body?: unknown; cookie?: string; bearer?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
  const res = await fetch(`${url}${pathName}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  const setCookies = res.headers.getSetCookie();
  return { status: res.status, json, text, setCookies };
}

/** "name=value; name2=value2" from Set-Cookie headers (what a browser would send back). */
export function cookieHeader(setCookies: string[], jar: Map<string, string> = new Map()): string {
  for (const c of setCookies) {
    const [pair] = c.split(';');
    const i = pair!.indexOf('=');
    const name = pair!.slice(0, i);
    const value = pair!.slice(i + 1);
    if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) jar.delete(name);
    else jar.set(name, value);
  }
  return [...jar.entries()].map(([k, v]) => `${k}=${v}`).join('; ');
}

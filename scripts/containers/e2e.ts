/**
 * Drives Faceline through its public entry point (the web container) the way the browser does:
 * HTTP registration, enrollment and face login over Socket.IO with real camera frames from the
 * shared face set, then the login grant exchanged for a session and GET /api/v1/me.
 *
 *   node --conditions=source --import tsx scripts/containers/e2e.ts enroll --url URL --state FILE
 *   node --conditions=source --import tsx scripts/containers/e2e.ts login  --url URL --state FILE
 *
 * `enroll` registers a new user, enrolls frames of one person, logs that person in (1:1 verify
 * and 1:N identify), checks that another person's frames do NOT log in as them, and writes the
 * username to FILE. `login` (after containers were restarted) logs the same user in again.
 * Liveness must be off in the stack under test (compose: FACELINE_LIVENESS=false): a recorded
 * clip cannot answer a random head-turn challenge. Everything else is the production path.
 * Exits non-zero with a reason on any failure.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import {
  AUTH_ROUTES,
  SOCKET_PATH,
  type AckResponse,
  type ClientToServerEvents,
  type EnrollResult,
  type LoginResult,
  type ServerToClientEvents,
} from '@faceline/contracts';
import { requireFaces } from '@faceline/testkit';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

// The enrolled person and an impostor: webcam clips (distinct frames, like a real camera).
const PERSON_FEED = 'webcam/anon_lp_d9_man_glasses_480x480.mjpeg';
const IMPOSTOR_FEED = 'webcam/anon_lp_d3_woman_480x480.mjpeg';

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? process.argv[i + 1] : undefined;
  if (!v) throw new Error(`--${name} is required`);
  return v;
}

function mjpegFrames(rel: string): Buffer[] {
  const buf = readFileSync(path.join(requireFaces(), rel));
  const out: Buffer[] = [];
  for (let i = 0; ; ) {
    const s = buf.indexOf(Buffer.from([0xff, 0xd8, 0xff]), i);
    if (s < 0) break;
    const e = buf.indexOf(Buffer.from([0xff, 0xd9]), s);
    if (e < 0) break;
    out.push(buf.subarray(s, e + 2));
    i = e + 2;
  }
  if (out.length < 20) throw new Error(`${rel}: expected a clip of many frames, found ${out.length}`);
  return out;
}

async function connect(url: string): Promise<ClientSocket> {
  const socket: ClientSocket = io(url, { path: SOCKET_PATH, transports: ['websocket'], forceNew: true, reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

async function ask<T>(socket: ClientSocket, event: string, ...args: unknown[]): Promise<T> {
  const r = (await (socket.timeout(60_000) as unknown as { emitWithAck(e: string, ...a: unknown[]): Promise<AckResponse<T>> }).emitWithAck(
    event,
    ...args,
  )) as AckResponse<T>;
  if ('error' in r) throw new Error(`${event}: ${r.error.code}: ${r.error.message}`);
  return r.data;
}

async function http(url: string, method: string, route: string, body?: unknown, cookie?: string) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (cookie) headers.cookie = cookie;
  const res = await fetch(`${url}${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, cookies: res.headers.getSetCookie() };
}

async function enroll(url: string, ticket: string, frames: Buffer[]): Promise<EnrollResult> {
  const socket = await connect(url);
  try {
    await ask(socket, 'enroll:start', { ticket });
    let result: EnrollResult | undefined;
    socket.on('enroll:result', (r) => (result = r));
    const seen: string[] = [];
    // every third frame: consecutive video frames are nearly identical
    for (let i = 0; i < frames.length && !result; i += 3) {
      const ack = await ask<{ feedback: string[] }>(socket, 'enroll:frame', { seq: i, image: frames[i] });
      seen.push(ack.feedback.join('+'));
    }
    await new Promise((r) => setImmediate(r));
    if (!result) throw new Error(`enrollment did not finish; feedback per frame: ${seen.join(', ')}`);
    return result;
  } finally {
    socket.disconnect();
  }
}

async function login(
  url: string,
  start: { mode: 'verify' | 'identify'; username?: string },
  frames: Buffer[],
): Promise<LoginResult | undefined> {
  const socket = await connect(url);
  try {
    await ask(socket, 'login:start', start);
    let result: LoginResult | undefined;
    socket.on('login:result', (r) => (result = r));
    for (let i = 0; i < frames.length && !result; i++) await ask(socket, 'login:frame', { seq: i, image: frames[i] });
    await new Promise((r) => setImmediate(r));
    return result;
  } finally {
    socket.disconnect();
  }
}

/** Face login, then the grant exchanged for a session exactly as the browser does; returns /me. */
async function loginAndSession(url: string, username: string, frames: Buffer[], mode: 'verify' | 'identify') {
  const t0 = Date.now();
  const result = await login(url, mode === 'verify' ? { mode, username } : { mode }, frames);
  if (!result?.ok) throw new Error(`${mode} login failed: ${result ? `${result.error.code}: ${result.error.message}` : 'no result'}`);
  if (result.user.username !== username) throw new Error(`${mode} login matched ${result.user.username}, expected ${username}`);
  const session = await http(url, 'POST', AUTH_ROUTES.sessions, { grant: result.grant });
  if (session.status !== 200 && session.status !== 201) throw new Error(`POST ${AUTH_ROUTES.sessions}: ${session.status} ${session.text}`);
  const cookie = session.cookies.map((c) => c.split(';')[0]).join('; ');
  const me = await http(url, 'GET', AUTH_ROUTES.me, undefined, cookie);
  if (me.status !== 200 || me.json?.user?.username !== username) throw new Error(`GET ${AUTH_ROUTES.me}: ${me.status} ${me.text}`);
  console.log(`e2e: ${mode} login as ${username} ok in ${Date.now() - t0} ms (session cookie, /me answers)`);
}

const [phase] = process.argv.slice(2);
const url = arg('url').replace(/\/$/, '');
const stateFile = arg('state');
const person = mjpegFrames(PERSON_FEED);
// login uses the second half of the clip, enrollment the first: no frame is reused
const half = Math.floor(person.length / 2);

if (phase === 'enroll') {
  const username = `c${randomBytes(5).toString('hex')}`;
  const reg = await http(url, 'POST', AUTH_ROUTES.register, { username, displayName: 'Container check' });
  if (reg.status !== 201) throw new Error(`POST ${AUTH_ROUTES.register}: ${reg.status} ${reg.text}`);
  const enrolled = await enroll(url, reg.json.enrollmentTicket, person.slice(0, half));
  if (!enrolled.ok) throw new Error(`enrollment refused: ${enrolled.error.code}: ${enrolled.error.message}`);
  console.log(`e2e: registered and enrolled ${username} (${enrolled.templateCount} templates) from ${PERSON_FEED}`);
  await loginAndSession(url, username, person.slice(half), 'verify');
  await loginAndSession(url, username, person.slice(half).reverse(), 'identify');
  const impostor = await login(url, { mode: 'verify', username }, mjpegFrames(IMPOSTOR_FEED).slice(0, 30));
  if (impostor?.ok) throw new Error(`an impostor (${IMPOSTOR_FEED}) logged in as ${username}`);
  console.log(`e2e: impostor refused (${impostor ? impostor.error.code : 'no match within 30 frames'})`);
  writeFileSync(stateFile, JSON.stringify({ username }));
} else if (phase === 'login') {
  const { username } = JSON.parse(readFileSync(stateFile, 'utf8')) as { username: string };
  await loginAndSession(url, username, person.slice(half), 'verify');
} else {
  throw new Error('usage: e2e.ts enroll|login --url URL --state FILE');
}

/**
 * Auth replicas for system tests: real database (a fresh PostgreSQL schema per test file, or a
 * PGlite data directory), real vision, real HTTP and Socket.IO on port 0.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { buildApp, type AuthApp } from '../../src/app.js';
import { testConfig, type AuthConfig } from '../../src/config.js';
import { createContext, type AppContext } from '../../src/context.js';
import type { ClientInfo, GrantContext } from '../../src/services/session.service.js';
import { ACR } from '@faceline/contracts';

// a test-only default; tests read it from the environment like CI does
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type Backend = 'postgres' | 'pglite';

export interface Store {
  backend: Backend;
  /** DATABASE_URL for replicas, undefined for PGlite */
  databaseUrl: string | undefined;
  dataDir: string;
  masterKey: Buffer;
  drop(): Promise<void>;
}

/** A fresh, empty database for one test file: a new schema in PostgreSQL or a new PGlite directory. */
export async function createStore(backend: Backend): Promise<Store> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'faceline-auth-test-'));
  const masterKey = randomBytes(32);
  if (backend === 'pglite') {
    return {
      backend,
      databaseUrl: undefined,
      dataDir,
      masterKey,
      async drop() {
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const schema = `auth_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    backend,
    databaseUrl: url.toString(),
    dataDir,
    masterKey,
    async drop() {
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Replica {
  ctx: AppContext;
  app: AuthApp;
  url: string;
  stop(): Promise<void>;
}

export async function startReplica(
  store: Store,
  visionUrl: string,
  overrides: Partial<AuthConfig> = {},
  opts: { log?: Logger } = {},
): Promise<Replica> {
  const config = testConfig({
    databaseUrl: store.databaseUrl,
    dataDir: store.dataDir,
    masterKey: store.masterKey,
    visionUrls: [visionUrl],
    databasePoolSize: 4,
    indexResyncSeconds: 0,
    ...overrides,
  });
  const log = opts.log ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const ctx = await createContext(config, log);
  const app = await buildApp(ctx);
  const url = await app.app.listen({ host: '127.0.0.1', port: 0 });
  return {
    ctx,
    app,
    url,
    async stop() {
      await app.app.close();
      await ctx.close();
    },
  };
}

/** The client of calls a test makes straight into the services. */
export const TEST_CLIENT: ClientInfo = { ip: '127.0.0.1', userAgent: 'test', deviceId: null };

/**
 * What a face login proved, for grants a test issues without one: the face, with liveness or
 * not, optionally at a trusted kiosk (the level administrators act at with ADMIN_STEP_UP).
 */
export function faceProof(liveness: boolean, opts: { trustedDevice?: string } = {}): GrantContext {
  if (opts.trustedDevice) return { liveness, amr: ['face', 'kiosk'], acr: ACR.TRUSTED_DEVICE, deviceId: opts.trustedDevice };
  return { liveness, amr: ['face'], acr: liveness ? ACR.FACE_LIVENESS : ACR.FACE, deviceId: null };
}

/** What an administrator acting as one proved: a face login with liveness at a trusted kiosk. */
export const ADMIN_PROOF: GrantContext = faceProof(true, { trustedDevice: '00000000-0000-4000-8000-00000000a11d' });

/** Makes an account an administrator the way an operator would in the database (tests only). */
export async function makeAdmin(ctx: AppContext, userId: string): Promise<void> {
  await ctx.db.query("UPDATE users SET role = 'admin' WHERE id = $1", [userId]);
}

/**
 * Signs a user in without a face (the grant a face login would end with, exchanged over HTTP
 * like the browser does) and returns the cookie header: for tests of what comes after login.
 */
export async function signInWithoutFace(r: Replica, userId: string, how: GrantContext = faceProof(false)): Promise<string> {
  const { grant } = await r.ctx.sessions.issueGrant(userId, 'verify', how, TEST_CLIENT);
  const res = await fetch(`${r.url}/api/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant }),
  });
  if (res.status !== 200) throw new Error(`session exchange failed: ${res.status} ${await res.text()}`);
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

/** A logger that keeps every line (as parsed JSON) for assertions on what auth logs. */
export function capturingLogger(): { log: Logger; lines: Record<string, unknown>[]; text: () => string } {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const log = pino(
    { level: 'info' },
    {
      write(chunk: string) {
        raw.push(chunk);
        try {
          lines.push(JSON.parse(chunk) as Record<string, unknown>);
        } catch {
          /* not JSON */
        }
      },
    },
  );
  return { log, lines, text: () => raw.join('') };
}

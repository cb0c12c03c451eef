/**
 * `npm start` (scripts/start.mjs): starts vision, auth and web, prints the address, serves the
 * app through web with auth behind it, stops everything on SIGTERM; exits non-zero when a
 * service cannot start.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '@faceline/testkit';
import { freePort } from './support/stack.js';

interface Run {
  output: () => string;
  exited: Promise<number | null>;
  kill: (signal: NodeJS.Signals) => void;
  pid: number | undefined;
}

function runStart(env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { output: () => out, exited, kill: (s) => child.kill(s), pid: child.pid };
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return cond();
}

async function portsClosed(ports: number[]): Promise<boolean> {
  for (const port of ports) {
    const open = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
      () => true,
      () => false,
    );
    if (open) return false;
  }
  return true;
}

describe('npm start', { timeout: 300_000 }, () => {
  it('starts the three services, prints the address, serves the app and stops on SIGTERM', async () => {
    const data = mkdtempSync(path.join(tmpdir(), 'faceline-start-'));
    const ports = [await freePort(), await freePort(), await freePort()];
    const [web, auth, vision] = ports as [number, number, number];
    const run = runStart({
      PORT: String(web),
      AUTH_PORT: String(auth),
      VISION_PORT: String(vision),
      FACELINE_DATA_DIR: data,
      LOG_LEVEL: 'warn',
    });
    try {
      const up = await waitFor(() => run.output().includes('Faceline is running'), 240_000);
      assert.ok(up, `no address printed:\n${run.output()}`);
      assert.match(run.output(), new RegExp(`open http://localhost:${web}`));
      assert.match(run.output(), /^(auth|vision|web|start) +\|/m, 'log lines carry the service name');

      const page = await fetch(`http://127.0.0.1:${web}/kiosk`, { headers: { accept: 'text/html' } });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<script type="module"[^>]+src="\/assets\//);
      const config = await fetch(`http://127.0.0.1:${web}/api/v1/config`);
      assert.equal(config.status, 200, 'auth answers through web');
      assert.equal(typeof ((await config.json()) as { liveness: unknown }).liveness, 'boolean');
      const ready = await fetch(`http://127.0.0.1:${vision}/readyz`);
      assert.equal(ready.status, 200, 'vision is up');

      // a fresh install: the first operator becomes administrator through the printed link
      const link = new RegExp(`No administrator yet: open http://localhost:${web}/register\\?setup=([A-Za-z0-9_-]+) `).exec(run.output());
      assert.ok(link, `no setup link printed:\n${run.output()}`);
      const admin = await fetch(`http://127.0.0.1:${web}/api/v1/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'operator', displayName: 'Operator', setupToken: link[1] }),
      });
      assert.equal(admin.status, 201);
      assert.equal(((await admin.json()) as { user: { role: string } }).user.role, 'admin');

      run.kill('SIGTERM');
      assert.equal(await run.exited, 0);
      assert.ok(await portsClosed(ports), 'every service stopped');
    } finally {
      run.kill('SIGKILL');
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('exits non-zero and stops the others when a service cannot start', async () => {
    const data = mkdtempSync(path.join(tmpdir(), 'faceline-start-'));
    const ports = [await freePort(), await freePort(), await freePort()];
    const [web, auth, vision] = ports as [number, number, number];
    // A DATABASE_URL auth refuses: auth exits with a configuration error during start-up.
    const run = runStart({
      PORT: String(web),
      AUTH_PORT: String(auth),
      VISION_PORT: String(vision),
      FACELINE_DATA_DIR: data,
      DATABASE_URL: 'mysql://nope',
    });
    try {
      const code = await Promise.race([run.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 120_000).unref())]);
      assert.notEqual(code, 'timeout', `start.mjs kept running:\n${run.output()}`);
      assert.notEqual(code, 0);
      assert.match(run.output(), /auth exited with code \d+ during start-up/);
      assert.ok(await portsClosed(ports), 'the other services were stopped');
    } finally {
      run.kill('SIGKILL');
      rmSync(data, { recursive: true, force: true });
    }
  });
});

/**
 * Starts the real vision service as a child process (from TypeScript, like `npm run dev`) on a
 * free port and waits until it is ready. Tests talk to it over loopback HTTP only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '@faceline/testkit';

export interface RunningService {
  url: string;
  proc: ChildProcess;
  /** everything the service printed (pino JSON lines and worker stderr) */
  output(): string;
  /** SIGTERM, then wait for the exit code (SIGKILL after the timeout) */
  stop(timeoutMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
}

export const SERVER_TS = path.join(REPO_ROOT, 'services/vision/src/server.ts');

export async function startVision(
  env: Record<string, string> = {},
  opts: { waitReady?: boolean; timeoutMs?: number } = {},
): Promise<RunningService> {
  const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', SERVER_TS], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vision did not start listening:\n${out}`)), opts.timeoutMs ?? 60_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const j = JSON.parse(line) as { event?: string; url?: string };
          if (j.event === 'listening' && j.url) {
            clearTimeout(timer);
            resolve(j.url);
          }
        } catch {
          // a partial line; wait for the rest
        }
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`vision exited with ${code} before listening:\n${out}`));
    });
  });
  const svc: RunningService = {
    url,
    proc,
    exited,
    output: () => out,
    async stop(timeoutMs = 15_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
  if (opts.waitReady !== false) await waitReady(svc, opts.timeoutMs ?? 120_000);
  return svc;
}

export async function waitReady(svc: RunningService, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${svc.url}/readyz`).catch(() => undefined);
    if (res?.status === 200) return;
    if (Date.now() > deadline || svc.proc.exitCode !== null) throw new Error(`vision did not become ready:\n${svc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface PostOptions {
  contentType?: string;
  query?: string;
}

/** POST raw bytes to /v1/analyze; returns status, headers and parsed JSON body. */
export async function analyzeRaw(svc: RunningService, body: Uint8Array, o: PostOptions = {}) {
  const res = await fetch(`${svc.url}/v1/analyze${o.query ? `?${o.query}` : ''}`, {
    method: 'POST',
    headers: o.contentType === undefined ? {} : { 'content-type': o.contentType },
    body,
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json: json as any, text };
}

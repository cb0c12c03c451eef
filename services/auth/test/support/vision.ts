/**
 * Starts the real vision service as a child process on a free port (from TypeScript, as in
 * development) and waits until its workers are ready.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '@faceline/testkit';

export interface ChildService {
  url: string;
  proc: ChildProcess;
  output(): string;
  stop(): Promise<number | null>;
}

export async function startChild(
  script: string,
  env: Record<string, string>,
  opts: { readyPath?: string; timeoutMs?: number } = {},
): Promise<ChildService> {
  const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', path.join(REPO_ROOT, script)], {
    cwd: REPO_ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const timeoutMs = opts.timeoutMs ?? 180_000;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start listening:\n${out}`)), timeoutMs);
    const scan = (chunk: Buffer) => {
      out += chunk.toString();
      // both services log the address Fastify listens on
      const m = /"(?:url|address)":"(http:\/\/127\.0\.0\.1:\d+)"|Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve((m[1] ?? m[2]) as string);
      }
    };
    proc.stdout!.on('data', scan);
    proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before listening:\n${out}`));
    });
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${url}${opts.readyPath ?? '/readyz'}`).catch(() => undefined);
    if (res?.status === 200) break;
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`${script} did not become ready:\n${out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

/** One worker: the machine's cores are shared with the tests themselves. */
export function startVision(env: Record<string, string> = {}): Promise<ChildService> {
  return startChild('services/vision/src/server.ts', { VISION_WORKERS: '1', LOG_LEVEL: 'info', ...env });
}

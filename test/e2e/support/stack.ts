/**
 * Starts the real vision, auth and web services as child processes on free ports, with
 * a data folder of the test's choosing (so a restart keeps the data), and stops them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort, REPO_ROOT } from '@faceline/testkit';

export { freePort };

export interface Stack {
  webUrl: string;
  authUrl: string;
  /** everything the services printed, for failure messages */
  logs: () => string;
  /** stops one service (to see how the others and the app cope) */
  stopService: (name: 'vision' | 'auth' | 'web') => Promise<void>;
  stop: () => Promise<void>;
}

/** Builds the browser app into `outDir` (a temporary folder: the developer's dist/ stays untouched). */
export function buildWebApp(outDir: string): void {
  const res = spawnSync(
    process.execPath,
    [path.join(REPO_ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'error', '--outDir', outDir, '--emptyOutDir'],
    {
      cwd: path.join(REPO_ROOT, 'services/web'),
      encoding: 'utf8',
    },
  );
  if (res.status !== 0) throw new Error(`vite build failed:\n${res.stdout}\n${res.stderr}`);
}

async function waitHealthy(url: string, child: ChildProcess, name: string, logs: () => string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} during start-up:\n${logs()}`);
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} was not ready after ${timeoutMs} ms:\n${logs()}`);
}

export async function startStack(opts: {
  dataDir: string;
  publicDir: string;
  env?: Record<string, string>;
  /** more auth settings that depend on the addresses (e.g. PUBLIC_URL = the web address) */
  authEnv?: (urls: { webUrl: string; authUrl: string }) => Record<string, string>;
}): Promise<Stack> {
  const [visionPort, authPort, webPort] = [await freePort(), await freePort(), await freePort()];
  const visionUrl = `http://127.0.0.1:${visionPort}`;
  const authUrl = `http://127.0.0.1:${authPort}`;
  const webUrl = `http://127.0.0.1:${webPort}`;
  const out: string[] = [];
  const logs = () => out.slice(-200).join('');
  const children: ChildProcess[] = [];
  const byName = new Map<string, ChildProcess>();
  const base = { ...process.env, LOG_LEVEL: 'warn', HOST: '127.0.0.1', NODE_ENV: 'test' };

  const launch = (name: string, entry: string, env: Record<string, string>) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', entry], {
      cwd: REPO_ROOT,
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => out.push(`[${name}] ${d}`));
    child.stderr?.on('data', (d: Buffer) => out.push(`[${name}] ${d}`));
    children.push(child);
    byName.set(name, child);
    return child;
  };

  const end = (c: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
      c.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      c.kill('SIGTERM');
    });
  const stop = async () => {
    await Promise.all(children.map(end));
  };
  const stopService = async (name: string) => {
    const child = byName.get(name);
    if (child) await end(child);
  };

  try {
    const vision = launch('vision', 'services/vision/src/server.ts', { PORT: String(visionPort), VISION_WORKERS: '1' });
    const auth = launch('auth', 'services/auth/src/server.ts', {
      PORT: String(authPort),
      VISION_URL: visionUrl,
      FACELINE_DATA_DIR: opts.dataDir,
      TRUST_PROXY: '127.0.0.1',
      ...opts.env,
      ...opts.authEnv?.({ webUrl, authUrl }),
    });
    const web = launch('web', 'services/web/src/server.ts', { PORT: String(webPort), AUTH_URL: authUrl, WEB_PUBLIC_DIR: opts.publicDir });
    await Promise.all([
      waitHealthy(visionUrl, vision, 'vision', logs),
      waitHealthy(authUrl, auth, 'auth', logs),
      waitHealthy(webUrl, web, 'web', logs),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { webUrl, authUrl, logs, stopService, stop };
}

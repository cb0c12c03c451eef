/**
 * Child processes of the load harness: started detached in their own process group so that a
 * kill reaches everything they started, tracked in one registry so that every exit path
 * (normal end, assertion failure, exception, Ctrl-C) stops them all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, readdirSync } from 'node:fs';

export { freePort } from '@faceline/testkit';

export interface Managed {
  name: string;
  /** the pid whose CPU and memory are sampled (for PostgreSQL: the postmaster, its backends are added) */
  pid: number;
  child?: ChildProcess;
  /** sum CPU over this pid's children too (PostgreSQL backends, HAProxy has none) */
  includeChildren?: boolean;
  exited: boolean;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

const registry = new Set<Managed>();
const cleanups: (() => Promise<void> | void)[] = [];

export function spawnManaged(
  name: string,
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string },
): Managed {
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  const m: Managed = { name, pid: child.pid, child, exited: false, exitCode: null, signal: null };
  child.on('exit', (code, signal) => {
    m.exited = true;
    m.exitCode = code;
    m.signal = signal;
    registry.delete(m);
  });
  registry.add(m);
  return m;
}

/** Registers a process the harness did not spawn itself (e.g. the postmaster started by pg_ctl). */
export function adoptPid(name: string, pid: number, includeChildren = false): Managed {
  const m: Managed = { name, pid, includeChildren, exited: false, exitCode: null, signal: null };
  registry.add(m);
  return m;
}

export function forget(m: Managed): void {
  registry.delete(m);
}

export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends a signal to the process group (detached children lead their own group). */
export function signalGroup(m: Managed, signal: NodeJS.Signals): void {
  try {
    process.kill(m.child ? -m.pid : m.pid, signal);
  } catch {
    // already gone
  }
}

export async function waitExit(m: Managed, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (m.child ? m.exited : !isAlive(m.pid)) return true;
    await sleep(50);
  }
  return false;
}

/** SIGKILL: the fault being simulated is a crash, not a graceful shutdown. */
export async function killHard(m: Managed): Promise<void> {
  signalGroup(m, 'SIGKILL');
  await waitExit(m, 5000);
  registry.delete(m);
}

export async function stopGracefully(m: Managed, timeoutMs = 5000): Promise<void> {
  signalGroup(m, 'SIGTERM');
  if (!(await waitExit(m, timeoutMs))) signalGroup(m, 'SIGKILL');
  await waitExit(m, 2000);
  registry.delete(m);
}

let cleaning: Promise<void> | undefined;
/** Stops every registered process and runs the cleanup hooks (last registered first). Idempotent. */
export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    for (const m of registry) signalGroup(m, 'SIGTERM');
    const until = Date.now() + 4000;
    while (Date.now() < until && [...registry].some((m) => (m.child ? !m.exited : isAlive(m.pid)))) await sleep(50);
    for (const m of registry) signalGroup(m, 'SIGKILL');
    registry.clear();
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        console.error('cleanup step failed:', (err as Error).message);
      }
    }
  })();
  return cleaning;
}

/** Ctrl-C, SIGTERM and uncaught errors all end in cleanupAll(). */
export function installExitHandlers(): void {
  const bail = (why: string, code: number) => {
    console.error(`\nload harness: ${why}; stopping every process it started`);
    void cleanupAll().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => bail('interrupted', 130));
  process.once('SIGTERM', () => bail('terminated', 143));
  process.on('uncaughtException', (err) => {
    console.error(err);
    bail('uncaught exception', 1);
  });
  process.on('unhandledRejection', (err) => {
    console.error(err);
    bail('unhandled rejection', 1);
  });
  // last resort if the process exits without going through cleanupAll (kills what is left, synchronously)
  process.once('exit', () => {
    for (const m of registry) signalGroup(m, 'SIGKILL');
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------- /proc sampling

const CLK_TCK = 100; // Linux USER_HZ; getconf CLK_TCK is 100 on every mainstream kernel

export interface ProcSample {
  /** user + system CPU, seconds, of the pid (and its children when asked) */
  cpuSeconds: number;
  /** resident memory, bytes: the pid's RSS, or for a process tree its private memory plus the shared parts once */
  rssBytes: number;
}

function readStat(pid: number): { ppid: number; cpu: number; reapedCpu: number; rssPages: number } | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name is in parentheses and may contain spaces: split after the last ')'
    const rest = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    // fields after comm: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14) ... rss(21)
    return {
      ppid: Number(rest[1]),
      cpu: (Number(rest[11]) + Number(rest[12])) / CLK_TCK,
      reapedCpu: (Number(rest[13]) + Number(rest[14])) / CLK_TCK,
      rssPages: Number(rest[21]),
    };
  } catch {
    return undefined;
  }
}

const PAGE = 4096;

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s && s.ppid === pid) out.push(Number(name));
  }
  return out;
}

/** Resident memory split as the kernel reports it (bytes): private, file-backed, shared memory. */
function readRss(pid: number): { anon: number; file: number; shmem: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem') };
  } catch {
    return undefined;
  }
}

export function sample(m: Managed): ProcSample | undefined {
  const own = readStat(m.pid);
  if (!own) return undefined;
  let cpu = own.cpu;
  let rss = own.rssPages * PAGE;
  if (m.includeChildren) {
    // children that already exited (PostgreSQL backends of closed connections) count through cutime/cstime
    cpu += own.reapedCpu;
    // Every PostgreSQL backend maps the same shared buffers and binary: summing each process's
    // RSS counts those pages once per backend, so more connections would look like growth.
    // Count private memory per process and the shared parts once, as the machine holds them.
    const tree = [m.pid, ...childrenOf(m.pid)];
    let anon = 0;
    let file = 0;
    let shmem = 0;
    for (const pid of tree) {
      if (pid !== m.pid) {
        const s = readStat(pid);
        if (s) cpu += s.cpu;
      }
      const r = readRss(pid);
      if (!r) continue;
      anon += r.anon;
      file = Math.max(file, r.file);
      shmem = Math.max(shmem, r.shmem);
    }
    rss = anon + file + shmem;
  }
  return { cpuSeconds: cpu, rssBytes: rss };
}

/** Busy and total jiffies of the whole machine (all processes, also those of other users). */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export function sampleSelf(): ProcSample {
  const u = process.cpuUsage();
  return { cpuSeconds: (u.user + u.system) / 1e6, rssBytes: process.memoryUsage().rss };
}

/**
 * Graceful shutdown, the same in every service: on SIGTERM or SIGINT, log, run the closers in
 * order (stop accepting and drain the server first, then what it used), and exit 0; exit 1 when a
 * closer fails or the grace period runs out with work still open. A second signal is ignored.
 *
 * @example
 * onShutdown({
 *   log,
 *   graceMs: config.shutdownGraceSeconds * 1000,
 *   closers: [['http server', () => app.close()], ['database', () => db.close()]],
 * });
 */

/** The part of a pino logger the shutdown writes to. */
export interface ShutdownLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A named step of the shutdown; closers run one after the other in the order given. */
export type Closer = readonly [name: string, close: () => unknown];

export interface ShutdownOptions {
  log: ShutdownLog;
  graceMs: number;
  closers: readonly Closer[];
  /** runs synchronously on the first signal, before any closer (e.g. report not-ready) */
  onSignal?: (signal: string) => void;
  signals?: readonly NodeJS.Signals[];
  /** where the signals come from and how the process ends; the real process unless a test says otherwise */
  proc?: Pick<NodeJS.EventEmitter, 'on'> & { exit(code: number): void };
}

/**
 * Registers the signal handlers and returns the shutdown itself, for callers that stop for a
 * reason of their own. The returned promise settles once the process has been told to exit.
 */
export function onShutdown(opts: ShutdownOptions): (reason: string) => Promise<void> {
  const proc = opts.proc ?? process;
  let started: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    started ??= run(reason);
    return started;
  };
  const run = async (reason: string): Promise<void> => {
    opts.log.info({ signal: reason }, 'shutting down');
    opts.onSignal?.(reason);
    const force = setTimeout(() => {
      opts.log.error({ graceMs: opts.graceMs }, 'shutdown grace period over; exiting anyway');
      proc.exit(1);
    }, opts.graceMs);
    force.unref();
    for (const [name, close] of opts.closers) {
      try {
        await close();
      } catch (err) {
        clearTimeout(force);
        opts.log.error({ err, step: name }, 'shutdown failed');
        proc.exit(1);
        return;
      }
    }
    clearTimeout(force);
    opts.log.info({ signal: reason }, 'stopped');
    proc.exit(0);
  };
  for (const signal of opts.signals ?? ['SIGTERM', 'SIGINT']) proc.on(signal, () => void shutdown(signal));
  return shutdown;
}

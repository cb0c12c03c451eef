/**
 * Where the master key comes from: FACELINE_MASTER_KEY, or (embedded default) a key file in
 * the data directory created with mode 0600 on first start. Creating one is logged, because
 * losing that file makes every stored face template unreadable.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

export const KEY_FILE_NAME = 'master.key';

export function resolveMasterKey(opts: { configured: Buffer | undefined; dataDir: string; sharedDatabase: boolean; log: Logger }): Buffer {
  if (opts.configured) return opts.configured;
  const file = path.join(opts.dataDir, KEY_FILE_NAME);
  if (existsSync(file)) {
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077) {
      chmodSync(file, 0o600);
      opts.log.warn({ file }, 'master key file was readable by others; mode set to 0600');
    }
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`master key file ${file} does not hold 32 base64 bytes`);
    return key;
  }
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // 'wx' fails if another process created it in between; then that one wins.
  try {
    writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return resolveMasterKey(opts);
    throw err;
  }
  opts.log.warn(
    { file },
    opts.sharedDatabase
      ? 'FACELINE_MASTER_KEY is not set: created a local master key file. Replicas sharing this database need the same key; set FACELINE_MASTER_KEY in production'
      : 'created a new master key file (mode 0600) for face templates and signing keys; back it up, without it stored templates cannot be read',
  );
  return key;
}

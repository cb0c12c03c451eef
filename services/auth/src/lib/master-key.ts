/**
 * Where the master key comes from: FACELINE_MASTER_KEY (or its _FILE), or (embedded default) a
 * key file `master.key` created with mode 0600 on first start in FACELINE_KEY_DIR, which is
 * FACELINE_DATA_DIR unless set. Beside the database, one backup of the data folder holds both
 * the encrypted templates and the key that opens them; FACELINE_KEY_DIR keeps them apart.
 * Creating a key is logged, because losing that file makes every stored face template unreadable.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

export const KEY_FILE_NAME = 'master.key';

export interface MasterKeyOptions {
  configured: Buffer | undefined;
  /** folder of the generated key file (FACELINE_KEY_DIR) */
  keyDir: string;
  /** the database folder (FACELINE_DATA_DIR), to notice a key file left behind there */
  dataDir: string;
  sharedDatabase: boolean;
  log: Logger;
}

export function resolveMasterKey(opts: MasterKeyOptions): Buffer {
  if (opts.configured) return opts.configured;
  const file = path.join(opts.keyDir, KEY_FILE_NAME);
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
  const separate = path.resolve(opts.keyDir) !== path.resolve(opts.dataDir);
  const leftBehind = path.join(opts.dataDir, KEY_FILE_NAME);
  if (separate && existsSync(leftBehind)) {
    // a new key would not open the templates sealed with the old one
    throw new Error(
      `FACELINE_KEY_DIR is ${opts.keyDir} but the master key file is still in the data folder: move ${leftBehind} to ${file}`,
    );
  }
  mkdirSync(opts.keyDir, { recursive: true, mode: 0o700 });
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
      : separate
        ? 'created a new master key file (mode 0600) for face templates and signing keys, apart from the data folder; back it up separately, without it stored templates cannot be read'
        : 'created a new master key file (mode 0600) for face templates and signing keys beside the database: back it up, without it stored templates cannot be read; a backup of this folder holds both the templates and their key (FACELINE_KEY_DIR keeps the key elsewhere)',
  );
  return key;
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { KEY_FILE_NAME, resolveMasterKey } from './master-key.js';
import { loadConfig, ConfigError } from '../config.js';

function logged() {
  const lines: string[] = [];
  return { log: pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }), text: () => lines.join('') };
}

test('FACELINE_KEY_DIR: the generated key lives apart from the database folder and is found again there', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'faceline-key-'));
  try {
    const dataDir = path.join(root, 'data');
    const keyDir = path.join(root, 'keys');
    const l = logged();
    const key = resolveMasterKey({ configured: undefined, keyDir, dataDir, sharedDatabase: false, log: l.log });
    assert.equal(key.length, 32);
    const file = path.join(keyDir, KEY_FILE_NAME);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(keyDir).mode & 0o777, 0o700);
    assert.equal(existsSync(path.join(dataDir, KEY_FILE_NAME)), false, 'nothing in the data folder');
    assert.match(l.text(), /apart from the data folder/);
    assert.deepEqual(
      resolveMasterKey({ configured: undefined, keyDir, dataDir, sharedDatabase: false, log: l.log }),
      key,
      'read back, not replaced',
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('default: the key beside the database, with a warning that one backup then holds both', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'faceline-key-'));
  try {
    const l = logged();
    resolveMasterKey({ configured: undefined, keyDir: dataDir, dataDir, sharedDatabase: false, log: l.log });
    assert.ok(existsSync(path.join(dataDir, KEY_FILE_NAME)));
    assert.match(l.text(), /a backup of this folder holds both the templates and their key \(FACELINE_KEY_DIR/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('moving to FACELINE_KEY_DIR with the old key still in the data folder stops instead of creating a second key', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'faceline-key-'));
  try {
    const dataDir = path.join(root, 'data');
    mkdirSync(dataDir);
    writeFileSync(path.join(dataDir, KEY_FILE_NAME), `${Buffer.alloc(32, 7).toString('base64')}\n`, { mode: 0o600 });
    const keyDir = path.join(root, 'keys');
    assert.throws(
      () => resolveMasterKey({ configured: undefined, keyDir, dataDir, sharedDatabase: false, log: logged().log }),
      /move .*master\.key to .*keys/,
    );
    assert.equal(existsSync(keyDir), false);
    assert.equal(readFileSync(path.join(dataDir, KEY_FILE_NAME), 'utf8').trim(), Buffer.alloc(32, 7).toString('base64'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('configuration: FACELINE_KEY_DIR defaults to FACELINE_DATA_DIR and cannot be combined with a given key', () => {
  assert.equal(loadConfig({ FACELINE_DATA_DIR: '/srv/faceline' }).keyDir, '/srv/faceline');
  const c = loadConfig({ FACELINE_DATA_DIR: '/srv/faceline', FACELINE_KEY_DIR: '/etc/faceline/keys' });
  assert.deepEqual([c.dataDir, c.keyDir], ['/srv/faceline', '/etc/faceline/keys']);
  assert.throws(
    () => loadConfig({ FACELINE_KEY_DIR: '/k', FACELINE_MASTER_KEY: 'ab'.repeat(32) }),
    (e: unknown) => e instanceof ConfigError && /FACELINE_KEY_DIR/.test(e.message),
  );
});

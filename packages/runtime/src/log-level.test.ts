import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readEnv } from './env.js';
import { logLevel } from './log-level.js';

test('LOG_LEVEL: info when unset or empty, pino levels otherwise', () => {
  assert.equal(logLevel(readEnv({})), 'info');
  assert.equal(logLevel(readEnv({ LOG_LEVEL: '' })), 'info');
  assert.equal(logLevel(readEnv({ LOG_LEVEL: ' debug ' })), 'debug');
  const env = readEnv({ LOG_LEVEL: 'loud' });
  assert.equal(logLevel(env), 'info');
  assert.deepEqual(env.problems, ['LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"']);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readEnv } from './env.js';
import { trustProxy } from './trust-proxy.js';

test('TRUST_PROXY: booleans, hop counts and addresses, the same for every service', () => {
  const cases: [string | undefined, unknown][] = [
    [undefined, false],
    ['', false],
    ['true', true],
    ['FALSE', false],
    ['1', 1],
    ['0', 0],
    ['2', 2],
    ['10.42.0.0/16, 127.0.0.1', '10.42.0.0/16, 127.0.0.1'],
    ['loopback', 'loopback'],
  ];
  for (const [raw, expected] of cases) {
    const env = readEnv({ TRUST_PROXY: raw });
    assert.deepEqual(trustProxy(env), expected, `TRUST_PROXY=${raw}`);
    assert.deepEqual(env.problems, []);
  }
});

test('TRUST_PROXY: an address proxy-addr cannot read is a problem', () => {
  const env = readEnv({ TRUST_PROXY: 'maybe' });
  assert.equal(trustProxy(env), false);
  assert.equal(env.problems.length, 1);
  assert.match(env.problems[0]!, /^TRUST_PROXY must be true, false, a hop count or comma-separated addresses\/CIDRs, got "maybe"/);
});

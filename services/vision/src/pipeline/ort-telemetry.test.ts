import { test } from 'node:test';
import assert from 'node:assert/strict';
import { disableOrtTelemetryByDefault } from './ort-telemetry.js';

test('telemetry is switched off when the operator has not decided', () => {
  const env: NodeJS.ProcessEnv = {};
  disableOrtTelemetryByDefault(env);
  assert.equal(env.ORT_DISABLE_TELEMETRY, '1');
});

test("an operator's explicit setting is kept", () => {
  const env: NodeJS.ProcessEnv = { ORT_DISABLE_TELEMETRY: '0' };
  disableOrtTelemetryByDefault(env);
  assert.equal(env.ORT_DISABLE_TELEMETRY, '0');
});

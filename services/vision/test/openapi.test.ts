import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { OPENAPI_FILE, generateOpenApi } from '../scripts/openapi.js';

test('services/vision/openapi.json matches the route schemas (regenerate: npm run -w @faceline/vision openapi)', async () => {
  const generated = await generateOpenApi();
  const checkedIn = readFileSync(OPENAPI_FILE, 'utf8');
  assert.equal(checkedIn, generated, 'openapi.json is stale: run npm run -w @faceline/vision openapi');
  const doc = JSON.parse(generated);
  const analyze = doc.paths['/v1/analyze'].post;
  assert.deepEqual(Object.keys(analyze.requestBody.content).sort(), [
    'application/octet-stream',
    'image/jpeg',
    'image/png',
    'image/webp',
    'multipart/form-data',
  ]);
  assert.deepEqual(Object.keys(analyze.responses).sort(), ['200', '400', '413', '415', '422', '500', '503']);
  assert.ok(analyze.parameters.some((p: { name: string; in: string }) => p.name === 'maxFaces' && p.in === 'query'));
  assert.ok(doc.paths['/readyz'] && doc.paths['/healthz'] && doc.paths['/metrics']);
});

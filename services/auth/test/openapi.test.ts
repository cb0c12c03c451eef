/** The checked-in OpenAPI document matches the route schemas. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { OPENAPI_FILE, generateOpenApi } from '../src/openapi.js';

test('services/auth/openapi.json is up to date (npm run -w @faceline/auth openapi)', async () => {
  const fresh = await generateOpenApi();
  const checkedIn = readFileSync(OPENAPI_FILE, 'utf8');
  assert.equal(checkedIn, fresh, 'openapi.json is stale: run `npm run -w @faceline/auth openapi` and commit it');
  const doc = JSON.parse(fresh) as { paths: Record<string, unknown> };
  for (const p of ['/api/v1/users', '/api/v1/me', '/api/v1/sessions', '/api/v1/sessions/refresh', '/api/v1/admin/users/{id}/unlock', '/api/v1/admin/audit', '/.well-known/jwks.json']) {
    assert.ok(doc.paths[p], `${p} documented`);
  }
});

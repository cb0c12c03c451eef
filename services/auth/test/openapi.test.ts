/** The checked-in OpenAPI document matches the route schemas, and generating it needs no running services. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { OPENAPI_FILE, generateOpenApi, schemaOnlyDeps } from '../src/openapi.js';

test('services/auth/openapi.json is up to date (npm run -w @faceline/auth openapi)', async () => {
  const fresh = await generateOpenApi();
  const checkedIn = readFileSync(OPENAPI_FILE, 'utf8');
  assert.equal(checkedIn, fresh, 'openapi.json is stale: run `npm run -w @faceline/auth openapi` and commit it');
  const doc = JSON.parse(fresh) as { paths: Record<string, unknown> };
  for (const p of [
    '/api/v1/users',
    '/api/v1/me',
    '/api/v1/sessions',
    '/api/v1/sessions/refresh',
    '/api/v1/admin/users/{id}/unlock',
    '/api/v1/admin/audit',
    '/.well-known/jwks.json',
  ]) {
    assert.ok(doc.paths[p], `${p} documented`);
  }
});

test('the document is generated with no database and no vision service to reach', async (t) => {
  // an embedded database cannot start and no connection (PostgreSQL, vision over HTTP) can be opened
  t.mock.method(PGlite, 'create', () => {
    throw new Error('no database while generating the OpenAPI document');
  });
  t.mock.method(net.Socket.prototype, 'connect', () => {
    throw new Error('no network while generating the OpenAPI document');
  });
  assert.equal(await generateOpenApi(), readFileSync(OPENAPI_FILE, 'utf8'));
});

test('the routes are registered with stand-ins that refuse to be used', () => {
  const deps = schemaOnlyDeps();
  assert.throws(() => deps.db.query('SELECT 1'), /db\.query was used while generating the OpenAPI document/);
  assert.throws(() => deps.sessions.authenticate('token'), /sessions\.authenticate was used/);
  assert.equal(deps.oidc, undefined);
});

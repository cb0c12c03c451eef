import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AUTH_API_PREFIX, AUTH_ROUTES, SOCKET_PATH, Username } from '@faceline/contracts';
import { adminUnlock, adminUser, API_PREFIX, ROUTES, SOCKET_PATH as BrowserSocketPath, USERNAME_PATTERN } from './contracts.js';

describe('browser copy of the contract constants', () => {
  it('routes, prefix and socket path equal the contract (the compiler checks the literals too)', () => {
    assert.equal(API_PREFIX, AUTH_API_PREFIX);
    assert.equal(BrowserSocketPath, SOCKET_PATH);
    for (const [key, value] of Object.entries(ROUTES)) assert.equal(value, AUTH_ROUTES[key as keyof typeof ROUTES], key);
    assert.equal(adminUser('a b'), AUTH_ROUTES.adminUser('a b'));
    assert.equal(adminUnlock('x/y'), AUTH_ROUTES.adminUnlock('x/y'));
  });

  it('the username pattern is the contract schema pattern', () => {
    assert.equal(USERNAME_PATTERN, (Username as unknown as { pattern: string }).pattern);
  });
});

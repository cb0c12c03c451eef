/** Sign in with Faceline (OpenID Connect) on PostgreSQL (TEST_DATABASE_URL, a fresh schema), two replicas included. */
import { oidcSuite } from './support/oidc.suite.js';

oidcSuite('postgres');

/** Sign in with Faceline (OpenID Connect) on embedded PGlite: the same suite, one replica. */
import { oidcSuite } from './support/oidc.suite.js';

oidcSuite('pglite');

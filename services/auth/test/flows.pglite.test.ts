/** Enrollment, login, sessions, limits and deletion on the embedded database (PGlite). */
import { flowSuite } from './support/flows.suite.js';

flowSuite('pglite');

/** Enrollment, login, sessions, limits and deletion on PostgreSQL (TEST_DATABASE_URL, a fresh schema). */
import { flowSuite } from './support/flows.suite.js';

flowSuite('postgres');

/** Enrollment codes and TOTP against the embedded SQLite store (the suites run on PostgreSQL too). */
import { defineEnrollSuite } from './enroll-suite.js';
import { defineTotpSuite } from './totp-suite.js';

// {} = a new temporary SQLite file per server (startKeyService).
const env = () => ({ store: () => ({}), freshStore: async () => ({}) });
defineEnrollSuite('sqlite', env);
defineTotpSuite('sqlite', env);

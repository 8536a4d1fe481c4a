/** Enrollment codes and TOTP against a real PostgreSQL (with CI=true this must run). */
import { postgresForSuite } from '../../helpers/postgres-suite.js';
import { defineEnrollSuite } from './enroll-suite.js';
import { defineTotpSuite } from './totp-suite.js';

const pg = await postgresForSuite('enrollment and TOTP on PostgreSQL');
if (pg) {
  const cluster = pg;
  const env = () => ({ store: () => ({ databaseUrl: cluster.url }), freshStore: async () => ({ databaseUrl: await cluster.createDatabase() }) });
  defineEnrollSuite('postgres', env);
  defineTotpSuite('postgres', env);
}

/** Issue 6 sharing suite against a key service on PostgreSQL (a throwaway cluster, or DATABASE_URL). With CI=true no PostgreSQL is a failure. */
import { postgresForSuite } from '../../helpers/postgres-suite.js';
import { defineSharingSuite } from './sharing-suite.js';

const pg = await postgresForSuite('sharing on PostgreSQL');
if (pg) {
  const cluster = pg;
  defineSharingSuite('postgres', async () => ({ databaseUrl: await cluster.createDatabase() }));
}

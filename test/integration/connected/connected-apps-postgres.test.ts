/** Connected apps end to end on PostgreSQL (a throwaway cluster). With CI=true no PostgreSQL is a failure. */
import { postgresForSuite } from '../../helpers/postgres-suite.js';
import { defineConnectedSuite } from './connected-suite.js';

const pg = await postgresForSuite('connected apps on PostgreSQL');
if (pg) {
  const cluster = pg;
  defineConnectedSuite('postgres', async () => ({ databaseUrl: await cluster.createDatabase() }));
}

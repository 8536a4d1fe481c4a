/**
 * Issue 18: the hostile-input sweep (test/hostile/) against PostgreSQL. With
 * CI=true this must run: no PostgreSQL is a failure (postgres-suite.ts).
 */
import { postgresForSuite } from '../../helpers/postgres-suite.js';
import { defineHostileSuite } from '../../hostile/sweep.js';
import { routeTable } from '../../hostile/server.js';

const pg = await postgresForSuite('hostile-input sweep on PostgreSQL');
if (pg) {
  const url = pg.url;
  defineHostileSuite('postgres', await routeTable(), () => ({ databaseUrl: url }));
}

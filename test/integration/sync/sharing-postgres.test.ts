/** Issue 6 sharing suite against a key service on PostgreSQL (a throwaway cluster, or DATABASE_URL). With CI=true no PostgreSQL is a failure. */
import { afterAll, describe, it } from 'vitest';
import { PostgresUnavailable, startPostgres, type TestPostgres } from '../../helpers/postgres.js';
import { defineSharingSuite } from './sharing-suite.js';

let pg: TestPostgres | null = null;
let unavailable = '';
try {
  pg = await startPostgres();
} catch (error) {
  if (process.env.CI === 'true' || !(error instanceof PostgresUnavailable)) throw error;
  unavailable = error.message;
}
afterAll(async () => {
  await pg?.stop();
});

if (!pg) {
  describe('sharing on PostgreSQL', () => {
    it.skip(`skipped: ${unavailable.split('\n')[0]}`, () => undefined);
  });
} else {
  const cluster = pg;
  defineSharingSuite('postgres', async () => ({ databaseUrl: await cluster.createDatabase() }));
}

/**
 * A throwaway PostgreSQL for a test file: started once, stopped after the file.
 * With CI=true, no PostgreSQL is a failure; elsewhere (a laptop without Debian's
 * postgresql) the file reports one skipped test saying why, and returns null.
 */
import { afterAll, describe, it } from 'vitest';
import { PostgresUnavailable, startPostgres, type TestPostgres } from './postgres.js';

export async function postgresForSuite(suiteName: string): Promise<TestPostgres | null> {
  let pg: TestPostgres;
  try {
    pg = await startPostgres();
  } catch (error) {
    if (process.env.CI === 'true' || !(error instanceof PostgresUnavailable)) throw error;
    describe(suiteName, () => {
      it.skip(`skipped: ${error.message.split('\n')[0]}`, () => undefined);
    });
    return null;
  }
  afterAll(() => pg.stop());
  return pg;
}

import { PostgresStore } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './types.js';

export type { Store } from './types.js';

export interface StoreOptions {
  /** postgres://… or postgresql://…: use PostgreSQL (wins over `db`). */
  databaseUrl?: string;
  /** SQLite file (created with its folder when missing), or ":memory:". */
  db?: string;
  pgPoolSize?: number;
}

export const DEFAULT_DB_FILE = './sealpost-keyservice.db';

/** Opens (and migrates) the store the options name. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const url = options.databaseUrl;
  let store: Store;
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) throw new Error('DATABASE_URL must start with postgres:// or postgresql://');
    store = new PostgresStore({ url, ...(options.pgPoolSize ? { poolSize: options.pgPoolSize } : {}) });
  } else {
    store = new SqliteStore(options.db ?? DEFAULT_DB_FILE);
  }
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  return store;
}

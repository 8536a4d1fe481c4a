/**
 * Authentication rows (apps by API key, devices, delegations, keys by token)
 * kept between changes, for the SQLite store: every request reads one or two
 * of them, and they change rarely.
 *
 * The cache is never trusted past a change:
 *   - a write on this connection to one of AUTH_TABLES clears it
 *     (touchesAuthTables decides per statement, once, when it is prepared);
 *   - another connection's commit (another process, the admin CLI) changes
 *     SQLite's `PRAGMA data_version`, which the store compares whenever it
 *     starts a read snapshot, and clears the cache when it moved.
 * So a cached row is exactly what a read in the same snapshot would return.
 *
 * Values are shared between callers: treat them as read-only.
 */
import { BoundedMap } from '../lru.js';

/** The tables the cached rows come from (JOINs included). */
const AUTH_TABLES = /\b(apps|users|devices|device_delegations|keys)\b/i;

/** Whether a statement that writes may change a cached row: conservative (any mention of an auth table). */
export function touchesAuthTables(sql: string): boolean {
  return AUTH_TABLES.test(sql);
}

/** Enough for every device and key of a large deployment's active hour; a miss only costs the read. */
const MAX_ENTRIES = 50_000;

export class AuthReadCache {
  private readonly entries = new BoundedMap<string, unknown>(MAX_ENTRIES);
  /** Bumped by every clear, so a read that raced a write is not stored. */
  private generation = 0;
  private dataVersion: number | null = null;

  clear(): void {
    this.entries.clear();
    this.generation += 1;
  }

  /** The connection's data_version at the start of a read snapshot: a change means another connection committed. */
  checkDataVersion(version: number): void {
    if (version !== this.dataVersion) {
      if (this.dataVersion !== null) this.clear();
      this.dataVersion = version;
    }
  }

  /** The cached row, else load() (a row found is kept; "not found" is not, so it costs no memory per bad credential). */
  async read<T extends object>(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit as T;
    const generation = this.generation;
    const value = await load();
    if (value !== undefined && generation === this.generation) this.entries.set(key, value);
    return value;
  }
}

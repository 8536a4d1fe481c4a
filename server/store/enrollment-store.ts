/**
 * Enrollment codes in the database (schema 8): rows keyed by the code's HMAC,
 * never the code. Every state change is one conditional statement, so two
 * instances (or two requests) racing for one code cannot both win.
 * @module
 */
import type { SqlRunner, Store } from './types.js';

export interface EnrollmentCodeRow {
  codeHash: string;
  appId: string;
  username: string;
  usernameKey: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  usedBy: string | null;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));

function toRow(r: Record<string, unknown>): EnrollmentCodeRow {
  return {
    codeHash: String(r.code_hash),
    appId: String(r.app_id),
    username: String(r.username),
    usernameKey: String(r.username_key),
    createdAt: num(r.created_at),
    expiresAt: num(r.expires_at),
    usedAt: numOrNull(r.used_at),
    usedBy: r.used_by === null || r.used_by === undefined ? null : String(r.used_by),
  };
}

export class EnrollmentStore {
  private readonly db: SqlRunner;

  constructor(store: Store) {
    this.db = store.sql();
  }

  /** @returns false when a code with this hash exists (a 100-bit collision: the caller draws again) */
  async insert(row: Omit<EnrollmentCodeRow, 'usedAt' | 'usedBy'>): Promise<boolean> {
    const n = await this.db.run(
      `INSERT INTO enrollment_codes (code_hash, app_id, username, username_key, created_at, expires_at, used_at, used_by)
       VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL) ON CONFLICT (code_hash) DO NOTHING`,
      [row.codeHash, row.appId, row.username, row.usernameKey, row.createdAt, row.expiresAt],
    );
    return n > 0;
  }

  async get(codeHash: string): Promise<EnrollmentCodeRow | undefined> {
    const [r] = await this.db.all('SELECT * FROM enrollment_codes WHERE code_hash = $1', [codeHash]);
    return r && toRow(r);
  }

  /** Marks the code used by `by` if it is still unused and unexpired: true for exactly one caller. */
  async consume(codeHash: string, by: string, now: number): Promise<boolean> {
    const n = await this.db.run('UPDATE enrollment_codes SET used_at = $2, used_by = $3 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2', [codeHash, now, by]);
    return n > 0;
  }

  /** Gives a consumed code back when the registration it was consumed for failed after all. */
  async release(codeHash: string, by: string): Promise<void> {
    await this.db.run('UPDATE enrollment_codes SET used_at = NULL, used_by = NULL WHERE code_hash = $1 AND used_by = $2', [codeHash, by]);
  }

  /** Codes of an app, newest first (admin listing; hashes only). */
  async list(appId: string, limit = 1000): Promise<EnrollmentCodeRow[]> {
    const rows = await this.db.all('SELECT * FROM enrollment_codes WHERE app_id = $1 ORDER BY created_at DESC LIMIT $2', [appId, limit]);
    return rows.map(toRow);
  }

  /** Until when (ms) wrong codes have locked this user name of the app; 0 when not. */
  async lockedUntil(appId: string, usernameKey: string): Promise<number> {
    const [r] = await this.db.all('SELECT locked_until FROM enrollment_lockouts WHERE app_id = $1 AND username_key = $2', [appId, usernameKey]);
    return r ? num(r.locked_until) : 0;
  }

  /**
   * Counts one wrong code for (app, user name); once `limit` are counted the
   * name is locked until now + lockMs and the count starts again. Returns the
   * lock's end (0 while under the limit).
   */
  async recordFailure(appId: string, usernameKey: string, now: number, limit: number, lockMs: number): Promise<number> {
    // One upsert increments, so concurrent wrong codes are all counted.
    await this.db.run(
      `INSERT INTO enrollment_lockouts (app_id, username_key, failures, locked_until) VALUES ($1, $2, 1, 0)
       ON CONFLICT (app_id, username_key) DO UPDATE SET failures = enrollment_lockouts.failures + 1`,
      [appId, usernameKey],
    );
    const n = await this.db.run('UPDATE enrollment_lockouts SET failures = 0, locked_until = $3 WHERE app_id = $1 AND username_key = $2 AND failures >= $4', [
      appId,
      usernameKey,
      now + lockMs,
      limit,
    ]);
    return n > 0 ? now + lockMs : 0;
  }

  /** A successful registration clears the count. */
  async clearFailures(appId: string, usernameKey: string): Promise<void> {
    await this.db.run('UPDATE enrollment_lockouts SET failures = 0 WHERE app_id = $1 AND username_key = $2', [appId, usernameKey]);
  }
}

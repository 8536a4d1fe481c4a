/**
 * TOTP factors in the database (schema 8). The secret is stored sealed (the
 * caller seals it, server/totp/secret-box.ts); recovery codes as HMACs. Using a
 * time step and using a recovery code are single conditional updates, so a code
 * is accepted once however many requests or instances race with it.
 * @module
 */
import type { SqlRunner, Store } from './types.js';

export interface TotpFactorRow {
  appId: string;
  userId: string;
  sealedSecret: Buffer;
  createdAt: number;
  confirmedAt: number | null;
  lastStep: number;
  failures: number;
  lockedUntil: number;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

function toRow(r: Record<string, unknown>): TotpFactorRow {
  return {
    appId: String(r.app_id),
    userId: String(r.user_id),
    sealedSecret: Buffer.isBuffer(r.secret) ? r.secret : Buffer.from(r.secret as Uint8Array),
    createdAt: num(r.created_at),
    confirmedAt: r.confirmed_at === null || r.confirmed_at === undefined ? null : num(r.confirmed_at),
    lastStep: num(r.last_step),
    failures: num(r.failures),
    lockedUntil: num(r.locked_until),
  };
}

export class TotpStore {
  private readonly db: SqlRunner;

  constructor(store: Store) {
    this.db = store.sql();
  }

  async get(appId: string, userId: string): Promise<TotpFactorRow | undefined> {
    const [r] = await this.db.all('SELECT * FROM totp_factors WHERE app_id = $1 AND user_id = $2', [appId, userId]);
    return r && toRow(r);
  }

  /** A new unconfirmed secret, replacing an unconfirmed one; false when a confirmed factor exists. */
  async putPending(appId: string, userId: string, sealedSecret: Buffer, now: number): Promise<boolean> {
    const n = await this.db.run(
      `INSERT INTO totp_factors (app_id, user_id, secret, created_at, confirmed_at, last_step, failures, locked_until) VALUES ($1, $2, $3, $4, NULL, 0, 0, 0)
       ON CONFLICT (app_id, user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, last_step = 0
       WHERE totp_factors.confirmed_at IS NULL`,
      [appId, userId, sealedSecret, now],
    );
    return n > 0;
  }

  /** Records `step` as used if it is newer than every step used before: true for exactly one caller. */
  async useStep(appId: string, userId: string, step: number): Promise<boolean> {
    const n = await this.db.run('UPDATE totp_factors SET last_step = $3, failures = 0 WHERE app_id = $1 AND user_id = $2 AND last_step < $3', [appId, userId, step]);
    return n > 0;
  }

  /**
   * Turns a pending factor on with its recovery codes. The codes are written
   * first: a crash in between leaves a pending factor (set up again), never an
   * enabled one without recovery codes. The caller has used the confirming
   * code's step, so only one confirmation gets here.
   */
  async confirm(appId: string, userId: string, now: number, recoveryHashes: string[]): Promise<boolean> {
    await this.db.run('DELETE FROM totp_recovery_codes WHERE app_id = $1 AND user_id = $2', [appId, userId]);
    for (const h of recoveryHashes) {
      await this.db.run('INSERT INTO totp_recovery_codes (app_id, user_id, code_hash, used_at) VALUES ($1, $2, $3, NULL)', [appId, userId, h]);
    }
    const n = await this.db.run('UPDATE totp_factors SET confirmed_at = $3 WHERE app_id = $1 AND user_id = $2 AND confirmed_at IS NULL', [appId, userId, now]);
    return n > 0;
  }

  async remove(appId: string, userId: string): Promise<void> {
    await this.db.run('DELETE FROM totp_recovery_codes WHERE app_id = $1 AND user_id = $2', [appId, userId]);
    await this.db.run('DELETE FROM totp_factors WHERE app_id = $1 AND user_id = $2', [appId, userId]);
  }

  /** Marks an unused recovery code used: true for exactly one caller. */
  async useRecoveryCode(appId: string, userId: string, codeHash: string, now: number): Promise<boolean> {
    const n = await this.db.run('UPDATE totp_recovery_codes SET used_at = $4 WHERE app_id = $1 AND user_id = $2 AND code_hash = $3 AND used_at IS NULL', [
      appId,
      userId,
      codeHash,
      now,
    ]);
    return n > 0;
  }

  async recoveryCodesLeft(appId: string, userId: string): Promise<number> {
    const [r] = await this.db.all('SELECT COUNT(*) AS n FROM totp_recovery_codes WHERE app_id = $1 AND user_id = $2 AND used_at IS NULL', [appId, userId]);
    return r ? num(r.n) : 0;
  }

  /** Counts a wrong code; at `limit` the factor is locked until now + lockMs. Returns the lock's end (0 while under). */
  async recordFailure(appId: string, userId: string, now: number, limit: number, lockMs: number): Promise<number> {
    await this.db.run('UPDATE totp_factors SET failures = failures + 1 WHERE app_id = $1 AND user_id = $2', [appId, userId]);
    const n = await this.db.run('UPDATE totp_factors SET failures = 0, locked_until = $3 WHERE app_id = $1 AND user_id = $2 AND failures >= $4', [
      appId,
      userId,
      now + lockMs,
      limit,
    ]);
    return n > 0 ? now + lockMs : 0;
  }
}

/**
 * Recovery records (routes/recovery.ts): one per (app, username), holding
 * this instance's share of the backup key, the sealed backup and the hashes of
 * the check values, with a count of wrong checks and the lock it sets.
 * @module
 */
import { buf, bufOrNull, num, str, strOrNull, type SqlQueries } from './sql-row.js';
import type { RecoveryRow } from './types.js';

export async function getRecovery(q: SqlQueries, appId: string, usernameKey: string): Promise<RecoveryRow | undefined> {
  const r = await q.get('SELECT * FROM recovery_records WHERE app_id = $1 AND username_key = $2', [appId, usernameKey]);
  if (!r) return undefined;
  return {
    appId: str(r.app_id),
    usernameKey: str(r.username_key),
    identityKey: str(r.identity_key),
    share: buf(r.share),
    pinParams: strOrNull(r.pin_params),
    backup: bufOrNull(r.backup),
    pinCheckHash: bufOrNull(r.pin_check_hash),
    wordsCheckHash: bufOrNull(r.words_check_hash),
    escrow: strOrNull(r.escrow),
    failures: num(r.failures),
    lockedUntil: num(r.locked_until),
    updatedAt: num(r.updated_at),
  };
}

export async function putRecovery(q: SqlQueries, x: RecoveryRow): Promise<void> {
  await q.run(
    `INSERT INTO recovery_records (app_id, username_key, identity_key, share, pin_params, backup, pin_check_hash, words_check_hash, escrow, failures, locked_until, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (app_id, username_key) DO UPDATE SET identity_key = excluded.identity_key, share = excluded.share, pin_params = excluded.pin_params,
       backup = excluded.backup, pin_check_hash = excluded.pin_check_hash, words_check_hash = excluded.words_check_hash, escrow = excluded.escrow,
       failures = excluded.failures, locked_until = excluded.locked_until, updated_at = excluded.updated_at`,
    [x.appId, x.usernameKey, x.identityKey, x.share, x.pinParams, x.backup, x.pinCheckHash, x.wordsCheckHash, x.escrow, x.failures, x.lockedUntil, x.updatedAt],
  );
}

export async function recoveryFailed(q: SqlQueries, appId: string, usernameKey: string, lockedUntil: (failures: number) => number): Promise<number> {
  // One statement increments, so concurrent wrong checks are all counted.
  await q.run('UPDATE recovery_records SET failures = failures + 1 WHERE app_id = $1 AND username_key = $2', [appId, usernameKey]);
  const r = await q.get('SELECT failures FROM recovery_records WHERE app_id = $1 AND username_key = $2', [appId, usernameKey]);
  const failures = r ? num(r.failures) : 0;
  await q.run('UPDATE recovery_records SET locked_until = $3 WHERE app_id = $1 AND username_key = $2 AND locked_until < $3', [appId, usernameKey, lockedUntil(failures)]);
  return failures;
}

export async function recoverySucceeded(q: SqlQueries, appId: string, usernameKey: string): Promise<void> {
  await q.run('UPDATE recovery_records SET failures = 0, locked_until = 0 WHERE app_id = $1 AND username_key = $2', [appId, usernameKey]);
}

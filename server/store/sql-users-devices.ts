/**
 * Users (one per username in an app, bound to an identity by the first device
 * package), their devices, and their signed encryption-key changes.
 * @module
 */
import { num, numOrNull, str, strOrNull, type Row, type SqlQueries } from './sql-row.js';
import type { DeviceAuthRow, DeviceRow, KeyChangeRow, UserRow } from './types.js';

export const toUser = (r: Row): UserRow => ({
  id: str(r.id),
  appId: str(r.app_id),
  username: str(r.username),
  did: strOrNull(r.did),
  signingKey: strOrNull(r.signing_key),
  createdAt: num(r.created_at),
});

export const toDevice = (r: Row): DeviceRow => ({
  appId: str(r.app_id),
  deviceId: str(r.device_id),
  userId: str(r.user_id),
  packageJson: str(r.package),
  encryptionKey: str(r.encryption_key),
  fingerprint: str(r.fingerprint),
  createdAt: num(r.created_at),
  revokedAt: numOrNull(r.revoked_at),
});

/** deviceAuth's columns (devices d JOIN apps a) and row shape, shared with the PostgreSQL store's batched form. */
export const DEVICE_AUTH_COLUMNS = 'd.user_id, d.revoked_at, a.revoked_at AS app_revoked_at';
export function toDeviceAuth(r: Row): DeviceAuthRow {
  return { userId: str(r.user_id), revokedAt: numOrNull(r.revoked_at), appRevokedAt: numOrNull(r.app_revoked_at) };
}

export async function insertUserIfAbsent(q: SqlQueries, user: UserRow, usernameKey: string): Promise<UserRow> {
  await q.run(
    `INSERT INTO users (id, app_id, username, username_key, did, signing_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (app_id, username_key) DO NOTHING`,
    [user.id, user.appId, user.username, usernameKey, user.did, user.signingKey, user.createdAt],
  );
  const stored = await userByName(q, user.appId, usernameKey);
  if (!stored) throw new Error('user row vanished after insert');
  return stored;
}

export async function bindUserIdentity(q: SqlQueries, appId: string, userId: string, did: string, signingKey: string): Promise<UserRow> {
  await q.run('UPDATE users SET did = $3, signing_key = $4 WHERE app_id = $1 AND id = $2 AND did IS NULL', [appId, userId, did, signingKey]);
  const stored = await userById(q, appId, userId);
  if (!stored) throw new Error('user row vanished after update');
  return stored;
}

export async function userById(q: SqlQueries, appId: string, id: string): Promise<UserRow | undefined> {
  const r = await q.get('SELECT * FROM users WHERE app_id = $1 AND id = $2', [appId, id]);
  return r && toUser(r);
}

export async function userByName(q: SqlQueries, appId: string, usernameKey: string): Promise<UserRow | undefined> {
  const r = await q.get('SELECT * FROM users WHERE app_id = $1 AND username_key = $2', [appId, usernameKey]);
  return r && toUser(r);
}

export async function insertDeviceIfAbsent(q: SqlQueries, d: DeviceRow): Promise<DeviceRow> {
  await q.run(
    `INSERT INTO devices (app_id, device_id, user_id, package, encryption_key, fingerprint, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (app_id, device_id) DO NOTHING`,
    [d.appId, d.deviceId, d.userId, d.packageJson, d.encryptionKey, d.fingerprint, d.createdAt],
  );
  const r = await q.get('SELECT * FROM devices WHERE app_id = $1 AND device_id = $2', [d.appId, d.deviceId]);
  if (!r) throw new Error('device row vanished after insert');
  return toDevice(r);
}

export async function deviceAuth(q: SqlQueries, appId: string, deviceId: string): Promise<DeviceAuthRow | undefined> {
  const r = await q.get(`SELECT ${DEVICE_AUTH_COLUMNS} FROM devices d JOIN apps a ON a.id = d.app_id WHERE d.app_id = $1 AND d.device_id = $2`, [appId, deviceId]);
  return r && toDeviceAuth(r);
}

export async function devicesOfUser(q: SqlQueries, appId: string, userId: string): Promise<DeviceRow[]> {
  const rows = await q.all('SELECT * FROM devices WHERE app_id = $1 AND user_id = $2 ORDER BY created_at, device_id', [appId, userId]);
  return rows.map(toDevice);
}

export async function listDevices(q: SqlQueries, appId: string): Promise<DeviceRow[]> {
  const rows = await q.all('SELECT * FROM devices WHERE app_id = $1 ORDER BY created_at, device_id', [appId]);
  return rows.map(toDevice);
}

export async function revokeDevice(q: SqlQueries, appId: string, deviceId: string, at: number): Promise<boolean> {
  return (await q.run('UPDATE devices SET revoked_at = $3 WHERE app_id = $1 AND device_id = $2 AND revoked_at IS NULL', [appId, deviceId, at])) > 0;
}

export async function insertKeyChange(q: SqlQueries, appId: string, userId: string, k: Omit<KeyChangeRow, 'seq'>): Promise<boolean> {
  // seq from the rows already there; a concurrent insert with the same seq (or
  // the same old key) violates a unique key and is refused, never merged.
  try {
    await q.run(
      `INSERT INTO key_changes (app_id, user_id, seq, old_fingerprint, new_fingerprint, statement, created_at)
       VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM key_changes WHERE app_id = $1 AND user_id = $2), $3, $4, $5, $6)`,
      [appId, userId, k.oldFingerprint, k.newFingerprint, k.statementJson, k.createdAt],
    );
  } catch (error) {
    if (q.isUniqueViolation(error)) return false;
    throw error;
  }
  return true;
}

export async function keyChangesOfUser(q: SqlQueries, appId: string, userId: string): Promise<KeyChangeRow[]> {
  const rows = await q.all('SELECT * FROM key_changes WHERE app_id = $1 AND user_id = $2 ORDER BY seq', [appId, userId]);
  return rows.map((r) => ({
    seq: num(r.seq),
    oldFingerprint: str(r.old_fingerprint),
    newFingerprint: str(r.new_fingerprint),
    statementJson: str(r.statement),
    createdAt: num(r.created_at),
  }));
}

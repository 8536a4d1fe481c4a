/**
 * Server secrets and apps (the tenants: each has a server key and a client
 * key, stored as hashes).
 * @module
 */
import { num, str, numOrNull, type Row, type SqlQueries } from './sql-row.js';
import { UniqueViolation, type AppRow, type AppSummary, type NewApp } from './types.js';

export const toApp = (r: Row): AppRow => ({
  id: str(r.id),
  name: str(r.name),
  createdAt: num(r.created_at),
  revokedAt: numOrNull(r.revoked_at),
});

export async function getOrCreateSecret(q: SqlQueries, name: string, create: () => string): Promise<string> {
  await q.run('INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [name, create(), Date.now()]);
  const row = await q.get('SELECT value FROM server_secrets WHERE name = $1', [name]);
  if (!row) throw new Error(`server secret ${name} could not be stored`);
  return str(row.value);
}

export async function insertApp(q: SqlQueries, app: NewApp): Promise<void> {
  try {
    await q.run('INSERT INTO apps (id, name, server_key_hash, client_key_hash, created_at) VALUES ($1, $2, $3, $4, $5)', [
      app.id,
      app.name,
      app.serverKeyHash,
      app.clientKeyHash,
      app.createdAt,
    ]);
  } catch (error) {
    if (q.isUniqueViolation(error)) throw new UniqueViolation('an app with this id or key exists');
    throw error;
  }
}

export async function appByServerKeyHash(q: SqlQueries, hash: string): Promise<AppRow | undefined> {
  const r = await q.get('SELECT id, name, created_at, revoked_at FROM apps WHERE server_key_hash = $1', [hash]);
  return r && toApp(r);
}

export async function appByClientKeyHash(q: SqlQueries, hash: string): Promise<AppRow | undefined> {
  const r = await q.get('SELECT id, name, created_at, revoked_at FROM apps WHERE client_key_hash = $1', [hash]);
  return r && toApp(r);
}

export async function getApp(q: SqlQueries, id: string): Promise<AppRow | undefined> {
  const r = await q.get('SELECT id, name, created_at, revoked_at FROM apps WHERE id = $1', [id]);
  return r && toApp(r);
}

export async function listApps(q: SqlQueries): Promise<AppSummary[]> {
  const rows = await q.all(
    `SELECT a.id, a.name, a.created_at, a.revoked_at,
      (SELECT COUNT(*) FROM users u WHERE u.app_id = a.id) AS users,
      (SELECT COUNT(*) FROM devices d WHERE d.app_id = a.id) AS devices
     FROM apps a ORDER BY a.created_at, a.id`,
  );
  return rows.map((r) => ({ ...toApp(r), users: num(r.users), devices: num(r.devices) }));
}

export async function revokeApp(q: SqlQueries, id: string, at: number): Promise<boolean> {
  return (await q.run('UPDATE apps SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [id, at])) > 0;
}

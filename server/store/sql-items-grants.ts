/**
 * Vault items (versioned ciphertext with the owner's wrapped key) and the
 * grants that share them, with the revocations remembered so a user who lost
 * access is told so (403) rather than that the item does not exist (404).
 * @module
 */
import { buf, bufOrNull, num, str, type Row, type SqlQueries } from './sql-row.js';
import type { GrantRow, ItemRow, SharedItemRow } from './types.js';

export const toItem = (r: Row): ItemRow => ({
  appId: str(r.app_id),
  identifier: str(r.identifier),
  ownerId: str(r.owner_id),
  version: num(r.version),
  data: buf(r.data),
  ownerWrappedKey: bufOrNull(r.owner_wrapped_key),
  createdAt: num(r.created_at),
  updatedAt: num(r.updated_at),
});

export const toGrant = (r: Row): GrantRow => ({
  identifier: str(r.identifier),
  userId: str(r.user_id),
  role: str(r.role) as GrantRow['role'],
  wrappedKey: buf(r.wrapped_key),
  grantedAt: num(r.granted_at),
});

export async function getItem(q: SqlQueries, appId: string, identifier: string): Promise<ItemRow | undefined> {
  const r = await q.get('SELECT * FROM items WHERE app_id = $1 AND identifier = $2', [appId, identifier]);
  return r && toItem(r);
}

export async function createItem(q: SqlQueries, i: ItemRow): Promise<boolean> {
  const changes = await q.run(
    `INSERT INTO items (app_id, identifier, owner_id, version, data, owner_wrapped_key, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (app_id, identifier) DO NOTHING`,
    [i.appId, i.identifier, i.ownerId, i.version, i.data, i.ownerWrappedKey, i.createdAt, i.updatedAt],
  );
  return changes === 1;
}

export async function updateItem(
  q: SqlQueries,
  appId: string,
  identifier: string,
  expectedVersion: number,
  data: Buffer,
  wrappedKey: Buffer | null,
  at: number,
): Promise<number | null> {
  const r = await q.get(
    `UPDATE items SET data = $4, version = version + 1, owner_wrapped_key = COALESCE($5, owner_wrapped_key), updated_at = $6
     WHERE app_id = $1 AND identifier = $2 AND version = $3 RETURNING version`,
    [appId, identifier, expectedVersion, data, wrappedKey, at],
  );
  return r ? num(r.version) : null;
}

export async function deleteItem(q: SqlQueries, appId: string, identifier: string): Promise<boolean> {
  return (await q.run('DELETE FROM items WHERE app_id = $1 AND identifier = $2', [appId, identifier])) > 0;
}

export async function listOwnItems(q: SqlQueries, appId: string, ownerId: string, after: string, limit: number): Promise<ItemRow[]> {
  const rows = await q.all('SELECT * FROM items WHERE app_id = $1 AND owner_id = $2 AND identifier > $3 ORDER BY identifier LIMIT $4', [appId, ownerId, after, limit]);
  return rows.map(toItem);
}

export async function listSharedItems(q: SqlQueries, appId: string, userId: string, after: string, limit: number): Promise<SharedItemRow[]> {
  const rows = await q.all(
    `SELECT i.*, g.role AS grant_role, g.wrapped_key AS grant_wrapped_key FROM grants g
     JOIN items i ON i.app_id = g.app_id AND i.identifier = g.identifier
     WHERE g.app_id = $1 AND g.user_id = $2 AND g.identifier > $3 ORDER BY g.identifier LIMIT $4`,
    [appId, userId, after, limit],
  );
  return rows.map((r) => ({ ...toItem(r), role: str(r.grant_role) as SharedItemRow['role'], grantWrappedKey: buf(r.grant_wrapped_key) }));
}

export async function getGrant(q: SqlQueries, appId: string, identifier: string, userId: string): Promise<GrantRow | undefined> {
  const r = await q.get('SELECT * FROM grants WHERE app_id = $1 AND identifier = $2 AND user_id = $3', [appId, identifier, userId]);
  return r && toGrant(r);
}

export async function listGrants(q: SqlQueries, appId: string, identifier: string): Promise<GrantRow[]> {
  const rows = await q.all('SELECT * FROM grants WHERE app_id = $1 AND identifier = $2 ORDER BY user_id', [appId, identifier]);
  return rows.map(toGrant);
}

/** One statement, so a set of grants lands all together or not at all. Callers pass distinct user ids. */
export async function upsertGrants(q: SqlQueries, appId: string, identifier: string, grants: GrantRow[]): Promise<void> {
  if (grants.length === 0) return;
  const params: unknown[] = [];
  const values = grants.map((g) => {
    const base = params.length;
    params.push(appId, identifier, g.userId, g.role, g.wrappedKey, g.grantedAt);
    return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6})`;
  });
  await q.run(
    `INSERT INTO grants (app_id, identifier, user_id, role, wrapped_key, granted_at) VALUES ${values.join(', ')}
     ON CONFLICT (app_id, identifier, user_id) DO UPDATE SET role = excluded.role, wrapped_key = excluded.wrapped_key, granted_at = excluded.granted_at`,
    params,
  );
  // Granted again: no longer revoked.
  const list = grants.map((_, i) => `$${i + 3}`).join(', ');
  await q.run(`DELETE FROM grant_revocations WHERE app_id = $1 AND identifier = $2 AND user_id IN (${list})`, [appId, identifier, ...grants.map((g) => g.userId)]);
}

export async function deleteGrants(q: SqlQueries, appId: string, identifier: string, userIds: string[], at = Date.now()): Promise<number> {
  if (userIds.length === 0) return 0;
  const list = userIds.map((_, i) => `$${i + 3}`).join(', ');
  // Remembered only for users who had a grant: strangers keep getting 404.
  const had = (await q.all(`SELECT user_id FROM grants WHERE app_id = $1 AND identifier = $2 AND user_id IN (${list})`, [appId, identifier, ...userIds])).map((r) => str(r.user_id));
  const removed = await q.run(`DELETE FROM grants WHERE app_id = $1 AND identifier = $2 AND user_id IN (${list})`, [appId, identifier, ...userIds]);
  if (had.length > 0) {
    const params: unknown[] = [appId, identifier, at];
    const values = had.map((u) => {
      params.push(u);
      return `($1, $2, $${params.length}, $3)`;
    });
    await q.run(
      `INSERT INTO grant_revocations (app_id, identifier, user_id, revoked_at) VALUES ${values.join(', ')}
       ON CONFLICT (app_id, identifier, user_id) DO UPDATE SET revoked_at = excluded.revoked_at`,
      params,
    );
  }
  return removed;
}

export async function grantsChangedAt(q: SqlQueries, appId: string, identifiers: string[]): Promise<Map<string, number>> {
  if (identifiers.length === 0) return new Map();
  const list = identifiers.map((_, i) => `$${i + 2}`).join(', ');
  const rows = await q.all(
    `SELECT identifier, MAX(t) AS t FROM (
       SELECT identifier, granted_at AS t FROM grants WHERE app_id = $1 AND identifier IN (${list})
       UNION ALL
       SELECT identifier, revoked_at AS t FROM grant_revocations WHERE app_id = $1 AND identifier IN (${list})
     ) changes GROUP BY identifier`,
    [appId, ...identifiers],
  );
  return new Map(rows.map((r) => [str(r.identifier), num(r.t)]));
}

export async function revokedAt(q: SqlQueries, appId: string, identifier: string, userId: string): Promise<number | null> {
  const r = await q.get('SELECT revoked_at FROM grant_revocations WHERE app_id = $1 AND identifier = $2 AND user_id = $3', [appId, identifier, userId]);
  return r ? num(r.revoked_at) : null;
}

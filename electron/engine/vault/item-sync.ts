/**
 * What the vault knows about an item's life on the key service (sharing,
 * docs/sharing.md): the service's version counter the next PUT is based on,
 * our role, who shared it with us and when, whether our access was revoked;
 * grant roles and whether each wrapped key reached the service; grant
 * removals still to be sent. Ciphertext and keys stay in items.ts and
 * item-keys.ts; nothing here is secret.
 * @module
 */
import { z } from 'zod';
import { checkInput, col, type Db, input, parseRow, parseRows, stmt } from './_sql.js';

export type ItemRole = 'owner' | 'read' | 'edit';
export type GrantRole = 'read' | 'edit';

export interface ItemSyncState {
  identifier: string;
  remoteVersion: number;
  role: ItemRole;
  sharedBy: string | null;
  sharedByName: string | null;
  sharedAt: number | null;
  revokedAt: number | null;
  ownerUserId: string | null;
  /** The key service's grantsChangedAt (ms) last applied here, for own items. */
  grantsSeen: number | null;
}

const Row = z
  .object({
    identifier: col.text,
    remote_version: col.int.nonnegative(),
    role: z.enum(['owner', 'read', 'edit']),
    shared_by: col.text.nullable(),
    shared_by_name: col.text.nullable(),
    shared_at: col.ms.nullable(),
    revoked_at: col.ms.nullable(),
    owner_user_id: col.text.nullable(),
    grants_seen: col.ms.nullable(),
  })
  .transform(
    (r): ItemSyncState => ({
      identifier: r.identifier,
      remoteVersion: r.remote_version,
      role: r.role,
      sharedBy: r.shared_by,
      sharedByName: r.shared_by_name,
      sharedAt: r.shared_at,
      revokedAt: r.revoked_at,
      ownerUserId: r.owner_user_id,
      grantsSeen: r.grants_seen,
    }),
  );

/** The item's sync state; an item never synced is ours at remote version 0. @throws {VaultError} 'corrupt-row' */
export function getItemSync(db: Db, identifier: string): ItemSyncState {
  const row = stmt(db, 'SELECT * FROM item_sync WHERE identifier = ?').get(identifier);
  if (row === undefined) return { identifier, remoteVersion: 0, role: 'owner', sharedBy: null, sharedByName: null, sharedAt: null, revokedAt: null, ownerUserId: null, grantsSeen: null };
  return parseRow(Row, row, 'item_sync');
}

/** @throws {VaultError} 'corrupt-row' */
export function listItemSync(db: Db): ItemSyncState[] {
  return parseRows(Row, stmt(db, 'SELECT * FROM item_sync ORDER BY identifier').all(), 'item_sync');
}

const Patch = z
  .object({
    remoteVersion: input.version.optional(),
    role: z.enum(['owner', 'read', 'edit']).optional(),
    sharedBy: z.string().max(200).nullable().optional(),
    sharedByName: z.string().max(200).nullable().optional(),
    sharedAt: input.ms.nullable().optional(),
    revokedAt: input.ms.nullable().optional(),
    ownerUserId: z.string().max(200).nullable().optional(),
    grantsSeen: input.ms.nullable().optional(),
  })
  .strict();

/** Creates or updates the item's sync state (the item must exist). @throws {VaultError} 'invalid-input' */
export function updateItemSync(db: Db, identifier: string, patch: z.input<typeof Patch>): ItemSyncState {
  const p = checkInput(Patch, patch, 'item sync state');
  const next = { ...getItemSync(db, identifier), ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) } as ItemSyncState;
  stmt(
    db,
    `INSERT INTO item_sync (identifier, remote_version, role, shared_by, shared_by_name, shared_at, revoked_at, owner_user_id, grants_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (identifier) DO UPDATE SET remote_version = excluded.remote_version, role = excluded.role, shared_by = excluded.shared_by,
       shared_by_name = excluded.shared_by_name, shared_at = excluded.shared_at, revoked_at = excluded.revoked_at, owner_user_id = excluded.owner_user_id,
       grants_seen = excluded.grants_seen`,
  ).run(identifier, next.remoteVersion, next.role, next.sharedBy, next.sharedByName, next.sharedAt, next.revokedAt, next.ownerUserId, next.grantsSeen);
  return next;
}

export interface GrantState {
  grantee: string;
  role: GrantRole;
  synced: boolean;
}

const GrantRow = z
  .object({ grantee: col.text, role: z.enum(['read', 'edit']), synced: col.bool })
  .transform((r): GrantState => ({ grantee: r.grantee, role: r.role, synced: r.synced }));

/** Role and sync flag of every wrapped key of the item (owner's row included). */
export function listGrantStates(db: Db, identifier: string): GrantState[] {
  return parseRows(GrantRow, stmt(db, 'SELECT grantee, role, synced FROM item_keys WHERE identifier = ? ORDER BY grantee').all(identifier), 'item_keys');
}

/** Sets a grantee's role; the grant is sent to the key service again. */
export function setGrantRole(db: Db, identifier: string, grantee: string, role: GrantRole): boolean {
  return stmt(db, 'UPDATE item_keys SET role = ?, synced = 0 WHERE identifier = ? AND grantee = ?').run(checkInput(z.enum(['read', 'edit']), role, 'role'), identifier, grantee).changes > 0;
}

/** The key service has these grants as they are now. */
export function markGrantsSynced(db: Db, identifier: string, grantees: readonly string[]): void {
  const s = stmt(db, 'UPDATE item_keys SET synced = 1 WHERE identifier = ? AND grantee = ?');
  db.transaction(() => {
    for (const g of grantees) s.run(identifier, g);
  })();
}

/** Items with grants the key service does not have yet. */
export function itemsWithUnsyncedGrants(db: Db): string[] {
  return (stmt(db, 'SELECT DISTINCT identifier FROM item_keys WHERE synced = 0 ORDER BY identifier').all() as Array<{ identifier: string }>).map((r) => r.identifier);
}

/** Queues removal of grants on the key service (revoke). */
export function queueGrantRemovals(db: Db, identifier: string, userIds: readonly string[], now: number): void {
  const s = stmt(db, 'INSERT OR IGNORE INTO grant_removals (identifier, user_id, created_at) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (const u of userIds) s.run(identifier, u, now);
  })();
}

export function listGrantRemovals(db: Db): Array<{ identifier: string; userId: string }> {
  return (stmt(db, 'SELECT identifier, user_id FROM grant_removals ORDER BY identifier, user_id').all() as Array<{ identifier: string; user_id: string }>).map((r) => ({
    identifier: r.identifier,
    userId: r.user_id,
  }));
}

export function clearGrantRemovals(db: Db, identifier: string, userIds: readonly string[]): void {
  const s = stmt(db, 'DELETE FROM grant_removals WHERE identifier = ? AND user_id = ?');
  db.transaction(() => {
    for (const u of userIds) s.run(identifier, u);
  })();
}

/** Whether the user removed a grant here that may still be pending on the key service. */
export function hasPendingRemoval(db: Db, identifier: string, userId: string): boolean {
  return stmt(db, 'SELECT 1 FROM grant_removals WHERE identifier = ? AND user_id = ?').get(identifier, userId) !== undefined;
}

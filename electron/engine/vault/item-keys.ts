/**
 * An item's data key wrapped (RSA-OAEP) for each user who may open it, owner
 * included. Revoking rotates the data key: the caller re-seals the item and
 * replaces the whole set with {@link replaceItemKeys} in one transaction.
 * @module
 */
import { z } from 'zod';
import { checkInput, col, type Db, input, parseRows, stmt } from './_sql.js';

export interface ItemKey {
  identifier: string;
  grantee: string;
  keyId: string;
  wrapped: Uint8Array;
  grantedAt: number;
}

const Row = z
  .object({ identifier: col.text, grantee: col.text, key_id: col.text, wrapped: col.blob, granted_at: col.ms })
  .transform((r): ItemKey => ({ identifier: r.identifier, grantee: r.grantee, keyId: r.key_id, wrapped: r.wrapped, grantedAt: r.granted_at }));

const KeyInput = z.object({ grantee: input.userId, keyId: z.string().min(1).max(200), wrapped: input.bytes });
export type ItemKeyInput = z.input<typeof KeyInput>;

/**
 * Adds or replaces the grantee's wrapped key (the item must exist).
 * @throws {VaultError} 'invalid-input'; SQLite FOREIGN KEY error for an unknown item
 */
export function putItemKey(db: Db, identifier: string, key: ItemKeyInput, now: number): void {
  const k = checkInput(KeyInput, key, 'item key');
  stmt(
    db,
    `INSERT INTO item_keys (identifier, grantee, key_id, wrapped, granted_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (identifier, grantee) DO UPDATE SET key_id = excluded.key_id, wrapped = excluded.wrapped, granted_at = excluded.granted_at`,
  ).run(checkInput(input.id, identifier, 'identifier'), k.grantee, k.keyId, k.wrapped, now);
}

/** @throws {VaultError} 'corrupt-row' */
export function listItemKeys(db: Db, identifier: string): ItemKey[] {
  return parseRows(Row, stmt(db, 'SELECT * FROM item_keys WHERE identifier = ? ORDER BY grantee').all(identifier), 'item_keys');
}

export function deleteItemKey(db: Db, identifier: string, grantee: string): boolean {
  return stmt(db, 'DELETE FROM item_keys WHERE identifier = ? AND grantee = ?').run(identifier, grantee).changes > 0;
}

/**
 * Replaces every wrapped key of an item at once (after a rotation): all or nothing.
 * @throws {VaultError} 'invalid-input'
 */
export function replaceItemKeys(db: Db, identifier: string, keys: readonly ItemKeyInput[], now: number): void {
  db.transaction(() => {
    stmt(db, 'DELETE FROM item_keys WHERE identifier = ?').run(identifier);
    for (const key of keys) putItemKey(db, identifier, key, now);
  })();
}

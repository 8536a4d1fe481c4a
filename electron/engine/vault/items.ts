/**
 * Encrypted vault items (ciphertext from crypto/item-crypto.ts; this module never
 * sees plaintext) with optimistic versions, and the revisions kept beside them.
 *
 * - putItem: a local edit. The caller states the version it edited
 *   (expectedVersion; null for a new item) and the new, higher version; a mismatch
 *   is 'conflict'. The replaced revision is kept ('superseded'; newest
 *   {@link KEEP_SUPERSEDED} per item).
 * - applyRemoteItem: a revision pulled from the key service. When the local copy
 *   has unsynced edits (dirty) the remote one is stored as a 'conflict' revision
 *   and both stay until the user chooses (design §5: never drop one silently).
 * @module
 */
import { z } from 'zod';
import { checkInput, col, type Db, input, parseRow, parseRows, stmt } from './_sql.js';
import { VaultError } from './errors.js';

/** Superseded revisions kept per item. */
export const KEEP_SUPERSEDED = 20;

export interface Item {
  identifier: string;
  version: number;
  ciphertext: Uint8Array;
  owner: string;
  updatedAt: number;
  deleted: boolean;
  /** A local change the key service has not acknowledged yet. */
  dirty: boolean;
}

export interface ItemRevision {
  id: number;
  identifier: string;
  version: number;
  ciphertext: Uint8Array;
  owner: string;
  updatedAt: number;
  deleted: boolean;
  kind: 'superseded' | 'conflict';
  recordedAt: number;
  resolved: boolean;
}

const ItemRow = z
  .object({
    identifier: col.text,
    version: col.int.nonnegative(),
    ciphertext: col.blob,
    owner: col.text,
    updated_at: col.ms,
    deleted: col.bool,
    dirty: col.bool,
  })
  .transform(
    (r): Item => ({
      identifier: r.identifier,
      version: r.version,
      ciphertext: r.ciphertext,
      owner: r.owner,
      updatedAt: r.updated_at,
      deleted: r.deleted,
      dirty: r.dirty,
    }),
  );

const RevisionRow = z
  .object({
    id: col.int.positive(),
    identifier: col.text,
    version: col.int.nonnegative(),
    ciphertext: col.blob,
    owner: col.text,
    updated_at: col.ms,
    deleted: col.bool,
    kind: z.enum(['superseded', 'conflict']),
    recorded_at: col.ms,
    resolved: col.bool,
  })
  .transform(
    (r): ItemRevision => ({
      id: r.id,
      identifier: r.identifier,
      version: r.version,
      ciphertext: r.ciphertext,
      owner: r.owner,
      updatedAt: r.updated_at,
      deleted: r.deleted,
      kind: r.kind,
      recordedAt: r.recorded_at,
      resolved: r.resolved,
    }),
  );

const ItemInput = z.object({
  identifier: input.id,
  version: input.version,
  ciphertext: input.bytes,
  owner: input.userId,
  deleted: z.boolean().default(false),
});
export type ItemInput = z.input<typeof ItemInput>;

/** @throws {VaultError} 'corrupt-row' */
export function getItem(db: Db, identifier: string): Item | null {
  const row = stmt(db, 'SELECT * FROM items WHERE identifier = ?').get(identifier);
  return row === undefined ? null : parseRow(ItemRow, row, 'items');
}

/** @throws {VaultError} 'corrupt-row' */
export function listItems(db: Db, q: { includeDeleted?: boolean; dirtyOnly?: boolean } = {}): Item[] {
  const where = [q.includeDeleted ? null : 'deleted = 0', q.dirtyOnly ? 'dirty = 1' : null].filter(Boolean);
  const sql = `SELECT * FROM items${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY identifier`;
  return parseRows(ItemRow, stmt(db, sql).all(), 'items');
}

/**
 * A local create/edit/delete (deleted: true = tombstone). Marks the item dirty.
 * @throws {VaultError} 'conflict' when the stored version is not `expectedVersion`
 *   (null = must not exist); 'invalid-input' when `version` is not above it
 */
export function putItem(db: Db, item: ItemInput, opts: { expectedVersion: number | null; now: number }): Item {
  const v = checkInput(ItemInput, item, 'item');
  const now = checkInput(input.ms, opts.now, 'now');
  return db
    .transaction(() => {
      const current = getItem(db, v.identifier);
      if ((current?.version ?? null) !== opts.expectedVersion) {
        throw new VaultError('conflict', `item ${v.identifier} is at version ${current?.version ?? 'none'}, not ${opts.expectedVersion ?? 'none'}`);
      }
      if (current && v.version <= current.version) throw new VaultError('invalid-input', 'a new version must be greater than the stored one');
      if (current) keepRevision(db, current, 'superseded', now);
      write(db, v, now, true);
      return getItem(db, v.identifier)!;
    })
    .immediate();
}

export type RemoteOutcome = 'inserted' | 'updated' | 'stale' | 'conflict';

/**
 * A revision from the key service. 'inserted'/'updated': stored as current (the
 * replaced one kept as superseded); 'stale': not newer, ignored; 'conflict': the
 * local copy has unsynced edits, so the remote revision is kept as an open
 * conflict and the local one stays current.
 * @throws {VaultError} 'invalid-input'
 */
export function applyRemoteItem(db: Db, item: ItemInput, now: number): RemoteOutcome {
  const v = checkInput(ItemInput, item, 'item');
  return db
    .transaction((): RemoteOutcome => {
      const current = getItem(db, v.identifier);
      if (!current) {
        write(db, v, now, false);
        return 'inserted';
      }
      if (current.dirty) {
        if (current.version === v.version && Buffer.from(current.ciphertext).equals(v.ciphertext)) {
          markItemSynced(db, v.identifier, v.version);
          return 'stale';
        }
        keepRevision(db, { ...v, updatedAt: now }, 'conflict', now);
        return 'conflict';
      }
      if (v.version <= current.version) return 'stale';
      keepRevision(db, current, 'superseded', now);
      write(db, v, now, false);
      return 'updated';
    })
    .immediate();
}

/** The key service acknowledged `version`: clears dirty if that is still the current version. */
export function markItemSynced(db: Db, identifier: string, version: number): boolean {
  return stmt(db, 'UPDATE items SET dirty = 0 WHERE identifier = ? AND version = ?').run(identifier, version).changes > 0;
}

/** Prior revisions of one item, newest first. @throws {VaultError} 'corrupt-row' */
export function listRevisions(db: Db, identifier: string): ItemRevision[] {
  return parseRows(RevisionRow, stmt(db, 'SELECT * FROM item_revisions WHERE identifier = ? ORDER BY id DESC').all(identifier), 'item_revisions');
}

/** Open conflicts over all items, oldest first. @throws {VaultError} 'corrupt-row' */
export function listConflicts(db: Db): ItemRevision[] {
  return parseRows(RevisionRow, stmt(db, `SELECT * FROM item_revisions WHERE kind = 'conflict' AND resolved = 0 ORDER BY id`).all(), 'item_revisions');
}

/**
 * Closes a conflict once the user chose (the chosen content is written with
 * putItem by the caller, re-sealed for the next version). The revision is kept.
 */
export function resolveConflict(db: Db, revisionId: number): boolean {
  return stmt(db, `UPDATE item_revisions SET resolved = 1 WHERE id = ? AND kind = 'conflict'`).run(revisionId).changes > 0;
}

/** Removes an item, its revisions and keys entirely (after the key service deleted it). */
export function purgeItem(db: Db, identifier: string): boolean {
  return stmt(db, 'DELETE FROM items WHERE identifier = ?').run(identifier).changes > 0;
}

function write(db: Db, v: z.output<typeof ItemInput>, now: number, dirty: boolean): void {
  stmt(
    db,
    `INSERT INTO items (identifier, version, ciphertext, owner, updated_at, deleted, dirty) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (identifier) DO UPDATE SET version = excluded.version, ciphertext = excluded.ciphertext, owner = excluded.owner,
       updated_at = excluded.updated_at, deleted = excluded.deleted, dirty = excluded.dirty`,
  ).run(v.identifier, v.version, v.ciphertext, v.owner, now, v.deleted ? 1 : 0, dirty ? 1 : 0);
}

function keepRevision(
  db: Db,
  r: { identifier: string; version: number; ciphertext: Uint8Array; owner: string; updatedAt: number; deleted: boolean },
  kind: 'superseded' | 'conflict',
  now: number,
): void {
  stmt(
    db,
    `INSERT INTO item_revisions (identifier, version, ciphertext, owner, updated_at, deleted, kind, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(r.identifier, r.version, r.ciphertext, r.owner, r.updatedAt, r.deleted ? 1 : 0, kind, now);
  if (kind === 'superseded') {
    stmt(
      db,
      `DELETE FROM item_revisions WHERE identifier = ? AND kind = 'superseded' AND id NOT IN
         (SELECT id FROM item_revisions WHERE identifier = ? AND kind = 'superseded' ORDER BY id DESC LIMIT ?)`,
    ).run(r.identifier, r.identifier, KEEP_SUPERSEDED);
  }
}

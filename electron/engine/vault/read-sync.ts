/**
 * Read state across our own devices in the vault (docs/sync.md "Read on our
 * other devices"). Every device of an account opens the same envelopes from the
 * same inbox, so each keeps the same digest for an incoming message
 * (message_info.digest): a read sync from our other device names the ones it
 * marked read by that digest, and this device marks its copies read.
 * @module
 */
import { type Db, stmt } from './_sql.js';
import { MAX_RECEIPT_DIGESTS, type ReadTargetInput, type UnreadIncoming, unreadIncoming } from './receipts.js';

/** The digests a read sync names for `rows`: any opened sender's (our other devices hold the same), once each. */
export const readSyncDigestsOf = (rows: readonly UnreadIncoming[]): string[] => [...new Set(rows.map((r) => r.digest))];

/** The digests of the unread incoming messages a markRead of `target` will change. */
export const readSyncDigests = (db: Db, target: ReadTargetInput): string[] => readSyncDigestsOf(unreadIncoming(db, target));

/**
 * Marks read our incoming messages whose digest is among `digests` (at most
 * MAX_RECEIPT_DIGESTS are looked at) and are still unread. A digest we do not
 * hold (not pulled yet, or never ours) marks nothing; an outgoing row is never
 * touched. Returns the ids of rows that changed.
 */
export function markReadFromSync(db: Db, digests: readonly string[]): number[] {
  const wanted = [...new Set(digests)].slice(0, MAX_RECEIPT_DIGESTS);
  if (wanted.length === 0) return [];
  return db.transaction(() => {
    const find = stmt(db, `SELECT m.id FROM message_info i JOIN messages m ON m.id = i.message_id WHERE i.digest = ? AND m.direction = 'in' AND m.read = 0`);
    const mark = stmt(db, `UPDATE messages SET read = 1 WHERE id = ? AND read = 0`);
    const changed: number[] = [];
    for (const d of wanted) {
      for (const row of find.all(d) as { id: number }[]) if (mark.run(row.id).changes > 0) changed.push(row.id);
    }
    return changed;
  })();
}

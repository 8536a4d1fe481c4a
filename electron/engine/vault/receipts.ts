/**
 * Read receipts in the vault (migration 7; docs/sync.md "Read receipts").
 *
 * Both sides name a message by the SHA-256 of its sealed envelope as it
 * travels: a recipient stores it as message_info.digest when it opens the
 * message, the sender as messages.sent_digest when it writes it. A receipt from
 * user U naming digest D marks read only our outgoing copy addressed to U with
 * that digest, so nobody can mark read a message they were not sent.
 * @module
 */
import { checkInput, type Db, input, stmt } from './_sql.js';

/** Digests one receipt may name (the composer cuts longer lists into several receipts). */
export const MAX_RECEIPT_DIGESTS = 500;

/** Rows of sent messages filled with their digest per transaction when a receipt needs them. */
const BACKFILL_BATCH = 500;

/** Records the digest of an outgoing row as it is written. */
export function setSentDigest(db: Db, messageId: number, digest: string): void {
  stmt(db, 'UPDATE messages SET sent_digest = ? WHERE id = ? AND direction = ?').run(digest, messageId, 'out');
}

/**
 * Fills the digest of outgoing rows written before migration 7, from their
 * envelopes (`digestOf` is crypto's wireDigest; a row whose envelope does not
 * parse gets no digest and is never marked read). Returns the rows filled.
 */
export function backfillSentDigests(db: Db, digestOf: (envelope: Uint8Array) => string): number {
  let filled = 0;
  for (;;) {
    const rows = stmt(db, `SELECT id, envelope FROM messages WHERE direction = 'out' AND sent_digest IS NULL ORDER BY id LIMIT ?`).all(BACKFILL_BATCH) as {
      id: number;
      envelope: Uint8Array;
    }[];
    if (rows.length === 0) return filled;
    db.transaction(() => {
      for (const r of rows) {
        let digest: string;
        try {
          digest = digestOf(r.envelope);
        } catch {
          digest = '0'.repeat(64); // unparseable: a value no receipt names, so it is not scanned again
        }
        stmt(db, 'UPDATE messages SET sent_digest = ? WHERE id = ?').run(digest, r.id);
      }
    })();
    filled += rows.length;
    if (rows.length < BACKFILL_BATCH) return filled;
  }
}

/** True when outgoing rows from before migration 7 still lack a digest (the partial index answers; backfillSentDigests asks the same first). */
export function hasUndigested(db: Db): boolean {
  return stmt(db, `SELECT 1 FROM messages WHERE direction = 'out' AND sent_digest IS NULL LIMIT 1`).get() !== undefined;
}

/**
 * Marks read our copies sent to `reader` whose digest is among `digests`, at
 * `at` (kept within the message's own time and now, so a receipt cannot date a
 * read before the message was written). Returns the ids of rows that changed.
 */
export function markReadBy(db: Db, v: { reader: string; digests: readonly string[]; at: number; now: number }): number[] {
  const reader = checkInput(input.userId, v.reader, 'reader');
  const digests = [...new Set(v.digests)].slice(0, MAX_RECEIPT_DIGESTS);
  if (digests.length === 0) return [];
  return db.transaction(() => {
    const find = stmt(db, `SELECT id, created_at FROM messages WHERE sent_digest = ? AND direction = 'out' AND peer = ?`);
    const mark = stmt(db, `UPDATE message_info SET read_at = ? WHERE message_id = ? AND read_at IS NULL`);
    const changed: number[] = [];
    for (const d of digests) {
      for (const row of find.all(d, reader) as { id: number; created_at: number }[]) {
        const at = Math.min(Math.max(v.at, row.created_at), v.now);
        if (mark.run(at, row.id).changes > 0) changed.push(row.id);
      }
    }
    return changed;
  })();
}

/** An incoming message about to be marked read that a receipt may name. */
export interface ReadTarget {
  id: number;
  /** The sender's user id. */
  peer: string;
  digest: string;
}

/** What a markRead marks: messages by id, one person's, or one conversation's. */
export type ReadTargetInput = { ids: readonly number[] } | { peer: string } | { thread: string };

/** An unread incoming message a markRead will change, with its digest and how its sender checked out. */
export interface UnreadIncoming extends ReadTarget {
  sender: string;
}

/**
 * The unread incoming messages a markRead of `target` will change that have a
 * digest (opened; a rejected one has none). Read in the same transaction as the
 * marking; receipts and the read sync are both cut from this one read.
 */
export function unreadIncoming(db: Db, target: ReadTargetInput): UnreadIncoming[] {
  const base = `SELECT m.id, m.peer, i.digest, i.sender FROM messages m JOIN message_info i ON i.message_id = m.id
    WHERE m.direction = 'in' AND m.read = 0 AND i.digest IS NOT NULL`;
  if ('peer' in target) return stmt(db, `${base} AND m.peer = ?`).all(target.peer) as UnreadIncoming[];
  if ('thread' in target) return stmt(db, `${base} AND (m.thread = ? OR (m.thread IS NULL AND m.peer = ?))`).all(target.thread, target.thread) as UnreadIncoming[];
  const one = stmt(db, `${base} AND m.id = ?`);
  return target.ids.flatMap((id) => one.all(id) as UnreadIncoming[]);
}

/** Senders a receipt may go to: ones the directory checked (not 'unknown', not rejected). */
const RECEIPTED = new Set(['verified', 'unverified', 'key-changed']);

/** Of `rows`, the ones that may get a receipt. */
export const toReceiptTargets = (rows: readonly UnreadIncoming[]): ReadTarget[] =>
  rows.filter((r) => RECEIPTED.has(r.sender)).map(({ id, peer, digest }) => ({ id, peer, digest }));

/** The unread incoming messages a markRead of `target` will change that may get a receipt. */
export const receiptTargets = (db: Db, target: ReadTargetInput): ReadTarget[] => toReceiptTargets(unreadIncoming(db, target));

/**
 * The writes the SQLite store runs inside a group commit (sqlite-write-batcher.ts),
 * with what one batch carries from op to op: each key's next MessageId and
 * each audit chain's head, read once per batch and counted on from there.
 * @module
 */
import { createHash } from 'node:crypto';
import { DUPLICATE_QUERY, MESSAGE_COLUMNS, messageValues, sameContent } from './sql-messages.js';
import type { Row } from './sql-row.js';
import { AUDIT_GENESIS, MissingRow, type InsertMessagesResult, type NewAuditEntry, type NewMessage } from './types.js';

/** The connection's synchronous statements (`$n` placeholders), inside the batch's transaction. */
export interface SyncStatements {
  allSync(sql: string, params?: unknown[]): Row[];
  runSync(sql: string, params?: unknown[]): number;
}

const INSERT_MESSAGE = `INSERT INTO messages (${MESSAGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
  ON CONFLICT (key_id, client_id, part) DO NOTHING`;

/** One group commit's state; made after BEGIN, dropped after COMMIT or ROLLBACK. */
export class SqliteBatch {
  /** Audit chain heads touched by the batch. */
  private readonly heads = new Map<string, { seq: number; hash: Buffer }>();
  /** The next MessageId of each key the batch has sent to. */
  private readonly nextSeq = new Map<number, number>();

  constructor(private readonly db: SyncStatements) {}

  /**
   * Writers are serialized (one connection's batch, or BEGIN IMMEDIATE across
   * processes), so inside the transaction MAX(seq) + 1 is the key's next
   * MessageId; it is read once per key and batch (nextSeq) and counted on from
   * there. A clientId seen before inserts nothing (0 rows changed): the send
   * was stored already, and the stored ids are returned.
   */
  insertMessages(keyId: number, messages: NewMessage[], clientId: string | null, contentHash: Buffer | null): InsertMessagesResult {
    const nextSeq = this.nextSeq;
    let seq = nextSeq.get(keyId) ?? Number(this.db.allSync('SELECT COALESCE(MAX(seq), 0) AS last FROM messages WHERE key_id = $1', [keyId])[0]!.last) + 1;
    const ids: number[] = [];
    for (const [part, m] of messages.entries()) {
      let inserted: number;
      try {
        inserted = this.db.runSync(INSERT_MESSAGE, messageValues(keyId, seq, m, clientId, part, contentHash));
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new MissingRow('key not found');
        throw error;
      }
      if (inserted === 0) {
        const existing = this.db.allSync(DUPLICATE_QUERY, [keyId, clientId]);
        return { ids: existing.map((r) => Number(r.seq)), duplicate: true, sameContent: sameContent(existing, messages, contentHash) };
      }
      ids.push(seq);
      seq += 1;
      nextSeq.set(keyId, seq);
    }
    return { ids, duplicate: false, sameContent: true };
  }

  /** The chain head is read once per batch and written back before COMMIT (writeHeads). */
  appendAudit(e: NewAuditEntry, canonical: Buffer): number {
    const heads = this.heads;
    let head = heads.get(e.chain);
    if (!head) {
      const row = this.db.allSync('SELECT seq, hash FROM audit_heads WHERE chain = $1', [e.chain])[0];
      head = row ? { seq: Number(row.seq), hash: row.hash as Buffer } : { seq: 0, hash: AUDIT_GENESIS };
    }
    const next = { seq: head.seq + 1, hash: createHash('sha256').update(head.hash).update(canonical).digest() };
    this.db.runSync(
      `INSERT INTO audit_log (chain, seq, ts, user_id, device_id, actor, action, target, result, status, ip, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [e.chain, next.seq, e.ts, e.userId, e.deviceId, e.actor, e.action, e.target, e.result, e.status, e.ip, next.hash],
    );
    heads.set(e.chain, next);
    return next.seq;
  }

  /** Stores the heads of the chains the batch appended to; the last step before COMMIT. */
  writeHeads(): void {
    for (const [chain, head] of this.heads) {
      this.db.runSync('INSERT INTO audit_heads (chain, seq, hash) VALUES ($1, $2, $3) ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash', [
        chain,
        head.seq,
        head.hash,
      ]);
    }
  }
}

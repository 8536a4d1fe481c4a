/**
 * The durable outbox (design §5): every outgoing request is a row before any
 * network I/O. `client_id` is chosen by the client and deduped by the key service,
 * so a retry never duplicates and a crash never loses.
 *
 * States: pending -> (claimDue) sending -> sent | pending (markRetry, with a later
 * next_attempt_at) | failed (markFailed: permanent, until retryNow). Entries left
 * 'sending' by a crash are returned to 'pending' when the vault opens.
 * For kind 'message', the matching messages row (same client_id) follows along.
 * @module
 */
import { z } from 'zod';
import { checkInput, col, type Db, input, parseRow, parseRows, stmt } from './_sql.js';
import { VaultError } from './errors.js';

export type OutboxState = 'pending' | 'sending' | 'sent' | 'failed';

export interface OutboxEntry {
  clientId: string;
  /** What the payload is: 'message', 'item', 'grant', ... (sync decides). */
  kind: string;
  recipient: string;
  payload: Uint8Array;
  attempts: number;
  nextAttemptAt: number;
  state: OutboxState;
  lastError: string | null;
  createdAt: number;
  sentAt: number | null;
  serverId: string | null;
}

const Row = z
  .object({
    client_id: col.text,
    kind: col.text,
    recipient: col.text,
    payload: col.blob,
    attempts: col.int.nonnegative(),
    next_attempt_at: col.int,
    state: z.enum(['pending', 'sending', 'sent', 'failed']),
    last_error: col.text.nullable(),
    created_at: col.ms,
    sent_at: col.ms.nullable(),
    server_id: col.text.nullable(),
  })
  .transform(
    (r): OutboxEntry => ({
      clientId: r.client_id,
      kind: r.kind,
      recipient: r.recipient,
      payload: r.payload,
      attempts: r.attempts,
      nextAttemptAt: r.next_attempt_at,
      state: r.state,
      lastError: r.last_error,
      createdAt: r.created_at,
      sentAt: r.sent_at,
      serverId: r.server_id,
    }),
  );

export const EnqueueInput = z.object({
  clientId: input.id,
  kind: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/),
  recipient: input.userId,
  payload: input.bytes,
  now: input.ms,
});
export type EnqueueInput = z.infer<typeof EnqueueInput>;

/** Error texts are capped and must never carry payloads: they are shown in the UI. */
const ErrorText = z.string().max(2000).transform((s) => s.slice(0, 500));

/**
 * Adds an entry, due now.
 * @throws {VaultError} 'conflict' when the client id exists; 'invalid-input'
 */
export function enqueue(db: Db, entry: EnqueueInput): OutboxEntry {
  const e = checkInput(EnqueueInput, entry, 'outbox entry');
  const info = stmt(
    db,
    `INSERT INTO outbox (client_id, kind, recipient, payload, attempts, next_attempt_at, state, created_at)
     VALUES (?, ?, ?, ?, 0, ?, 'pending', ?) ON CONFLICT (client_id) DO NOTHING`,
  ).run(e.clientId, e.kind, e.recipient, e.payload, e.now, e.now);
  if (info.changes === 0) throw new VaultError('conflict', 'an outbox entry with this client id exists');
  return getOutboxEntry(db, e.clientId)!;
}

/**
 * An outgoing message and its outbox entry, in one transaction: both or neither.
 * @throws {VaultError} 'conflict' (client id used), 'invalid-input'
 */
export function queueOutgoingMessage(
  db: Db,
  m: { clientId: string; peer: string; envelope: Uint8Array; payload: Uint8Array; now: number },
): { messageId: number; entry: OutboxEntry } {
  const e = checkInput(EnqueueInput, { clientId: m.clientId, kind: 'message', recipient: m.peer, payload: m.payload, now: m.now }, 'message');
  checkInput(input.bytes, m.envelope, 'envelope');
  return db
    .transaction(() => {
      const entry = enqueue(db, e);
      let info;
      try {
        info = stmt(
          db,
          `INSERT INTO messages (direction, peer, envelope, state, created_at, client_id) VALUES ('out', ?, ?, 'queued', ?, ?)`,
        ).run(m.peer, m.envelope, m.now, m.clientId);
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new VaultError('conflict', 'a message with this client id exists');
        throw err;
      }
      return { messageId: Number(info.lastInsertRowid), entry };
    })
    .immediate();
}

/** One entry, or null. @throws {VaultError} 'corrupt-row' */
export function getOutboxEntry(db: Db, clientId: string): OutboxEntry | null {
  const row = stmt(db, 'SELECT * FROM outbox WHERE client_id = ?').get(clientId);
  return row === undefined ? null : parseRow(Row, row, 'outbox');
}

/** Entries, oldest first, optionally of one state. @throws {VaultError} 'corrupt-row' */
export function listOutbox(db: Db, query: { state?: OutboxState; limit?: number } = {}): OutboxEntry[] {
  const limit = Math.min(Math.max(1, query.limit ?? 1000), 100_000);
  const rows = query.state
    ? stmt(db, 'SELECT * FROM outbox WHERE state = ? ORDER BY created_at, client_id LIMIT ?').all(query.state, limit)
    : stmt(db, 'SELECT * FROM outbox ORDER BY created_at, client_id LIMIT ?').all(limit);
  return parseRows(Row, rows, 'outbox');
}

/** Counts per state of one kind (default messages: the UI's "n waiting to send" counts no read receipts). */
export function countOutbox(db: Db, kind = 'message'): Record<OutboxState, number> {
  const counts: Record<OutboxState, number> = { pending: 0, sending: 0, sent: 0, failed: 0 };
  for (const r of stmt(db, 'SELECT state, count(*) AS n FROM outbox WHERE kind = ? GROUP BY state').all(kind) as { state: OutboxState; n: number }[]) {
    if (r.state in counts) counts[r.state] = r.n;
  }
  return counts;
}

/**
 * Claims up to `limit` due entries (pending, next_attempt_at <= now), oldest first:
 * marks them 'sending' and counts the attempt, under the write lock, so two
 * processes never claim the same entry.
 * @throws {VaultError} 'corrupt-row'
 */
export function claimDue(db: Db, now: number, limit = 50): OutboxEntry[] {
  return db
    .transaction(() => {
      const rows = stmt(
        db,
        `SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, created_at LIMIT ?`,
      ).all(now, Math.max(1, Math.min(limit, 10_000)));
      const entries = parseRows(Row, rows, 'outbox');
      const mark = stmt(db, `UPDATE outbox SET state = 'sending', attempts = attempts + 1 WHERE client_id = ?`);
      for (const e of entries) mark.run(e.clientId);
      return entries.map((e) => ({ ...e, state: 'sending' as const, attempts: e.attempts + 1 }));
    })
    .immediate();
}

/**
 * The key service accepted it. Returns false when the entry does not exist.
 * @throws {VaultError} 'invalid-input'
 */
export function markSent(db: Db, clientId: string, result: { serverId?: string | null; now: number }): boolean {
  const now = checkInput(input.ms, result.now, 'now');
  return db.transaction(() => {
    const info = stmt(db, `UPDATE outbox SET state = 'sent', sent_at = ?, server_id = ?, last_error = NULL WHERE client_id = ?`).run(
      now,
      result.serverId ?? null,
      clientId,
    );
    stmt(db, `UPDATE messages SET state = 'sent', server_id = coalesce(?, server_id) WHERE client_id = ? AND direction = 'out'`).run(
      result.serverId ?? null,
      clientId,
    );
    return info.changes > 0;
  })();
}

/**
 * A transient failure: back to 'pending', due at `nextAttemptAt` (sync computes
 * the backoff with jitter).
 * @throws {VaultError} 'invalid-input'
 */
export function markRetry(db: Db, clientId: string, r: { error: string; nextAttemptAt: number }): boolean {
  const error = checkInput(ErrorText, r.error, 'error');
  const at = checkInput(input.ms, r.nextAttemptAt, 'nextAttemptAt');
  return (
    stmt(db, `UPDATE outbox SET state = 'pending', last_error = ?, next_attempt_at = ? WHERE client_id = ? AND state != 'sent'`).run(
      error,
      at,
      clientId,
    ).changes > 0
  );
}

/**
 * A permanent failure (the key service refused the request): stays until retryNow.
 * @throws {VaultError} 'invalid-input'
 */
export function markFailed(db: Db, clientId: string, r: { error: string }): boolean {
  const error = checkInput(ErrorText, r.error, 'error');
  return db.transaction(() => {
    const changed = stmt(db, `UPDATE outbox SET state = 'failed', last_error = ? WHERE client_id = ? AND state != 'sent'`).run(error, clientId).changes;
    stmt(db, `UPDATE messages SET state = 'failed' WHERE client_id = ? AND direction = 'out' AND state = 'queued'`).run(clientId);
    return changed > 0;
  })();
}

/**
 * "Retry" / "send now" by hand: failed or waiting entries (one, or all) become due
 * now. Returns how many.
 */
export function retryNow(db: Db, now: number, clientId?: string): number {
  return db.transaction(() => {
    const where = clientId === undefined ? '' : ' AND client_id = ?';
    const args = clientId === undefined ? [now] : [now, clientId];
    const n = stmt(db, `UPDATE outbox SET state = 'pending', next_attempt_at = ? WHERE state IN ('pending', 'failed')${where}`).run(...args).changes;
    stmt(
      db,
      `UPDATE messages SET state = 'queued' WHERE direction = 'out' AND state = 'failed'
         AND client_id IN (SELECT client_id FROM outbox WHERE state = 'pending'${where})`,
    ).run(...(clientId === undefined ? [] : [clientId]));
    return n;
  })();
}

/** Entries a crash left 'sending' go back to 'pending' (called by openVault). */
export function recoverInFlight(db: Db): number {
  return stmt(db, `UPDATE outbox SET state = 'pending' WHERE state = 'sending'`).run().changes;
}

/** Deletes 'sent' entries older than `before` (their messages rows stay). */
export function pruneSent(db: Db, before: number): number {
  return stmt(db, `DELETE FROM outbox WHERE state = 'sent' AND sent_at < ?`).run(before).changes;
}

/**
 * Deletes an entry that has no message row (a read receipt): once the key
 * service holds it (nothing shows its state afterwards, and its sealed payload
 * is not kept), or when it must not go out any more. A message's entry is never
 * deleted here (its row reads it).
 */
export function dropEntry(db: Db, clientId: string): boolean {
  return stmt(db, `DELETE FROM outbox WHERE client_id = ? AND kind != 'message'`).run(clientId).changes > 0;
}

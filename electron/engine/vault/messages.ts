/**
 * Messages, both directions, as sealed envelopes (opened only in memory when
 * shown). Incoming messages are deduped on the key service's message id, outgoing
 * ones are keyed by the client id they share with their outbox entry
 * (outbox.queueOutgoingMessage creates both at once).
 * @module
 */
import { z } from 'zod';
import { checkInput, col, type Db, input, parseRow, parseRows, stmt } from './_sql.js';

export type MessageDirection = 'in' | 'out';
export type MessageState = 'queued' | 'sent' | 'failed' | 'received';

export interface Message {
  id: number;
  direction: MessageDirection;
  peer: string;
  envelope: Uint8Array;
  state: MessageState;
  createdAt: number;
  receivedAt: number | null;
  read: boolean;
  serverId: string | null;
  clientId: string | null;
  /** The conversation (vault/threads.ts): the peer for two people, 'group:…' for more. */
  thread: string;
  /** Outgoing to several people: the first row of the same send; null on that first row and elsewhere. */
  batch: number | null;
}

const Row = z
  .object({
    id: col.int.positive(),
    direction: z.enum(['in', 'out']),
    peer: col.text,
    envelope: col.blob,
    state: z.enum(['queued', 'sent', 'failed', 'received']),
    created_at: col.ms,
    received_at: col.ms.nullable(),
    read: col.bool,
    server_id: col.text.nullable(),
    client_id: col.text.nullable(),
    thread: col.text.nullable(),
    batch: col.int.positive().nullable(),
  })
  .transform(
    (r): Message => ({
      id: r.id,
      direction: r.direction,
      peer: r.peer,
      envelope: r.envelope,
      state: r.state,
      createdAt: r.created_at,
      receivedAt: r.received_at,
      read: r.read,
      serverId: r.server_id,
      clientId: r.client_id,
      thread: r.thread ?? r.peer,
      batch: r.batch,
    }),
  );

const Incoming = z.object({
  peer: input.userId,
  envelope: input.bytes,
  serverId: z.string().min(1).max(200),
  /** When the sender sent it (the key service's SentOn). */
  createdAt: input.ms,
  receivedAt: input.ms,
});

/**
 * Stores a pulled message unless this server id is already stored (pulls may
 * overlap). Returns the row id and whether it is new.
 * @throws {VaultError} 'invalid-input'
 */
export function insertIncoming(db: Db, m: z.input<typeof Incoming>): { id: number; inserted: boolean } {
  const v = checkInput(Incoming, m, 'incoming message');
  const info = stmt(
    db,
    `INSERT INTO messages (direction, peer, envelope, state, created_at, received_at, server_id)
     VALUES ('in', ?, ?, 'received', ?, ?, ?) ON CONFLICT (server_id) DO NOTHING`,
  ).run(v.peer, v.envelope, v.createdAt, v.receivedAt, v.serverId);
  if (info.changes > 0) return { id: Number(info.lastInsertRowid), inserted: true };
  const existing = stmt(db, 'SELECT id FROM messages WHERE server_id = ?').get(v.serverId) as { id: number };
  return { id: existing.id, inserted: false };
}

/** @throws {VaultError} 'corrupt-row' */
export function getMessage(db: Db, id: number): Message | null {
  const row = stmt(db, 'SELECT * FROM messages WHERE id = ?').get(id);
  return row === undefined ? null : parseRow(Row, row, 'messages');
}

/** @throws {VaultError} 'corrupt-row' */
export function getMessageByClientId(db: Db, clientId: string): Message | null {
  const row = stmt(db, 'SELECT * FROM messages WHERE client_id = ?').get(clientId);
  return row === undefined ? null : parseRow(Row, row, 'messages');
}

/**
 * Newest first, optionally for one peer, paged by `beforeId`.
 * @throws {VaultError} 'corrupt-row'
 */
export function listMessages(db: Db, q: { peer?: string; beforeId?: number; limit?: number } = {}): Message[] {
  const limit = Math.min(Math.max(1, q.limit ?? 100), 10_000);
  const before = q.beforeId ?? Number.MAX_SAFE_INTEGER;
  const rows =
    q.peer === undefined
      ? stmt(db, 'SELECT * FROM messages WHERE id < ? ORDER BY id DESC LIMIT ?').all(before, limit)
      : stmt(db, 'SELECT * FROM messages WHERE peer = ? AND id < ? ORDER BY id DESC LIMIT ?').all(q.peer, before, limit);
  return parseRows(Row, rows, 'messages');
}

/** Marks incoming messages read (given ids, all of one peer, or all of one conversation). Returns how many changed. */
export function markRead(db: Db, target: { ids: readonly number[] } | { peer: string } | { thread: string }): number {
  if ('peer' in target) return stmt(db, `UPDATE messages SET read = 1 WHERE peer = ? AND direction = 'in' AND read = 0`).run(target.peer).changes;
  if ('thread' in target) {
    return stmt(db, `UPDATE messages SET read = 1 WHERE (thread = ? OR (thread IS NULL AND peer = ?)) AND direction = 'in' AND read = 0`).run(target.thread, target.thread).changes;
  }
  const mark = stmt(db, `UPDATE messages SET read = 1 WHERE id = ? AND read = 0`);
  return db.transaction(() => target.ids.reduce((n, id) => n + mark.run(id).changes, 0))();
}

/** Unread incoming messages, overall or for one peer. */
export function countUnread(db: Db, peer?: string): number {
  const row = (
    peer === undefined
      ? stmt(db, `SELECT count(*) AS n FROM messages WHERE direction = 'in' AND read = 0`).get()
      : stmt(db, `SELECT count(*) AS n FROM messages WHERE direction = 'in' AND read = 0 AND peer = ?`).get(peer)
  ) as { n: number };
  return row.n;
}

/** Deletes one message (secure_delete overwrites its bytes). True when it existed. */
export function deleteMessage(db: Db, id: number): boolean {
  return stmt(db, 'DELETE FROM messages WHERE id = ?').run(id).changes > 0;
}

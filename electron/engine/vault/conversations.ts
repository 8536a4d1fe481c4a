/**
 * Messages in conversation order, and one summary row per conversation, both
 * computed in SQL without opening any message.
 *
 * Conversation order is the time each message was sent: for ours, when this
 * device sealed it (created_at); for theirs, the time the sender signed
 * (message_info.sent_at), falling back to the key service's SentOn
 * (created_at) when the message could not be opened. Ties go by row id, so the
 * order is total and stable across pages.
 *
 * Row ids alone are not that order: the outbox uploads several messages at once
 * and retries later ones first, so a recipient stores them in the key service's
 * arrival order, which can differ from the order they were written in.
 * @module
 */
import { z } from 'zod';
import { col, type Db, parseRows, stmt } from './_sql.js';
import { VaultError } from './errors.js';
import { getMessage, type Message } from './messages.js';

/** The sort time of a message row `m` joined with its `message_info` row `i`. */
const SORT_AT = `COALESCE(CASE WHEN m.direction = 'in' THEN i.sent_at END, m.created_at)`;
/** id, conversation and sort time of every message. Rows not yet filed under a conversation count as their peer's. */
const TIMED = `SELECT m.id AS id, COALESCE(m.thread, m.peer) AS thread, m.direction AS direction, m.read AS read, ${SORT_AT} AS at
  FROM messages m LEFT JOIN message_info i ON i.message_id = m.id`;
/** One row per send: the rows of a group send after its first are left out (vault/threads.ts). */
const SHOWN = 'm.batch IS NULL';
/** The rows of one conversation (thread bound twice); written so the thread index serves it. */
const IN_THREAD = '(m.thread = ? OR (m.thread IS NULL AND m.peer = ?))';

/** Where a message stands in conversation order. */
export interface MessagePosition {
  id: number;
  at: number;
}

/** The sort time of one message, or null when there is no such message. */
export function messagePosition(db: Db, id: number): MessagePosition | null {
  const row = stmt(db, `SELECT m.id AS id, ${SORT_AT} AS at FROM messages m LEFT JOIN message_info i ON i.message_id = m.id WHERE m.id = ?`).get(id) as
    | MessagePosition
    | undefined;
  return row ?? null;
}

/**
 * Newest first in conversation order, optionally for one peer (every row with
 * them) or one conversation (`thread`: one row per send), paged by the
 * message before which the page starts (`beforeId`, excluded).
 * @throws {VaultError} 'not-found' when `beforeId` names no message; 'corrupt-row'
 */
export function listInOrder(db: Db, q: { peer?: string; thread?: string; beforeId?: number; limit?: number } = {}): Message[] {
  const limit = Math.min(Math.max(1, q.limit ?? 100), 10_000);
  let after: MessagePosition = { at: Number.MAX_SAFE_INTEGER, id: Number.MAX_SAFE_INTEGER };
  if (q.beforeId !== undefined) {
    const pos = messagePosition(db, q.beforeId);
    if (!pos) throw new VaultError('not-found', `no message ${q.beforeId}`);
    after = pos;
  }
  // Ids first (the sort reads no envelope), then the rows of that one page.
  const ids = (
    q.thread !== undefined
      ? stmt(db, `SELECT id FROM (${TIMED} WHERE ${IN_THREAD} AND ${SHOWN}) WHERE (at, id) < (?, ?) ORDER BY at DESC, id DESC LIMIT ?`).all(q.thread, q.thread, after.at, after.id, limit)
      : q.peer === undefined
        ? stmt(db, `SELECT id FROM (${TIMED}) WHERE (at, id) < (?, ?) ORDER BY at DESC, id DESC LIMIT ?`).all(after.at, after.id, limit)
        : stmt(db, `SELECT id FROM (${TIMED} WHERE m.peer = ?) WHERE (at, id) < (?, ?) ORDER BY at DESC, id DESC LIMIT ?`).all(q.peer, after.at, after.id, limit)
  ) as { id: number }[];
  return ids.flatMap(({ id }) => {
    const m = getMessage(db, id);
    return m ? [m] : [];
  });
}

/** One conversation: everything exchanged with one peer, or among one group of people. */
export interface ConversationRow {
  /** The peer's user id, or 'group:…' (vault/threads.ts). */
  thread: string;
  /** The newest message in conversation order. */
  lastId: number;
  lastAt: number;
  messages: number;
  unread: number;
}

const SummaryRow = z
  .object({ thread: col.text, last_id: col.int.positive(), last_at: col.int, messages: col.int.nonnegative(), unread: col.int.nonnegative() })
  .transform((r): ConversationRow => ({ thread: r.thread, lastId: r.last_id, lastAt: r.last_at, messages: r.messages, unread: r.unread }));

/**
 * Conversations by last activity, newest first (ties by the newest message's
 * id), paged by `offset`. One pass over the messages' ids and times: no
 * envelope or cache is read.
 * @throws {VaultError} 'corrupt-row'
 */
export function listConversations(db: Db, q: { limit?: number; offset?: number } = {}): ConversationRow[] {
  const limit = Math.min(Math.max(1, q.limit ?? 100), 1000);
  const offset = Math.max(0, q.offset ?? 0);
  const rows = stmt(
    db,
    `WITH t AS (${TIMED} WHERE ${SHOWN}),
     ranked AS (SELECT *, row_number() OVER (PARTITION BY thread ORDER BY at DESC, id DESC) AS n FROM t),
     totals AS (SELECT thread, count(*) AS messages, sum(direction = 'in' AND read = 0) AS unread FROM t GROUP BY thread)
     SELECT r.thread AS thread, r.id AS last_id, r.at AS last_at, totals.messages AS messages, totals.unread AS unread
       FROM ranked r JOIN totals ON totals.thread = r.thread
      WHERE r.n = 1
      ORDER BY r.at DESC, r.id DESC LIMIT ? OFFSET ?`,
  ).all(limit, offset);
  return parseRows(SummaryRow, rows, 'messages');
}

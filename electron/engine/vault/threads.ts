/**
 * Which conversation a message belongs to. Two people talk in a conversation
 * named by the other's user id (the message's peer); three or more in a group
 * conversation named `group:` + a hash of everyone's user ids but ours
 * (shared/conversation-id.ts), so no device has to agree with another on
 * anything first. The recipient list the name is computed from is inside the
 * signed, sealed content.
 *
 * An outgoing message to several people is stored once per recipient (each has
 * its own outbox entry and delivery state); `batch` ties those rows to the
 * first one, which is the row a conversation shows.
 * @module
 */
import { z } from 'zod';
import { conversationId, isGroupId } from '../../../shared/conversation-id.js';
import { col, type Db, parseRows, stmt } from './_sql.js';

/** A person of a conversation as the sealed content names them. */
export interface Party {
  userid: string;
  username: string;
}

/** Who a message involves: its sender and every recipient (from the opened content). */
export interface Participants {
  from: Party;
  to: readonly Party[];
}

/**
 * The conversation of a message with these participants, seen by `self`
 * (our user id): the peer for two people, a group otherwise. `members` are the
 * others, sorted by user id.
 */
export function threadOf(self: string, p: Participants): { thread: string; members: Party[] } {
  const others = new Map<string, Party>();
  for (const party of [p.from, ...p.to]) if (party.userid !== self && !others.has(party.userid)) others.set(party.userid, party);
  const members = [...others.values()].sort((a, b) => (a.userid < b.userid ? -1 : a.userid > b.userid ? 1 : 0));
  if (members.length === 0) return { thread: self, members };
  return { thread: conversationId(members.map((m) => m.userid)), members };
}


/** Files a message under its conversation; a group's members are kept with it. */
export function setThread(db: Db, messageId: number, thread: string, members: readonly Party[], batch: number | null = null): void {
  stmt(db, 'UPDATE messages SET thread = ?, batch = ? WHERE id = ?').run(thread, batch, messageId);
  if (!isGroupId(thread)) return;
  const put = stmt(db, 'INSERT INTO thread_members (thread, user_id, username) VALUES (?, ?, ?) ON CONFLICT (thread, user_id) DO UPDATE SET username = excluded.username');
  for (const m of members) put.run(thread, m.userid, m.username);
}

const MemberRow = z.object({ user_id: col.text, username: col.text }).transform((r): { userId: string; username: string } => ({ userId: r.user_id, username: r.username }));

/** A group conversation's members (not us), by user name. */
export function threadMembers(db: Db, thread: string): { userId: string; username: string }[] {
  return parseRows(MemberRow, stmt(db, 'SELECT user_id, username FROM thread_members WHERE thread = ? ORDER BY username, user_id').all(thread), 'thread_members');
}

/** The rows of one send (the rows whose batch is `first`, or `first` alone). */
export function batchRows(db: Db, first: number): number[] {
  const rows = stmt(db, 'SELECT id FROM messages WHERE id = ? OR batch = ? ORDER BY id').all(first, first) as { id: number }[];
  return rows.map((r) => r.id);
}

/** How many rows wait for their conversation (stored before conversations of several people). */
export function countUnthreaded(db: Db): number {
  return (stmt(db, 'SELECT count(*) AS n FROM messages WHERE thread IS NULL').get() as { n: number }).n;
}

/**
 * Files rows stored before this version under their conversation, `limit` at
 * a time (call until it returns 0). `participants` opens a row's content from
 * the local cache (null: rejected or unreadable, which stays with its peer).
 * Rows of one send share their sealed cache bytes, which is how their batch is
 * found again.
 */
export function backfillThreads(db: Db, self: string, participants: (messageId: number) => { parties: Participants; cacheHex: string } | null, limit = 500): number {
  const rows = stmt(db, 'SELECT id, peer, direction FROM messages WHERE thread IS NULL ORDER BY id LIMIT ?').all(limit) as { id: number; peer: string; direction: 'in' | 'out' }[];
  if (rows.length === 0) return 0;
  const firstOfSend = new Map<string, number>();
  db.transaction(() => {
    for (const r of rows) {
      const opened = participants(r.id);
      // An unknown sender's claim of who else was addressed is not trusted to file it among others.
      if (!opened || r.peer.startsWith('unknown')) {
        setThread(db, r.id, r.peer, []);
        continue;
      }
      const { thread, members } = threadOf(self, opened.parties);
      let batch: number | null = null;
      if (r.direction === 'out' && isGroupId(thread)) {
        const first = firstOfSend.get(opened.cacheHex) ?? earlierRowOfSend(db, r.id, opened.cacheHex);
        if (first === null) firstOfSend.set(opened.cacheHex, r.id);
        else batch = first;
      }
      setThread(db, r.id, thread, members, batch);
    }
  })();
  return rows.length;
}

/** A send's rows are written in one transaction, so they are at most this far apart (messages:send takes up to 100 names). */
const MAX_RECIPIENTS = 100;

/** A row filed earlier whose cache bytes are these (the same send), for backfills across calls. */
function earlierRowOfSend(db: Db, id: number, cacheHex: string): number | null {
  const row = stmt(
    db,
    `SELECT m.id AS id FROM messages m JOIN message_info i ON i.message_id = m.id
      WHERE m.id BETWEEN ? AND ? AND m.direction = 'out' AND m.thread IS NOT NULL AND m.batch IS NULL AND hex(i.cache) = upper(?)
      ORDER BY m.id DESC LIMIT 1`,
  ).get(id - MAX_RECIPIENTS, id - 1, cacheHex) as { id: number } | undefined;
  return row?.id ?? null;
}

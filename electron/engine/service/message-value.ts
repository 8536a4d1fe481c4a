/**
 * A stored message as the contract shows it (MessageValue): its state from
 * the row, the outbox and the delivery receipt; its content from the local
 * cache; upload progress per recipient inbox; and, for a send to several
 * people shown in their conversation, every recipient's copy summed up.
 * @module
 */
import { z } from 'zod';
import type { Output } from '../../../shared/contract.js';
import { type MessageContent, openCache } from '../sync/content.js';
import { inboxRef } from '../sync/flush.js';
import type { Db } from '../vault/_sql.js';
import { getContact } from '../vault/contacts.js';
import { getMessage, type Message } from '../vault/messages.js';
import { getOutboxEntry, type OutboxEntry } from '../vault/outbox.js';
import { getAttachment, getMessageInfo, getProgress, listContactKeys } from '../vault/sync-store.js';
import { batchRows } from '../vault/threads.js';
import { isGroupId } from '../../../shared/conversation-id.js';

/** The latest of every copy's time, once every copy has one; else null. */
const lastOfAll = (times: readonly (number | null)[]): number | null => (times.length > 0 && times.every((t) => t !== null) ? Math.max(...(times as number[])) : null);

export type MessageValue = Output<'messages:read'>;
type State = MessageValue['state'];
type Recipient = NonNullable<MessageValue['recipients']>[number];

/** A message's info row and its content opened from the cache (null: rejected or unreadable). */
export type OpenedMessage = { info: ReturnType<typeof getMessageInfo>; content: MessageContent | null };

const OutboxPayload = z.object({ attachments: z.array(z.object({ parts: z.number().int().min(0) })) });

/**
 * One row's state: the outbox's while it is there, then sent, then delivered
 * once the key service says the recipient's device fetched it, then read once
 * their read receipt came (`readAt`: null while our own receipts are off).
 */
function stateOf(m: Message, entry: OutboxEntry | null, deliveredAt: number | null, readAt: number | null): State {
  if (m.direction === 'in') return 'received';
  const base = entry?.state === 'sending' ? 'sending' : entry?.state === 'pending' ? 'queued' : m.state === 'received' ? 'sent' : m.state;
  if (base === 'sent' && readAt !== null) return 'read';
  return base === 'sent' && deliveredAt !== null ? 'delivered' : base;
}

/** A send's state from its copies: failed if any failed, else still going if any is, delivered when all are at least delivered, read when all are read. */
function summed(states: readonly State[]): State {
  for (const s of ['failed', 'sending', 'queued', 'sent', 'delivered'] as const) if (states.includes(s)) return s;
  return 'read';
}

/** A copy's read time, when our own read receipts are on (as Signal: off means we see none either). */
const readTime = (info: { readAt: number | null } | null | undefined, showRead: boolean): number | null => (showRead ? (info?.readAt ?? null) : null);

/** Parts and message acknowledged by the key service, per recipient inbox (flush.ts counts the same steps). */
function uploadProgress(db: Db, clientId: string, peer: string, payload: Uint8Array | null, sent: boolean): { done: number; total: number } | null {
  if (!payload) return sent ? { done: 1, total: 1 } : null;
  let steps: number;
  try {
    steps = OutboxPayload.parse(JSON.parse(new TextDecoder().decode(payload))).attachments.reduce((n, a) => n + a.parts, 0) + 1;
  } catch {
    return null;
  }
  const inboxes = listContactKeys(db, peer).flatMap((k) => (k.inbox ? [k.inbox] : []));
  if (inboxes.length === 0) return { done: 0, total: steps };
  const total = steps * inboxes.length;
  const done = sent ? total : inboxes.reduce((n, inbox) => n + Math.min(steps, getProgress(db, clientId, inboxRef(inbox))), 0);
  return { done, total };
}

/** Each recipient's copy of a group send whose first row is `first`. */
function recipientsOf(db: Db, first: Message, firstValue: { state: State; deliveredAt: number | null; readAt: number | null; reason: string | null }, showRead: boolean): Recipient[] {
  return batchRows(db, first.id).flatMap((id) => {
    const m = id === first.id ? first : getMessage(db, id);
    if (!m) return [];
    let v = firstValue;
    if (m !== first) {
      const entry = m.clientId ? getOutboxEntry(db, m.clientId) : null;
      const info = getMessageInfo(db, m.id);
      const deliveredAt = info?.deliveredAt ?? null;
      const readAt = readTime(info, showRead);
      v = { state: stateOf(m, entry, deliveredAt, readAt), deliveredAt, readAt, reason: entry?.lastError ?? null };
    }
    return [{ id: m.id, peer: m.peer, peerName: getContact(db, m.peer)?.username ?? null, state: v.state, deliveredAt: v.deliveredAt, readAt: v.readAt, reason: v.reason }];
  });
}

/**
 * The value of one message; `key` opens the local cache (unless `opened` has it).
 * `asConversation`: the first row of a group send carries every copy in `recipients`.
 * `showRead`: read receipts are on, the user's choice and the policy (read-receipts.ts
 * receiptsEnabled, read once per list by the caller); off, no copy shows as read.
 */
export function messageValue(db: Db, m: Message, key: Uint8Array, o: { showRead: boolean; opened?: OpenedMessage; asConversation?: boolean }): MessageValue {
  const { showRead, opened, asConversation = false } = o;
  const info = opened ? opened.info : getMessageInfo(db, m.id);
  const content: MessageContent | null = opened ? opened.content : info?.cache ? openCache(key, info.cache) : null;
  const entry = m.direction === 'out' && m.clientId ? getOutboxEntry(db, m.clientId) : null;
  const peer = getContact(db, m.peer);
  const deliveredAt = m.direction === 'out' ? (info?.deliveredAt ?? null) : null;
  const readAt = m.direction === 'out' ? readTime(info, showRead) : null;
  let state = stateOf(m, entry, deliveredAt, readAt);
  const reason = m.direction === 'in' ? (info?.reason ?? null) : (entry?.lastError ?? null);
  const upload =
    m.direction === 'out' && m.clientId && content && content.attachments.length > 0 ? uploadProgress(db, m.clientId, m.peer, entry?.payload ?? null, state === 'sent' || state === 'delivered') : null;
  const recipients = asConversation && m.direction === 'out' && m.batch === null && isGroupId(m.thread) ? recipientsOf(db, m, { state, deliveredAt, readAt, reason }, showRead) : null;
  if (recipients) state = summed(recipients.map((r) => r.state));
  return {
    id: m.id,
    direction: m.direction,
    peer: m.peer,
    peerName: peer?.username ?? (m.direction === 'in' && content && info?.sender === 'unknown' ? `${content.from.username}?` : null),
    state,
    reason,
    attempts: entry?.attempts ?? 0,
    nextAttemptAt: entry && entry.state === 'pending' ? entry.nextAttemptAt : null,
    sender: info?.sender ?? (m.direction === 'out' ? 'self' : 'rejected'),
    read: m.direction === 'out' || m.read,
    createdAt: m.createdAt,
    sentAt: info?.sentAt ?? null,
    deliveredAt: recipients ? lastOfAll(recipients.map((r) => r.deliveredAt)) : deliveredAt,
    readAt: recipients ? lastOfAll(recipients.map((r) => r.readAt)) : readAt,
    subject: content?.subject ?? null,
    text: info?.sender === 'rejected' ? null : (content?.text ?? null),
    attachments: (content?.attachments ?? []).map((a) => {
      const row = getAttachment(db, a.id);
      return { id: a.id, name: a.name, size: a.size, contentType: a.contentType, sha256: a.sha256, state: row?.state ?? 'missing' };
    }),
    upload,
    conversation: m.thread,
    recipients,
  };
}

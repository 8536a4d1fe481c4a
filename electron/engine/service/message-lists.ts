/**
 * The message lists of the contract: messages:list (one conversation or all,
 * newest first in conversation order, paged, with search and unread filters)
 * and messages:conversations (the chat list). Ordering and grouping are SQL
 * (vault/conversations.ts); only the rows of the page asked for are opened
 * from the local cache. The caller (Messaging) builds each message's value.
 * @module
 */
import { ResultCode } from '../../../shared/codes.js';
import type { Output } from '../../../shared/contract.js';
import { type MessageContent, openCache } from '../sync/content.js';
import type { Db } from '../vault/_sql.js';
import { getContact } from '../vault/contacts.js';
import { listConversations, listInOrder } from '../vault/conversations.js';
import { VaultError } from '../vault/errors.js';
import { getMessage, type Message } from '../vault/messages.js';
import { getMessageInfo } from '../vault/sync-store.js';
import { ServiceError } from './results.js';

type MessageValue = Output<'messages:read'>;
type ConversationValue = Output<'messages:conversations'>[number];

export type ListInput = { peer?: string; query?: string; beforeId?: number; limit?: number; unreadOnly?: boolean };
/** A message's info row and its content opened from the cache (null: rejected or unreadable). */
export type OpenedMessage = { info: ReturnType<typeof getMessageInfo>; content: MessageContent | null };

/** How much of the newest message a conversation row shows. */
const PREVIEW_CHARS = 160;
/** Rows read per step while a search or the unread filter skips some. */
const FILTER_PAGE = 500;

function inOrder(db: Db, q: { peer?: string; beforeId?: number; limit: number }): Message[] {
  try {
    return listInOrder(db, q);
  } catch (e) {
    if (e instanceof VaultError && e.kind === 'not-found') throw new ServiceError(ResultCode.NotFound, `No message ${q.beforeId} to page from.`);
    throw e;
  }
}

const matches = (o: OpenedMessage, needle: string): boolean =>
  o.info?.sender !== 'rejected' && [o.content?.subject, o.content?.text, ...(o.content?.attachments ?? []).map((a) => a.name)].some((s) => s?.toLocaleLowerCase().includes(needle));

/** messages:list. `key` opens the cache; `valueOf` builds a value from an opened row. */
export function listMessageValues(db: Db, input: ListInput, valueOf: (m: Message, opened: OpenedMessage) => MessageValue, key: Uint8Array): MessageValue[] {
  const limit = input.limit ?? 100;
  const needle = input.query?.toLocaleLowerCase();
  // A plain page is one query of `limit` rows; filters step through the order until `limit` match.
  const pageSize = needle || input.unreadOnly ? FILTER_PAGE : limit;
  const out: MessageValue[] = [];
  let before = input.beforeId;
  for (;;) {
    const page = inOrder(db, { ...(input.peer && { peer: input.peer }), ...(before && { beforeId: before }), limit: pageSize });
    for (const m of page) {
      if (input.unreadOnly && (m.direction !== 'in' || m.read)) continue;
      const info = getMessageInfo(db, m.id);
      const opened: OpenedMessage = { info, content: info?.cache ? openCache(key, info.cache) : null };
      // The search reads the opened content before building the whole value.
      if (needle && !matches(opened, needle)) continue;
      out.push(valueOf(m, opened));
      if (out.length >= limit) return out;
    }
    if (page.length < pageSize) return out;
    before = page[page.length - 1]!.id;
  }
}

const previewOf = (text: string | null): string | null => {
  if (text === null) return null;
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS - 1)}…` : flat;
};

/** messages:conversations: by last activity, each with its newest message's value. */
export function conversationValues(db: Db, input: { limit?: number; offset?: number }, valueOf: (m: Message) => MessageValue): ConversationValue[] {
  return listConversations(db, { limit: input.limit ?? 100, offset: input.offset ?? 0 }).flatMap((row) => {
    const m = getMessage(db, row.lastId);
    if (!m) return [];
    const v = valueOf(m);
    const contact = getContact(db, row.peer);
    return [
      {
        peer: row.peer,
        name: contact?.username ?? v.peerName,
        verified: contact?.verified ?? false,
        keyChanged: contact?.keyChanged ?? false,
        lastAt: row.lastAt,
        messages: row.messages,
        unread: row.unread,
        last: { id: v.id, direction: v.direction, state: v.state, sender: v.sender, subject: v.subject, preview: previewOf(v.text), attachments: v.attachments.length },
      },
    ];
  });
}

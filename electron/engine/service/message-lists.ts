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
import { openCache } from '../sync/content.js';
import type { Db } from '../vault/_sql.js';
import { getContact } from '../vault/contacts.js';
import { listConversations, listInOrder } from '../vault/conversations.js';
import { VaultError } from '../vault/errors.js';
import { getMessage, type Message } from '../vault/messages.js';
import { getMessageInfo } from '../vault/sync-store.js';
import { backfillThreads, countUnthreaded, threadMembers } from '../vault/threads.js';
import { isGroupId } from '../../../shared/conversation-id.js';
import { readRegistration } from '../sync/registration.js';
import type { MessageValue, OpenedMessage } from './message-value.js';
import { ServiceError } from './results.js';

type ConversationValue = Output<'messages:conversations'>[number];
type MemberValue = ConversationValue['members'][number];

export type ListInput = { peer?: string; conversation?: string; query?: string; beforeId?: number; limit?: number; unreadOnly?: boolean };

/** How much of the newest message a conversation row shows. */
const PREVIEW_CHARS = 160;
/** Rows read per step while a search or the unread filter skips some. */
const FILTER_PAGE = 500;

function inOrder(db: Db, q: { peer?: string; thread?: string; beforeId?: number; limit: number }): Message[] {
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
    const page = inOrder(db, { ...(input.peer && { peer: input.peer }), ...(input.conversation && { thread: input.conversation }), ...(before && { beforeId: before }), limit: pageSize });
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

/** A conversation's people besides us: the peer, or a group's members, with what the contacts say of them. */
function membersOf(db: Db, thread: string, fallbackName: string | null): MemberValue[] {
  const people = isGroupId(thread) ? threadMembers(db, thread) : [{ userId: thread, username: fallbackName ?? thread }];
  return people.map((p) => {
    const contact = getContact(db, p.userId);
    return { userId: p.userId, name: contact?.username ?? p.username, verified: contact?.verified ?? false, keyChanged: contact?.keyChanged ?? false };
  });
}

/** messages:conversations: by last activity, each with its newest message's value. */
export function conversationValues(db: Db, input: { limit?: number; offset?: number }, valueOf: (m: Message) => MessageValue): ConversationValue[] {
  return listConversations(db, { limit: input.limit ?? 100, offset: input.offset ?? 0 }).flatMap((row) => {
    const m = getMessage(db, row.lastId);
    if (!m) return [];
    const v = valueOf(m);
    const group = isGroupId(row.thread);
    const contact = group ? null : getContact(db, row.thread);
    const members = membersOf(db, row.thread, contact?.username ?? v.peerName);
    return [
      {
        peer: row.thread,
        group,
        members,
        name: group ? members.map((p) => p.name).join(', ') : (contact?.username ?? v.peerName),
        verified: members.length > 0 && members.every((p) => p.verified),
        keyChanged: members.some((p) => p.keyChanged),
        lastAt: row.lastAt,
        messages: row.messages,
        unread: row.unread,
        last: { id: v.id, direction: v.direction, state: v.state, sender: v.sender, from: v.direction === 'in' ? v.peerName : null, subject: v.subject, preview: previewOf(v.text), attachments: v.attachments.length },
      },
    ];
  });
}

/**
 * Files the rows stored before conversations of several people existed under
 * their conversation (their recipient list is in the sealed content, so this
 * waits for unlocked keys). Cheap when there are none: one indexed look.
 */
export function backfillConversations(db: Db, key: Uint8Array): void {
  if (countUnthreaded(db) === 0) return;
  const self = readRegistration(db)?.userId;
  if (!self) return;
  const participants = (id: number) => {
    const cache = getMessageInfo(db, id)?.cache;
    const content = cache ? openCache(key, cache) : null;
    return content ? { parties: content, cacheHex: Buffer.from(cache!).toString('hex') } : null;
  };
  while (backfillThreads(db, self, participants) > 0);
}

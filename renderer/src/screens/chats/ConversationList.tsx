/**
 * The chat list: one row per conversation (avatar, name, a lock for a verified
 * contact, a warning for a changed key, the newest message's preview, its time
 * and the unread count), newest activity first, in a virtualized list paged
 * from messages:conversations. With a search, the conversations whose name
 * matches and the messages whose text matches (messages:list {query}).
 */
import { memo } from 'react';
import { Virtuoso } from 'react-virtuoso';
import { AlertTriangle, Lock, Paperclip, Users } from 'lucide-react';
import { Avatar } from '../../components/Avatar';
import { listTime, nameOf, sortAt, type Conversation, type Message } from './format';

function previewText(c: Conversation): string {
  const l = c.last;
  if (l.preview === null) return 'Message rejected: not shown';
  const body = l.preview || l.subject || (l.attachments > 0 ? `${l.attachments} attachment${l.attachments === 1 ? '' : 's'}` : '');
  if (l.direction === 'out') return `You: ${l.state === 'failed' ? '(not sent) ' : ''}${body}`;
  return c.group && l.from ? `${l.from}: ${body}` : body;
}

export const ConversationRow = memo(function ConversationRow({ c, selected, onOpen }: { c: Conversation; selected: boolean; onOpen: (c: Conversation) => void }) {
  const name = nameOf(c);
  return (
    <button
      type="button"
      className={`list-row conversation-row${c.unread > 0 ? ' unread' : ''}`}
      aria-current={selected ? 'true' : undefined}
      onClick={() => onOpen(c)}
      data-peer={c.peer}
      aria-label={`${name}${c.unread > 0 ? `, ${c.unread} unread` : ''}${c.keyChanged ? ', key changed' : c.verified ? ', verified' : ''}: ${previewText(c)}`}
    >
      {c.group ? (
        <span className="avatar group-avatar" aria-hidden="true">
          <Users size={18} />
        </span>
      ) : (
        <Avatar name={name} />
      )}
      <span className="row-main">
        <span className="row-title">
          <span className="truncate">{name}</span>
          {c.verified && !c.keyChanged && <Lock size={13} aria-hidden="true" className="ok flex-none" />}
          {c.keyChanged && <AlertTriangle size={14} aria-hidden="true" className="warning flex-none" />}
        </span>
        <span className="row-sub">
          {c.last.attachments > 0 && <Paperclip size={12} aria-hidden="true" />}
          <span className="truncate">{previewText(c)}</span>
        </span>
      </span>
      <span className="row-meta">
        <time dateTime={new Date(c.lastAt).toISOString()}>{listTime(c.lastAt)}</time>
        {c.unread > 0 && <span className="count">{c.unread}</span>}
      </span>
    </button>
  );
});

export function ConversationList({
  conversations,
  selected,
  onOpen,
  onEndReached,
}: {
  conversations: Conversation[];
  selected: string | null;
  onOpen: (c: Conversation) => void;
  onEndReached: () => void;
}) {
  return (
    <Virtuoso
      className="conversation-list"
      role="list"
      aria-label="Conversations"
      data={conversations}
      initialItemCount={Math.min(conversations.length, 30)}
      computeItemKey={(_, c) => c.peer}
      endReached={onEndReached}
      itemContent={(_, c) => (
        <div role="listitem">
          <ConversationRow c={c} selected={selected === c.peer} onOpen={onOpen} />
        </div>
      )}
    />
  );
}

/** A search hit: one message, with whom and when. */
export function MessageHit({ m, onOpen }: { m: Message; onOpen: (m: Message) => void }) {
  const name = m.peerName ?? m.peer;
  return (
    <button type="button" className="list-row" onClick={() => onOpen(m)}>
      <Avatar name={name} size="sm" />
      <span className="row-main">
        <span className="row-title truncate">{name}</span>
        <span className="row-sub">
          {m.direction === 'out' ? 'You: ' : ''}
          {m.subject ? `${m.subject} — ` : ''}
          {m.text ?? ''}
        </span>
      </span>
      <span className="row-meta">
        <time dateTime={new Date(sortAt(m)).toISOString()}>{listTime(sortAt(m))}</time>
      </span>
    </button>
  );
}

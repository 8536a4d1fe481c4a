/**
 * One conversation: the header (who, the sender check once, loudly on a key
 * change), the messages in strict time order in a virtualized list (pages of
 * 50 from the engine, older ones loaded when scrolled to the top), day
 * separators, and the composer docked at the bottom. Files dropped anywhere
 * on the conversation are attached. Updates on the engine's events; marks
 * what arrives read while the page is visible.
 */
import { useCallback, useEffect, useRef, useState, type DragEvent } from 'react';
import { Virtuoso, type VirtuosoHandle } from 'react-virtuoso';
import { ArrowLeft, Info, Lock, MessageSquare, ShieldAlert, Upload, Users } from 'lucide-react';
import { sealpost } from '../../bridge';
import { Avatar } from '../../components/Avatar';
import { Dialog } from '../../components/Dialog';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBanner } from '../../components/ErrorBanner';
import type { UiError } from '../../errors';
import { call } from '../../lib/call';
import { inView, useRefreshOn, useWhenVisible } from '../../lib/events';
import { ContactDetails, type Contact } from '../contacts/ContactDetails';
import { Composer, type ComposerHandle } from './Composer';
import { byConversationOrder, dayLabel, sameDay, sortAt, type Message } from './format';
import { MessageBubble } from './MessageBubble';
import { SenderCheck, type MemberContact } from './SenderCheck';

const PAGE = 50;
/** Virtuoso's index of the first item; prepending older pages counts down from here. */
const START_INDEX = 1_000_000;

export interface ConversationTarget {
  /** The conversation's id: the peer's user id, or a group's. */
  peer: string;
  name: string;
  /** Everyone in it besides us (one for two people). */
  members: { userId: string; name: string }[];
}

function merge(current: Message[], incoming: Message[]): Message[] {
  const byId = new Map(current.map((m) => [m.id, m]));
  for (const m of incoming) byId.set(m.id, m);
  return [...byId.values()].sort(byConversationOrder);
}

export function ConversationView({ target, onBack, onOpened }: { target: ConversationTarget; onBack: () => void; onOpened?: () => void }) {
  const [messages, setMessages] = useState<Message[] | null>(null);
  const [firstIndex, setFirstIndex] = useState(START_INDEX);
  /** undefined while loading. */
  const [contacts, setContacts] = useState<Contact[] | undefined>(undefined);
  const [error, setError] = useState<UiError | null>(null);
  /** Whose contact details are open (a user id), or the group's member list. */
  const [details, setDetails] = useState<string | null>(null);
  const [membersOpen, setMembersOpen] = useState(false);
  const [dragging, setDragging] = useState(false);
  const olderDone = useRef(false);
  const loadingOlder = useRef(false);
  const composer = useRef<ComposerHandle>(null);
  const list = useRef<VirtuosoHandle>(null);
  const { peer } = target;
  const group = target.members.length > 1;

  const markRead = useCallback(
    async (page: Message[]) => {
      // Read means seen: not while the window is behind another app (a read receipt would say otherwise).
      if (!inView()) return;
      if (!page.some((m) => m.direction === 'in' && !m.read)) return;
      await call(sealpost.messages.markRead({ conversation: peer }));
      onOpened?.();
    },
    [peer, onOpened],
  );

  const loadNewest = useCallback(async () => {
    const r = await call(sealpost.messages.list({ conversation: peer, limit: PAGE }));
    if (!r.ok) return setError(r.error);
    setError(null);
    setMessages((current) => {
      if (current === null) olderDone.current = r.value.length < PAGE;
      return merge(current ?? [], r.value);
    });
    void markRead(r.value);
  }, [peer, markRead]);

  const loadContact = useCallback(async () => {
    const r = await call(sealpost.contacts.list({}));
    if (r.ok) setContacts(r.value);
  }, []);

  useEffect(() => {
    void loadNewest();
    void loadContact();
  }, [loadNewest, loadContact]);
  useRefreshOn('messages', loadNewest);
  useRefreshOn('contacts', loadContact);
  useWhenVisible(() => void loadNewest());

  const loadOlder = useCallback(async () => {
    if (olderDone.current || loadingOlder.current || !messages || messages.length === 0) return;
    loadingOlder.current = true;
    const r = await call(sealpost.messages.list({ conversation: peer, limit: PAGE, beforeId: messages[0]!.id }));
    loadingOlder.current = false;
    if (!r.ok) return setError(r.error);
    if (r.value.length < PAGE) olderDone.current = true;
    if (r.value.length === 0) return;
    setFirstIndex((i) => i - r.value.length);
    setMessages((current) => merge(current ?? [], r.value));
  }, [messages, peer]);

  const onSent = useCallback(() => {
    void loadNewest().then(() => list.current?.scrollToIndex({ index: 'LAST', behavior: 'auto' }));
  }, [loadNewest]);

  const hasFiles = (e: DragEvent) => e.dataTransfer.types.includes('Files');
  const members: MemberContact[] | undefined = contacts && target.members.map((m) => ({ ...m, contact: contacts.find((c) => c.userId === m.userId) ?? null }));
  /** Two people: the other's contact (null: not a contact). */
  const contact = members && !group ? members[0]!.contact : undefined;
  const reachable = !!members && members.every((m) => m.contact?.reachable);
  const allVerified = !!members && members.every((m) => m.contact?.verified && !m.contact.keyChanged);
  const anyChanged = !!members && members.some((m) => m.contact?.keyChanged);
  const detailsContact = details ? (contacts?.find((c) => c.userId === details) ?? null) : null;
  const updateContact = (c: Contact) => setContacts((all) => all?.map((x) => (x.userId === c.userId ? c : x)));
  const blocked = members?.find((m) => !m.contact?.reachable);

  return (
    <div
      className={`conversation${dragging ? ' dragging' : ''}`}
      onDragOver={(e) => {
        if (!hasFiles(e) || !reachable) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
        setDragging(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget.contains(e.relatedTarget as Node | null)) return;
        setDragging(false);
      }}
      onDrop={(e) => {
        setDragging(false);
        if (!hasFiles(e) || !reachable) return;
        e.preventDefault();
        composer.current?.addFiles([...e.dataTransfer.files]);
        composer.current?.focus();
      }}
    >
      <header className="pane-header conversation-header">
        <button type="button" className="icon-btn back-btn" onClick={onBack} aria-label="Back to chats">
          <ArrowLeft size={18} aria-hidden="true" />
        </button>
        {group ? (
          <span className="avatar sm group-avatar" aria-hidden="true">
            <Users size={16} />
          </span>
        ) : (
          <Avatar name={target.name} size="sm" />
        )}
        <h2 className="truncate" id="conversation-title">
          {target.name}
        </h2>
        {allVerified && <Lock size={16} aria-label={group ? 'Everyone verified' : 'Verified contact'} className="ok flex-none" />}
        {anyChanged && <ShieldAlert size={18} aria-label="Key changed" className="warning flex-none" />}
        {(group || contact) && (
          <button
            type="button"
            className="icon-btn"
            onClick={() => (group ? setMembersOpen(true) : setDetails(peer))}
            aria-label={group ? `People in ${target.name}` : `Details of ${target.name}`}
            title={group ? 'People in this conversation' : 'Contact details'}
          >
            <Info size={18} aria-hidden="true" />
          </button>
        )}
      </header>
      <SenderCheck members={members} onDetails={setDetails} />
      {error && (
        <div className="pane-banner">
          <ErrorBanner error={error} />
        </div>
      )}
      <div className="message-area">
        {messages !== null && messages.length === 0 && (
          <EmptyState icon={MessageSquare} title={`No messages with ${target.name} yet`}>
            Write the first one below. It is sealed on this device for {group ? 'these people' : target.name} only.
          </EmptyState>
        )}
        {messages !== null && messages.length > 0 && (
          <Virtuoso
            ref={list}
            className="message-list"
            role="log"
            aria-labelledby="conversation-title"
            data={messages}
            firstItemIndex={firstIndex}
            initialTopMostItemIndex={messages.length - 1}
            alignToBottom
            startReached={() => void loadOlder()}
            followOutput={(atBottom) => (atBottom ? 'auto' : false)}
            computeItemKey={(_, m) => m.id}
            increaseViewportBy={{ top: 400, bottom: 200 }}
            itemContent={(index, m) => {
              const prev = messages[index - firstIndex - 1];
              const at = sortAt(m);
              return (
                <div className="message-item">
                  {(!prev || !sameDay(sortAt(prev), at)) && (
                    <div className="day-separator" role="separator" aria-label={dayLabel(at)}>
                      <span>{dayLabel(at)}</span>
                    </div>
                  )}
                  <MessageBubble m={m} showSender={group} onChange={() => void loadNewest()} />
                </div>
              );
            }}
          />
        )}
        {dragging && (
          <div className="drop-overlay" aria-hidden="true">
            <Upload size={32} />
            <span>Drop to attach</span>
          </div>
        )}
      </div>
      {reachable ? (
        <Composer key={peer} ref={composer} peer={peer} to={target.name} recipients={members!.map((m) => m.contact!.username)} onSent={onSent} />
      ) : (
        <p className="composer-off muted small">
          {!blocked ? '' : blocked.contact ? `${blocked.name} has no inbox on the key service yet: messages cannot be written to them.` : group ? `Add ${blocked.name} as a contact to write to this group.` : 'Add them as a contact to reply.'}
        </p>
      )}
      <Dialog open={membersOpen} title={`People in ${target.name}`} onClose={() => setMembersOpen(false)}>
        <ul className="list picker" aria-label="People">
          {members?.map((m) => (
            <li key={m.userId}>
              <button
                type="button"
                className="list-row"
                disabled={!m.contact}
                onClick={() => {
                  setMembersOpen(false);
                  setDetails(m.userId);
                }}
              >
                <Avatar name={m.name} size="sm" />
                <span className="row-main">
                  <span className="row-title">
                    {m.name}
                    {m.contact?.verified && !m.contact.keyChanged && <Lock size={13} aria-label="verified" className="ok" />}
                    {m.contact?.keyChanged && <ShieldAlert size={14} aria-label="key changed" className="warning" />}
                  </span>
                  <span className="row-sub">{!m.contact ? 'Not a contact' : m.contact.keyChanged ? 'Key changed: compare again' : m.contact.verified ? 'Verified' : 'Not verified yet'}</span>
                </span>
              </button>
            </li>
          ))}
        </ul>
      </Dialog>
      <Dialog open={!!detailsContact} title={detailsContact?.username ?? ''} onClose={() => setDetails(null)} wide>
        {detailsContact && <ContactDetails contact={detailsContact} onChange={updateContact} />}
      </Dialog>
    </div>
  );
}

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
import { ArrowLeft, Info, Lock, MessageSquare, ShieldAlert, ShieldQuestion, Upload } from 'lucide-react';
import { sealpost } from '../../bridge';
import { Avatar } from '../../components/Avatar';
import { Dialog } from '../../components/Dialog';
import { EmptyState } from '../../components/EmptyState';
import { ErrorBanner } from '../../components/ErrorBanner';
import type { UiError } from '../../errors';
import { call } from '../../lib/call';
import { useRefreshOn, useWhenVisible } from '../../lib/events';
import { ContactDetails, KeyChangedAlarm, type Contact } from '../contacts/ContactDetails';
import { Composer, type ComposerHandle } from './Composer';
import { byConversationOrder, dayLabel, sameDay, sortAt, type Message } from './format';
import { MessageBubble } from './MessageBubble';

const PAGE = 50;
/** Virtuoso's index of the first item; prepending older pages counts down from here. */
const START_INDEX = 1_000_000;

export interface ConversationTarget {
  peer: string;
  name: string;
}

function SenderCheck({ contact, onDetails }: { contact: Contact | null | undefined; onDetails: () => void }) {
  if (contact === undefined) return null;
  if (!contact) {
    return (
      <p className="sender-check warn" data-testid="sender-check">
        <ShieldAlert size={16} aria-hidden="true" />
        <span>Not a contact: who sent these could not be checked.</span>
      </p>
    );
  }
  if (contact.keyChanged) {
    return (
      <div className="sender-check-alarm" data-testid="sender-check">
        <KeyChangedAlarm contact={contact} />
        <button type="button" className="secondary small" onClick={onDetails}>
          Compare the safety number
        </button>
      </div>
    );
  }
  if (contact.verified) {
    return (
      <p className="sender-check ok" data-testid="sender-check">
        <Lock size={14} aria-hidden="true" />
        <span>Verified: you compared safety numbers with {contact.username}. Messages are end-to-end encrypted.</span>
      </p>
    );
  }
  return (
    <p className="sender-check" data-testid="sender-check">
      <ShieldQuestion size={16} aria-hidden="true" />
      <span>
        {contact.username} is not verified yet.{' '}
        <button type="button" className="link" onClick={onDetails}>
          Compare safety numbers
        </button>
      </span>
    </p>
  );
}

function merge(current: Message[], incoming: Message[]): Message[] {
  const byId = new Map(current.map((m) => [m.id, m]));
  for (const m of incoming) byId.set(m.id, m);
  return [...byId.values()].sort(byConversationOrder);
}

export function ConversationView({ target, onBack, onOpened }: { target: ConversationTarget; onBack: () => void; onOpened?: () => void }) {
  const [messages, setMessages] = useState<Message[] | null>(null);
  const [firstIndex, setFirstIndex] = useState(START_INDEX);
  /** undefined while loading; null: not a contact. */
  const [contact, setContact] = useState<Contact | null | undefined>(undefined);
  const [error, setError] = useState<UiError | null>(null);
  const [details, setDetails] = useState(false);
  const [dragging, setDragging] = useState(false);
  const olderDone = useRef(false);
  const loadingOlder = useRef(false);
  const composer = useRef<ComposerHandle>(null);
  const list = useRef<VirtuosoHandle>(null);
  const { peer } = target;

  const markRead = useCallback(
    async (page: Message[]) => {
      if (document.visibilityState !== 'visible') return;
      if (!page.some((m) => m.direction === 'in' && !m.read)) return;
      await call(sealpost.messages.markRead({ peer }));
      onOpened?.();
    },
    [peer, onOpened],
  );

  const loadNewest = useCallback(async () => {
    const r = await call(sealpost.messages.list({ peer, limit: PAGE }));
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
    if (r.ok) setContact(r.value.find((c) => c.userId === peer) ?? null);
  }, [peer]);

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
    const r = await call(sealpost.messages.list({ peer, limit: PAGE, beforeId: messages[0]!.id }));
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
  const reachable = contact?.reachable ?? false;

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
        <Avatar name={target.name} size="sm" />
        <h2 className="truncate" id="conversation-title">
          {target.name}
        </h2>
        {contact?.verified && !contact.keyChanged && <Lock size={16} aria-label="Verified contact" className="ok" />}
        {contact?.keyChanged && <ShieldAlert size={18} aria-label="Key changed" className="warning" />}
        {contact && (
          <button type="button" className="icon-btn" onClick={() => setDetails(true)} aria-label={`Details of ${target.name}`} title="Contact details">
            <Info size={18} aria-hidden="true" />
          </button>
        )}
      </header>
      <SenderCheck contact={contact} onDetails={() => setDetails(true)} />
      {error && (
        <div className="pane-banner">
          <ErrorBanner error={error} />
        </div>
      )}
      <div className="message-area">
        {messages !== null && messages.length === 0 && (
          <EmptyState icon={MessageSquare} title={`No messages with ${target.name} yet`}>
            Write the first one below. It is sealed on this device for {target.name} only.
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
                  <MessageBubble m={m} onChange={() => void loadNewest()} />
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
        <Composer key={peer} ref={composer} peer={peer} to={target.name} onSent={onSent} />
      ) : (
        <p className="composer-off muted small">{contact === undefined ? '' : contact ? `${target.name} has no inbox on the key service yet: messages cannot be written to them.` : 'Add them as a contact to reply.'}</p>
      )}
      <Dialog open={details && !!contact} title={target.name} onClose={() => setDetails(false)} wide>
        {contact && <ContactDetails contact={contact} onChange={setContact} />}
      </Dialog>
    </div>
  );
}

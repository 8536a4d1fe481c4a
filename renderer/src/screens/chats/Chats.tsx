/**
 * Chats: the conversation list beside the open conversation (one pane at a
 * time on narrow windows). Search covers names and message text. The list
 * reloads on the engine's `messages` and `contacts` events; nothing polls.
 *
 * Props from the shell: `newConversationRequest` — bump it (Ctrl/Cmd+N) to
 * open the new-conversation dialog; `openRequest` — a conversation to open
 * (e.g. from a contact's Message button), applied whenever its `n` changes.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { MessagesSquare, SquarePen } from 'lucide-react';
import { sealpost } from '../../bridge';
import { EmptyState } from '../../components/EmptyState';
import { ListPane } from '../../components/ListPane';
import type { UiError } from '../../errors';
import { call } from '../../lib/call';
import { useRefreshOn } from '../../lib/events';
import { ConversationList, MessageHit } from './ConversationList';
import { ConversationView, type ConversationTarget } from './ConversationView';
import { forgetOnLock } from './forget-on-lock';
import { conversationId } from '../../../../shared/conversation-id';
import { nameOf, targetOf, type Conversation, type Message } from './format';
import { NewConversation } from './NewConversation';
import './chats.css';

const PAGE = 100;
const MAX_RELOAD = 500;
const SEARCH_DELAY_MS = 250;

export interface ChatsProps {
  newConversationRequest?: number;
  openRequest?: { peer: string; name: string; n: number } | null;
  /** Called when messages were marked read (the shell's unread count may change). */
  onChange?: () => void;
}

export function Chats({ newConversationRequest = 0, openRequest = null, onChange }: ChatsProps) {
  const [conversations, setConversations] = useState<Conversation[] | null>(null);
  const [target, setTarget] = useState<ConversationTarget | null>(null);
  const [query, setQuery] = useState('');
  const [hits, setHits] = useState<Message[] | null>(null);
  const [picking, setPicking] = useState(false);
  const [error, setError] = useState<UiError | null>(null);
  const allLoaded = useRef(false);
  const loaded = useRef(0);

  useEffect(forgetOnLock, []);

  const reload = useCallback(async () => {
    const limit = Math.min(MAX_RELOAD, Math.max(PAGE, loaded.current));
    const r = await call(sealpost.messages.conversations({ limit }));
    if (!r.ok) return setError(r.error);
    setError(null);
    allLoaded.current = r.value.length < limit;
    loaded.current = r.value.length;
    setConversations(r.value);
  }, []);

  const more = useCallback(async () => {
    if (allLoaded.current || conversations === null) return;
    const r = await call(sealpost.messages.conversations({ limit: PAGE, offset: conversations.length }));
    if (!r.ok) return setError(r.error);
    if (r.value.length < PAGE) allLoaded.current = true;
    setConversations((current) => {
      const seen = new Set((current ?? []).map((c) => c.peer));
      const next = [...(current ?? []), ...r.value.filter((c) => !seen.has(c.peer))];
      loaded.current = next.length;
      return next;
    });
  }, [conversations]);

  useEffect(() => {
    void reload();
  }, [reload]);
  useRefreshOn(['messages', 'contacts'], reload);

  // Search: names match at once, message text after a short pause (the engine opens each message to look).
  useEffect(() => {
    const q = query.trim();
    if (!q) return setHits(null);
    const timer = setTimeout(() => {
      void call(sealpost.messages.list({ query: q, limit: 50 })).then((r) => (r.ok ? setHits(r.value) : setError(r.error)));
    }, SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [query]);

  const firstRequest = useRef(newConversationRequest);
  useEffect(() => {
    if (newConversationRequest !== firstRequest.current) setPicking(true);
  }, [newConversationRequest]);
  useEffect(() => {
    if (openRequest) setTarget({ peer: openRequest.peer, name: openRequest.name, members: [{ userId: openRequest.peer, name: openRequest.name }] });
  }, [openRequest]);

  const open = useCallback((c: Conversation) => setTarget(targetOf(c)), []);
  /** A search hit opens its conversation (a group's from the list when it is there). */
  const openHit = (m: Message) => {
    const known = conversations?.find((c) => c.peer === m.conversation);
    const name = m.peerName ?? m.peer;
    setTarget(known ? targetOf(known) : { peer: m.conversation, name, members: [{ userId: m.peer, name }] });
  };
  const opened = useCallback(() => {
    void reload();
    onChange?.();
  }, [reload, onChange]);

  const q = query.trim().toLocaleLowerCase();
  const named = q && conversations ? conversations.filter((c) => nameOf(c).toLocaleLowerCase().includes(q)) : null;

  return (
    <section className="screen chats" aria-labelledby="chats-title">
      <div className={`split-view${target ? ' show-detail' : ''}`}>
        <ListPane
          title="Chats"
          titleId="chats-title"
          action={
            <button type="button" className="icon-btn" onClick={() => setPicking(true)} aria-label="New conversation" title="New conversation (Ctrl+N)">
              <SquarePen size={18} aria-hidden="true" />
            </button>
          }
          search={{ label: 'Search chats and messages', value: query, onChange: setQuery }}
          error={error}
          bodyClassName="chats-list-body"
        >
          {named !== null ? (
            <div className="search-results">
              <h2 className="list-heading">Chats</h2>
              {named.length === 0 ? (
                <p className="muted small list-note">No chat with that name.</p>
              ) : (
                <ul className="list" aria-label="Matching chats">
                  {named.map((c) => (
                    <li key={c.peer}>
                      <button type="button" className="list-row" onClick={() => open(c)}>
                        <span className="row-main">
                          <span className="row-title">{nameOf(c)}</span>
                        </span>
                      </button>
                    </li>
                  ))}
                </ul>
              )}
              <h2 className="list-heading">Messages</h2>
              {hits === null ? (
                <p className="muted small list-note" aria-busy="true">
                  Searching…
                </p>
              ) : hits.length === 0 ? (
                <p className="muted small list-note">No message contains “{query.trim()}”.</p>
              ) : (
                <ul className="list" aria-label="Matching messages">
                  {hits.map((m) => (
                    <li key={m.id}>
                      <MessageHit m={m} onOpen={openHit} />
                    </li>
                  ))}
                </ul>
              )}
            </div>
          ) : conversations === null ? null : conversations.length === 0 ? (
            <EmptyState
              icon={MessagesSquare}
              title="No conversations yet"
              action={
                <button type="button" onClick={() => setPicking(true)}>
                  <SquarePen size={16} aria-hidden="true" /> New conversation
                </button>
              }
            >
              Start one with a contact. Messages are sealed on this device and sent when the key service can be reached.
            </EmptyState>
          ) : (
            <ConversationList conversations={conversations} selected={target?.peer ?? null} onOpen={open} onEndReached={() => void more()} />
          )}
        </ListPane>
        <div className="pane-detail">
          {target ? (
            <ConversationView key={target.peer} target={target} onBack={() => setTarget(null)} onOpened={opened} />
          ) : (
            <EmptyState icon={MessagesSquare} title="Choose a conversation">
              Pick one on the left, or start a new one with Ctrl+N.
            </EmptyState>
          )}
        </div>
      </div>
      <NewConversation
        open={picking}
        onClose={() => setPicking(false)}
        onPick={(picked) => {
          setPicking(false);
          const members = picked.map((c) => ({ userId: c.userId, name: c.username }));
          setTarget({ peer: conversationId(members.map((m) => m.userId)), name: members.map((m) => m.name).join(', '), members });
          void reload();
        }}
      />
    </section>
  );
}

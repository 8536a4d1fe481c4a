/**
 * Messages: the inbox (unread first in weight, search, verified/unverified
 * sender), a conversation with one person, compose, and each outgoing
 * message's outbox state with "retry" / "send now".
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { Output } from '../../../shared/contract';
import { sealpost } from '../bridge';
import { ErrorBanner } from '../components/ErrorBanner';
import type { UiError } from '../errors';
import { formatSize } from '../lib/base64';
import { call } from '../lib/call';

type Message = Output<'messages:list'>[number];
type View = { kind: 'list' } | { kind: 'compose'; to?: string } | { kind: 'conversation'; peer: string; name: string };

const SENDER_LABEL: Record<Message['sender'], string> = {
  self: 'You',
  verified: 'Verified sender',
  unverified: 'Sender not verified',
  'key-changed': 'Sender key changed',
  unknown: 'Unknown sender',
  rejected: 'Rejected',
};

const STATE_LABEL: Record<Message['state'], string> = { queued: 'Queued', sending: 'Sending', sent: 'Sent', failed: 'Failed', received: 'Received' };

function SenderBadge({ m }: { m: Message }) {
  if (m.direction === 'out') return null;
  const cls = m.sender === 'verified' ? 'tag tag-ok' : m.sender === 'unverified' ? 'tag' : 'tag tag-alarm';
  return <span className={cls}>{SENDER_LABEL[m.sender]}</span>;
}

function OutboxState({ m, onChange }: { m: Message; onChange: () => void }) {
  const [error, setError] = useState<UiError | null>(null);
  if (m.direction !== 'out') return null;
  async function retry() {
    const r = await call(sealpost.messages.retry({ id: m.id }));
    setError(r.ok ? null : r.error);
    onChange();
  }
  return (
    <span className="row">
      <span className={`tag ${m.state === 'failed' ? 'tag-alarm' : m.state === 'sent' ? 'tag-ok' : ''}`} data-testid="outbox-state">
        {STATE_LABEL[m.state]}
      </span>
      {m.state === 'failed' && m.reason && <span className="small warning">{m.reason}</span>}
      {(m.state === 'failed' || m.state === 'queued') && (
        <button type="button" className="secondary" onClick={() => void retry()}>
          {m.state === 'failed' ? 'Retry' : 'Send now'}
        </button>
      )}
      {error && <ErrorBanner error={error} />}
    </span>
  );
}

function MessageBody({ m, onChange }: { m: Message; onChange: () => void }) {
  return (
    <article className={`message ${m.direction === 'out' ? 'out' : 'in'}`} aria-label={`${m.direction === 'out' ? 'Sent' : 'Received'} message ${m.subject ?? ''}`}>
      <header className="row small">
        <strong>{m.direction === 'out' ? `To ${m.peerName ?? m.peer}` : `From ${m.peerName ?? m.peer}`}</strong>
        <SenderBadge m={m} />
        <OutboxState m={m} onChange={onChange} />
        <span className="muted">{new Date(m.sentAt ?? m.createdAt).toLocaleString()}</span>
      </header>
      {m.subject && <h4>{m.subject}</h4>}
      {m.text === null ? (
        <p className="warning">This message was rejected ({m.reason ?? 'it did not check out'}) and is not shown.</p>
      ) : (
        <p className="msgtext">{m.text}</p>
      )}
      {m.attachments.length > 0 && (
        <ul className="plain small" aria-label="Attachments">
          {m.attachments.map((a) => (
            <li key={a.id}>
              📎 {a.name} · {formatSize(a.size)} · {a.state === 'complete' ? 'checked' : a.state}
            </li>
          ))}
        </ul>
      )}
    </article>
  );
}

function Compose({ to: initialTo, contacts, onSent, onCancel }: { to?: string; contacts: string[]; onSent: () => void; onCancel?: () => void }) {
  const [to, setTo] = useState(initialTo ?? '');
  const [subject, setSubject] = useState('');
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);
  const reply = initialTo !== undefined;

  async function send(event: FormEvent) {
    event.preventDefault();
    const recipients = to
      .split(/[,\s]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    if (recipients.length === 0) return setError({ text: 'Add at least one recipient.', details: 'InvalidParameter (-29): no recipient' });
    setBusy(true);
    const r = await call(sealpost.messages.send({ to: recipients, text, ...(subject.trim() && { subject: subject.trim() }) }));
    setBusy(false);
    if (!r.ok) return setError(r.error);
    setError(null);
    setText('');
    setSubject('');
    onSent();
  }

  return (
    <form className={reply ? 'stack' : 'card'} onSubmit={send} aria-label={reply ? 'Reply' : 'New message'}>
      {!reply && <h2>New message</h2>}
      {!reply && (
        <label>
          To (user names, separated by commas)
          <input value={to} onChange={(e) => setTo(e.target.value)} list="compose-contacts" required autoFocus />
          <datalist id="compose-contacts">
            {contacts.map((c) => (
              <option key={c} value={c} />
            ))}
          </datalist>
        </label>
      )}
      {!reply && (
        <label>
          Subject
          <input value={subject} onChange={(e) => setSubject(e.target.value)} maxLength={500} />
        </label>
      )}
      <label>
        {reply ? 'Your reply' : 'Message'}
        <textarea value={text} onChange={(e) => setText(e.target.value)} rows={reply ? 3 : 8} required />
      </label>
      <p className="muted small">Sealed on this device and queued at once; it is sent when the key service can be reached. Attachments: `sealpost send --file` for now.</p>
      {error && <ErrorBanner error={error} />}
      <div className="row">
        <button type="submit" disabled={busy || !text}>
          {busy ? 'Sealing…' : 'Send'}
        </button>
        {onCancel && (
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

export function Inbox({ refreshKey, onChange }: { refreshKey: number; onChange: () => void }) {
  const [view, setView] = useState<View>({ kind: 'list' });
  const [messages, setMessages] = useState<Message[]>([]);
  const [thread, setThread] = useState<Message[]>([]);
  const [contacts, setContacts] = useState<string[]>([]);
  const [query, setQuery] = useState('');
  const [unreadOnly, setUnreadOnly] = useState(false);
  const [error, setError] = useState<UiError | null>(null);

  const load = useCallback(async () => {
    const r = await call(sealpost.messages.list({ limit: 200, ...(query.trim() && { query: query.trim() }), ...(unreadOnly && { unreadOnly }) }));
    if (r.ok) {
      setMessages(r.value);
      setError(null);
    } else setError(r.error);
    const c = await call(sealpost.contacts.list({}));
    if (c.ok) setContacts(c.value.map((x) => x.username));
  }, [query, unreadOnly]);

  const loadThread = useCallback(async (peer: string) => {
    const r = await call(sealpost.messages.list({ peer, limit: 200 }));
    if (!r.ok) return setError(r.error);
    setThread([...r.value].reverse());
    const unread = r.value.filter((m) => m.direction === 'in' && !m.read).map((m) => m.id);
    if (unread.length > 0) {
      await call(sealpost.messages.markRead({ ids: unread }));
      onChange();
    }
  }, [onChange]);

  useEffect(() => {
    void load();
    if (view.kind === 'conversation') void loadThread(view.peer);
  }, [load, loadThread, view, refreshKey]);

  const changed = () => {
    void load();
    if (view.kind === 'conversation') void loadThread(view.peer);
    onChange();
  };

  return (
    <div className="split">
      <section className="card list-pane" aria-labelledby="inbox-title">
        <h2 id="inbox-title">Inbox</h2>
        <button type="button" onClick={() => setView({ kind: 'compose' })}>
          New message
        </button>
        <label>
          Search messages
          <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} />
        </label>
        <label className="check">
          <input type="checkbox" checked={unreadOnly} onChange={(e) => setUnreadOnly(e.target.checked)} />
          Unread only
        </label>
        {error && <ErrorBanner error={error} />}
        {messages.length === 0 && <p className="muted">No messages.</p>}
        <ul className="itemlist" aria-label="Messages">
          {messages.map((m) => (
            <li key={m.id}>
              <button
                type="button"
                className={`itembtn ${m.direction === 'in' && !m.read ? 'unread' : ''}`}
                aria-current={view.kind === 'conversation' && view.peer === m.peer ? 'true' : undefined}
                onClick={() => setView({ kind: 'conversation', peer: m.peer, name: m.peerName ?? m.peer })}
              >
                <span className="itemtitle">
                  {m.direction === 'out' ? `To ${m.peerName ?? m.peer}` : (m.peerName ?? m.peer)}
                  {m.direction === 'in' && !m.read ? ' · unread' : ''}
                </span>
                <span className="small">{m.subject ?? (m.text ?? '').slice(0, 60)}</span>
                <span className="tags">
                  <SenderBadge m={m} />
                  {m.direction === 'out' && <span className={`tag ${m.state === 'failed' ? 'tag-alarm' : ''}`}>{STATE_LABEL[m.state]}</span>}
                  {m.attachments.length > 0 && <span className="tag">📎 {m.attachments.length}</span>}
                </span>
              </button>
            </li>
          ))}
        </ul>
      </section>
      <div className="detail-pane">
        {view.kind === 'compose' && (
          <Compose
            contacts={contacts}
            onSent={() => {
              setView({ kind: 'list' });
              changed();
            }}
            onCancel={() => setView({ kind: 'list' })}
          />
        )}
        {view.kind === 'conversation' && (
          <section className="card" aria-labelledby="conv-title">
            <h2 id="conv-title">Conversation with {view.name}</h2>
            <div className="thread">
              {thread.map((m) => (
                <MessageBody key={m.id} m={m} onChange={changed} />
              ))}
            </div>
            <Compose key={view.peer} to={view.name} contacts={contacts} onSent={changed} />
          </section>
        )}
        {view.kind === 'list' && <p className="muted card">Choose a message to read the conversation, or write a new one.</p>}
      </div>
    </div>
  );
}

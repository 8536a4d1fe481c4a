/**
 * Messages: the inbox (unread first in weight, search, verified/unverified
 * sender), a conversation with one person, compose with attachments (staged in
 * chunks, with progress), each outgoing message's outbox state with "retry" /
 * "send now" and upload progress, and saving received attachments. The list
 * and the open conversation reload on the engine's `messages` events, so a new
 * message and a Delivered state show up without a click.
 */
import { useCallback, useEffect, useRef, useState, type ChangeEvent, type FormEvent } from 'react';
import type { Output } from '../../../shared/contract';
import { sealpost } from '../bridge';
import { ErrorBanner } from '../components/ErrorBanner';
import type { UiError } from '../errors';
import { formatSize } from '../lib/base64';
import { AttachmentError, readAttachment, stageFile, unstage } from '../lib/attachments';
import { call } from '../lib/call';
import { saveFile } from '../lib/download';
import { useRefreshOn, useWhenVisible } from '../lib/events';

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

const STATE_LABEL: Record<Message['state'], string> = { queued: 'Queued', sending: 'Sending', sent: 'Sent', delivered: 'Delivered', failed: 'Failed', received: 'Received' };

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
      <span className={`tag ${m.state === 'failed' ? 'tag-alarm' : m.state === 'sent' || m.state === 'delivered' ? 'tag-ok' : ''}`} data-testid="outbox-state">
        {m.state === 'delivered' && m.deliveredAt !== null ? `Delivered ${new Date(m.deliveredAt).toLocaleTimeString()}` : STATE_LABEL[m.state]}
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

function UploadProgress({ m }: { m: Message }) {
  if (m.direction !== 'out' || !m.upload || m.state === 'sent' || m.state === 'delivered') return null;
  const { done, total } = m.upload;
  return (
    <span className="row small" data-testid="upload-progress">
      <progress aria-label="Upload to the key service" max={total} value={done} />
      <span>
        {done} of {total} parts at the key service
      </span>
    </span>
  );
}

function SaveAttachment({ m, a }: { m: Message; a: Message['attachments'][number] }) {
  const [progress, setProgress] = useState<number | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  async function save() {
    setError(null);
    setNote(null);
    setProgress(0);
    try {
      const { name, blob } = await readAttachment(m.id, a.id, a.sha256, (done, total) => setProgress(total === 0 ? 1 : done / total));
      saveFile(name, blob);
      setNote(`Saved ${name} (checked).`);
    } catch (e) {
      setError(e instanceof AttachmentError ? e.ui : { text: 'Something went wrong. Your data is unchanged.', details: `Failed (-1): ${e instanceof Error ? e.message : String(e)}` });
    } finally {
      setProgress(null);
    }
  }
  return (
    <li>
      <span>
        📎 {a.name} · {formatSize(a.size)} · {a.state === 'complete' ? 'checked' : a.state}
      </span>{' '}
      {a.state === 'complete' && m.text !== null && (
        <button type="button" className="secondary" onClick={() => void save()} disabled={progress !== null} aria-label={`Save ${a.name}`}>
          Save
        </button>
      )}
      {progress !== null && <progress aria-label={`Saving ${a.name}`} max={1} value={progress} />}
      {note && (
        <span className="ok" role="status">
          {note}
        </span>
      )}
      {error && <ErrorBanner error={error} />}
    </li>
  );
}

function MessageBody({ m, onChange }: { m: Message; onChange: () => void }) {
  return (
    <article className={`message ${m.direction === 'out' ? 'out' : 'in'}`} aria-label={`${m.direction === 'out' ? 'Sent' : 'Received'} message ${m.subject ?? ''}`}>
      <header className="row small">
        <strong>{m.direction === 'out' ? `To ${m.peerName ?? m.peer}` : `From ${m.peerName ?? m.peer}`}</strong>
        <SenderBadge m={m} />
        <OutboxState m={m} onChange={onChange} />
        <UploadProgress m={m} />
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
            <SaveAttachment key={a.id} m={m} a={a} />
          ))}
        </ul>
      )}
    </article>
  );
}

interface Attached {
  key: number;
  name: string;
  size: number;
  done: number;
  stageId: string | null;
  error: UiError | null;
  signal: { cancelled: boolean };
}

function AttachmentList({ items, onRemove }: { items: Attached[]; onRemove: (a: Attached) => void }) {
  if (items.length === 0) return null;
  return (
    <ul className="plain small" aria-label="Attached files">
      {items.map((a) => (
        <li key={a.key} className="row">
          <span>
            📎 {a.name} · {formatSize(a.size)}
          </span>
          <progress aria-label={`Attaching ${a.name}`} max={Math.max(1, a.size)} value={a.size === 0 && a.stageId ? 1 : a.done} />
          <span data-testid="attach-state">{a.error ? 'Failed' : a.stageId ? 'Ready' : `${a.size === 0 ? 0 : Math.floor((a.done / a.size) * 100)}%`}</span>
          <button type="button" className="secondary" onClick={() => onRemove(a)} aria-label={`Remove ${a.name}`}>
            Remove
          </button>
          {a.error && <ErrorBanner error={a.error} />}
        </li>
      ))}
    </ul>
  );
}

function Compose({ to: initialTo, contacts, onSent, onCancel }: { to?: string; contacts: string[]; onSent: () => void; onCancel?: () => void }) {
  const [to, setTo] = useState(initialTo ?? '');
  const [subject, setSubject] = useState('');
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);
  const [attached, setAttached] = useState<Attached[]>([]);
  const nextKey = useRef(1);
  // What is staged and not sent yet, so leaving compose removes it from the engine.
  const pending = useRef(new Map<number, Attached>());
  const reply = initialTo !== undefined;

  useEffect(() => {
    const staged = pending.current;
    return () => {
      for (const a of staged.values()) {
        a.signal.cancelled = true;
        if (a.stageId) void unstage(a.stageId);
      }
      staged.clear();
    };
  }, []);

  const update = (key: number, patch: Partial<Attached>) => {
    const current = pending.current.get(key);
    if (current) Object.assign(current, patch);
    setAttached((list) => list.map((x) => (x.key === key ? { ...x, ...patch } : x)));
  };

  function attach(event: ChangeEvent<HTMLInputElement>) {
    const files = [...(event.target.files ?? [])];
    event.target.value = '';
    for (const file of files) {
      const a: Attached = { key: nextKey.current++, name: file.name, size: file.size, done: 0, stageId: null, error: null, signal: { cancelled: false } };
      pending.current.set(a.key, a);
      setAttached((list) => [...list, a]);
      void stageFile(file, (done) => update(a.key, { done }), a.signal)
        .then((stageId) => {
          if (a.signal.cancelled) return void unstage(stageId);
          update(a.key, { stageId, done: file.size });
        })
        .catch((e: unknown) => {
          if (a.signal.cancelled) return;
          update(a.key, { error: e instanceof AttachmentError ? e.ui : { text: `Could not read ${file.name}.`, details: `Failed (-1): ${e instanceof Error ? e.message : String(e)}` } });
        });
    }
  }

  function remove(a: Attached) {
    const current = pending.current.get(a.key);
    if (current) {
      current.signal.cancelled = true;
      if (current.stageId) void unstage(current.stageId);
    }
    pending.current.delete(a.key);
    setAttached((list) => list.filter((x) => x.key !== a.key));
  }

  const uploading = attached.some((a) => !a.stageId && !a.error);
  const failed = attached.some((a) => a.error);

  async function send(event: FormEvent) {
    event.preventDefault();
    const recipients = to
      .split(/[,\s]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    if (recipients.length === 0) return setError({ text: 'Add at least one recipient.', details: 'InvalidParameter (-29): no recipient' });
    const stageIds = attached.flatMap((a) => (a.stageId ? [a.stageId] : []));
    setBusy(true);
    const r = await call(sealpost.messages.send({ to: recipients, text, ...(subject.trim() && { subject: subject.trim() }), ...(stageIds.length > 0 && { attachments: stageIds }) }));
    setBusy(false);
    if (!r.ok) return setError(r.error);
    // Sealed: the engine removed the staged files.
    pending.current.clear();
    setAttached([]);
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
        <textarea value={text} onChange={(e) => setText(e.target.value)} rows={reply ? 3 : 8} required={attached.length === 0} />
      </label>
      <label>
        Attach files
        <input type="file" multiple onChange={attach} />
      </label>
      <AttachmentList items={attached} onRemove={remove} />
      <p className="muted small">Sealed on this device and queued at once; it is sent when the key service can be reached.</p>
      {error && <ErrorBanner error={error} />}
      <div className="row">
        <button type="submit" disabled={busy || uploading || failed || (!text && attached.length === 0)}>
          {busy ? 'Sealing…' : uploading ? 'Attaching…' : 'Send'}
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
    // A message that arrives while the page is hidden stays unread until the user comes back to it.
    if (unread.length > 0 && document.visibilityState === 'visible') {
      await call(sealpost.messages.markRead({ ids: unread }));
      onChange();
    }
  }, [onChange]);

  useEffect(() => {
    void load();
    if (view.kind === 'conversation') void loadThread(view.peer);
  }, [load, loadThread, view, refreshKey]);

  const reload = async () => {
    await load();
    if (view.kind === 'conversation') await loadThread(view.peer);
  };
  useRefreshOn('messages', reload);
  // Back to a hidden page: what arrived meanwhile is read now (loadThread marks it).
  useWhenVisible(() => void reload());

  const changed = () => {
    void reload();
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

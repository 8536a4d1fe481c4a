/**
 * One message: a bubble (ours right, theirs left) with its text, attachments,
 * time and, for ours, the outbox state (queued, sending, sent, delivered,
 * failed with Retry). A rejected message shows why, never its text.
 */
import { useState } from 'react';
import { AlertTriangle, Check, CheckCheck, Clock, RotateCw, ShieldAlert } from 'lucide-react';
import { sealpost } from '../../bridge';
import { ErrorBanner } from '../../components/ErrorBanner';
import type { UiError } from '../../errors';
import { call } from '../../lib/call';
import { AttachmentItem } from './AttachmentItem';
import { clockTime, fullTime, sortAt, type Message } from './format';

const STATE_TEXT: Record<Message['state'], string> = { queued: 'Queued', sending: 'Sending', sent: 'Sent', delivered: 'Delivered', failed: 'Failed', received: 'Received' };

function StateIcon({ state }: { state: Message['state'] }) {
  const props = { size: 14, 'aria-hidden': true } as const;
  if (state === 'delivered') return <CheckCheck {...props} />;
  if (state === 'sent') return <Check {...props} />;
  if (state === 'failed') return <AlertTriangle {...props} />;
  return <Clock {...props} />;
}

function OutboxActions({ m, onChange }: { m: Message; onChange: () => void }) {
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  if (m.state !== 'failed' && m.state !== 'queued') return null;
  async function retry() {
    setBusy(true);
    const r = await call(sealpost.messages.retry({ id: m.id }));
    setBusy(false);
    setError(r.ok ? null : r.error);
    onChange();
  }
  return (
    <div className="bubble-actions">
      {m.state === 'failed' && m.reason && <span className="small">{m.reason}</span>}
      <button type="button" className={m.state === 'failed' ? 'small' : 'secondary small'} onClick={() => void retry()} disabled={busy}>
        <RotateCw size={14} aria-hidden="true" />
        {m.state === 'failed' ? 'Retry' : 'Send now'}
      </button>
      {error && <ErrorBanner error={error} />}
    </div>
  );
}

export function MessageBubble({ m, onChange }: { m: Message; onChange: () => void }) {
  const mine = m.direction === 'out';
  const at = sortAt(m);
  const uploading = mine && m.upload && m.state !== 'sent' && m.state !== 'delivered' ? m.upload : null;
  return (
    <article className={`bubble-row ${mine ? 'mine' : 'theirs'}`} aria-label={`${mine ? 'You' : (m.peerName ?? m.peer)} at ${fullTime(at)}`} data-message-id={m.id}>
      <div className={`bubble${m.state === 'failed' ? ' failed' : ''}${m.text === null ? ' rejected' : ''}`}>
        {m.subject && <p className="bubble-subject">{m.subject}</p>}
        {m.text === null ? (
          <p className="bubble-text rejected-text">
            <ShieldAlert size={16} aria-hidden="true" /> This message was rejected ({m.reason ?? 'it did not check out'}) and is not shown.
          </p>
        ) : (
          m.text && <p className="bubble-text">{m.text}</p>
        )}
        {m.attachments.length > 0 && (
          <ul className="attachments" aria-label="Attachments">
            {m.attachments.map((a) => (
              <AttachmentItem key={a.id} message={m} attachment={a} />
            ))}
          </ul>
        )}
        {uploading && (
          <div className="upload" data-testid="upload-progress">
            <progress aria-label="Upload to the key service" max={uploading.total} value={uploading.done} />
            <span className="small">
              {uploading.done} of {uploading.total} parts at the key service
            </span>
          </div>
        )}
        <footer className="bubble-meta">
          <time dateTime={new Date(at).toISOString()} title={fullTime(at)}>
            {clockTime(at)}
          </time>
          {mine && (
            <span className={`bubble-state state-${m.state}`} data-testid="outbox-state" title={STATE_TEXT[m.state]}>
              <StateIcon state={m.state} />
              <span>{STATE_TEXT[m.state]}</span>
            </span>
          )}
        </footer>
      </div>
      {mine && <OutboxActions m={m} onChange={onChange} />}
    </article>
  );
}

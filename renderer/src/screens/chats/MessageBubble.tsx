/**
 * One message: a bubble (ours right, theirs left) with its text, attachments,
 * time and, for ours, the outbox state (queued, sending, sent, delivered, read
 * with when, failed with Retry). A rejected message shows why, never its text. In a
 * group, theirs name who wrote them, and ours say how each copy stands when
 * the copies differ (Retry sends the failed ones again).
 */
import { useState } from 'react';
import { AlertTriangle, Check, CheckCheck, Clock, RotateCw, ShieldAlert } from 'lucide-react';
import { sealpost } from '../../bridge';
import { ErrorBanner } from '../../components/ErrorBanner';
import type { UiError } from '../../errors';
import { call } from '../../lib/call';
import { AttachmentItem } from './AttachmentItem';
import { clockTime, fullTime, sortAt, type Message } from './format';

const STATE_TEXT: Record<Message['state'], string> = { queued: 'Queued', sending: 'Sending', sent: 'Sent', delivered: 'Delivered', read: 'Read', failed: 'Failed', received: 'Received' };

/** How a copy stands, for its own line: "Read by bob", "Delivered to carol". */
const copyText = (state: Message['state'], who: string) => `${STATE_TEXT[state]} ${state === 'read' ? 'by' : 'to'} ${who}`;

/** The state with its time where there is one ("Read 14:03"), for the tooltip. */
function stateTitle(state: Message['state'], at: { deliveredAt: number | null; readAt: number | null }): string {
  if (state === 'read' && at.readAt !== null) return `Read ${fullTime(at.readAt)}`;
  if (state === 'delivered' && at.deliveredAt !== null) return `Delivered ${fullTime(at.deliveredAt)}`;
  return STATE_TEXT[state];
}

function StateIcon({ state }: { state: Message['state'] }) {
  const props = { size: 14, 'aria-hidden': true } as const;
  // Read: the double tick drawn heavier (the label says which, so colour is never the only cue).
  if (state === 'read') return <CheckCheck {...props} strokeWidth={3} />;
  if (state === 'delivered') return <CheckCheck {...props} />;
  if (state === 'sent') return <Check {...props} />;
  if (state === 'failed') return <AlertTriangle {...props} />;
  return <Clock {...props} />;
}

/** The copies Retry / Send now act on: the ones in the send's summed-up state. */
const copiesIn = (m: Message, state: Message['state']) => (m.recipients ? m.recipients.filter((r) => r.state === state) : [{ id: m.id, reason: m.reason }]);

function OutboxActions({ m, onChange }: { m: Message; onChange: () => void }) {
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  if (m.state !== 'failed' && m.state !== 'queued') return null;
  const copies = copiesIn(m, m.state);
  const reasons = [...new Set(copies.flatMap((c) => (c.reason ? [c.reason] : [])))];
  async function retry() {
    setBusy(true);
    let failure: UiError | null = null;
    for (const c of copies) {
      const r = await call(sealpost.messages.retry({ id: c.id }));
      if (!r.ok) failure = r.error;
    }
    setBusy(false);
    setError(failure);
    onChange();
  }
  return (
    <div className="bubble-actions">
      {m.state === 'failed' && reasons.length > 0 && <span className="small">{reasons.join('; ')}</span>}
      <button type="button" className={m.state === 'failed' ? 'small' : 'secondary small'} onClick={() => void retry()} disabled={busy}>
        <RotateCw size={14} aria-hidden="true" />
        {m.state === 'failed' ? 'Retry' : 'Send now'}
      </button>
      {error && <ErrorBanner error={error} />}
    </div>
  );
}

/** Each copy's state, when they are not all the same (all the same: the bubble's state says it). */
function CopyStates({ m }: { m: Message }) {
  const copies = m.recipients;
  if (!copies || copies.every((c) => c.state === copies[0]!.state)) return null;
  return (
    <p className="bubble-copies small" data-testid="copy-states">
      {copies.map((c, i) => (
        <span key={c.id} className={`state-${c.state}`}>
          {i > 0 && ' · '}
          {copyText(c.state, c.peerName ?? c.peer)}
        </span>
      ))}
    </p>
  );
}

export function MessageBubble({ m, showSender = false, onChange }: { m: Message; showSender?: boolean; onChange: () => void }) {
  const mine = m.direction === 'out';
  const at = sortAt(m);
  const uploading = mine && m.upload && m.state !== 'sent' && m.state !== 'delivered' && m.state !== 'read' ? m.upload : null;
  return (
    <article className={`bubble-row ${mine ? 'mine' : 'theirs'}`} aria-label={`${mine ? 'You' : (m.peerName ?? m.peer)} at ${fullTime(at)}`} data-message-id={m.id}>
      <div className={`bubble${m.state === 'failed' ? ' failed' : ''}${m.text === null ? ' rejected' : ''}`}>
        {showSender && !mine && <p className="bubble-sender">{m.peerName ?? m.peer}</p>}
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
            <span
              className={`bubble-state state-${m.state}`}
              data-testid="outbox-state"
              title={m.recipients ? m.recipients.map((c) => `${c.peerName ?? c.peer}: ${stateTitle(c.state, c)}`).join('\n') : stateTitle(m.state, m)}
            >
              <StateIcon state={m.state} />
              <span>{STATE_TEXT[m.state]}</span>
            </span>
          )}
        </footer>
      </div>
      {mine && <CopyStates m={m} />}
      {mine && <OutboxActions m={m} onChange={onChange} />}
    </article>
  );
}

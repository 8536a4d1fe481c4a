/**
 * How this desktop is connected, in the sidebar: "Live" (the key service's
 * push stream), "Checking every minute" (the timer), "Offline", what waits to
 * be sent, and "Sync now". App reloads the status on the engine's `sync`
 * events, so this never polls.
 */
import { useState } from 'react';
import { RefreshCw } from 'lucide-react';
import type { Output } from '../../../shared/contract';
import type { StreamState } from '../../../shared/contract-events';
import { sealpost } from '../bridge';
import { call } from '../lib/call';
import type { UiError } from '../errors';

export type SyncStatus = Output<'sync:status'>;

const STREAM_HINT: Record<StreamState, string> = {
  live: 'The key service tells this desktop about new messages as they arrive.',
  connecting: 'Opening the live connection to the key service.',
  polling: 'The live connection is not available: this desktop checks for new messages every minute.',
  off: '',
};

/** One word for the connection: what the user wants to know at a glance. */
export function connectionLabel(status: SyncStatus): { label: string; tone: 'live' | 'polling' | 'offline' | 'idle'; hint: string; fromStream?: true } {
  const stream: StreamState = status.stream;
  if (status.syncing && status.online !== true) return { label: 'Syncing…', tone: 'idle', hint: 'Talking to the key service.' };
  if (status.online === false) {
    return { label: 'Offline', tone: 'offline', hint: `The key service cannot be reached${status.lastError ? ` (${status.lastError})` : ''}. Messages wait in the outbox; the vault keeps working.` };
  }
  if (status.online === null) return { label: 'Not synced yet', tone: 'idle', hint: 'This desktop has not talked to the key service since it started.' };
  if (stream === 'live') return { label: 'Live', tone: 'live', hint: STREAM_HINT.live, fromStream: true };
  if (stream === 'polling') return { label: 'Checking every minute', tone: 'polling', hint: STREAM_HINT.polling, fromStream: true };
  if (stream === 'connecting') return { label: 'Connecting…', tone: 'idle', hint: STREAM_HINT.connecting, fromStream: true };
  return { label: 'Online', tone: 'live', hint: 'Connected to the key service.' };
}

function outboxText(status: SyncStatus): string {
  if (status.pending === 0 && status.failed === 0) return 'Nothing waiting to send';
  const parts = [];
  if (status.pending > 0) parts.push(`${status.pending} waiting to send`);
  if (status.failed > 0) parts.push(`${status.failed} failed`);
  return parts.join(', ');
}

export function SyncState({ status, onSynced, onError }: { status: SyncStatus; onSynced: () => void; onError: (error: UiError | null) => void }) {
  const [busy, setBusy] = useState(false);
  const conn = connectionLabel(status);

  async function syncNow() {
    setBusy(true);
    const r = await call(sealpost.sync.now({}));
    setBusy(false);
    onError(r.ok ? null : r.error);
    onSynced();
  }

  const last = status.lastSyncAt !== null ? `Last sync ${new Date(status.lastSyncAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}` : '';
  return (
    <div className="sync-box" role="status" aria-label="Sync status">
      <div className="sync-state" title={`${conn.label}: ${conn.hint}${last ? ` ${last}.` : ''}`}>
        <span className={`dot ${conn.tone}`} aria-hidden="true" />
        <span className="sync-label grow truncate">
          {/* The stream's states (Live, Checking every minute) or the connection's (Online, Offline). */}
          <span data-testid={conn.fromStream ? 'stream-state' : 'online-state'}>{conn.label}</span>
          <span className="sr-only">. {conn.hint}</span>
        </span>
        <button type="button" className="icon-btn small" aria-label={busy ? 'Syncing…' : 'Sync now'} title="Sync now" onClick={() => void syncNow()} disabled={busy}>
          <RefreshCw size={16} aria-hidden="true" className={busy ? 'spin' : undefined} />
        </button>
      </div>
      <p className={`sync-label xsmall ${status.failed > 0 ? 'warning' : 'muted'} sync-detail`} data-testid="outbox-pending">
        {outboxText(status)}
      </p>
      {last && <p className="sync-label xsmall muted sync-detail">{last}</p>}
    </div>
  );
}

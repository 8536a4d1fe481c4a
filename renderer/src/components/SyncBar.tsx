/**
 * Online/offline, how new messages reach this desktop (the key service's live
 * stream, or the timer), what waits in the outbox, unread count, last sync,
 * and "Sync now". Shown on every unlocked screen once the device is
 * registered; App reloads the status on the engine's `sync` events.
 */
import { useState } from 'react';
import type { Output } from '../../../shared/contract';
import type { StreamState } from '../../../shared/contract-events';
import { sealpost } from '../bridge';
import { call } from '../lib/call';
import type { UiError } from '../errors';
import { ErrorBanner } from './ErrorBanner';

export type SyncStatus = Output<'sync:status'>;

/** What the stream state means to the user; 'off' (not registered, locked) says nothing. */
const STREAM_LABEL: Record<StreamState, string | null> = {
  live: 'Live',
  connecting: 'Connecting…',
  polling: 'Checking every minute',
  off: null,
};
const STREAM_HINT: Record<StreamState, string> = {
  live: 'The key service tells this desktop about new messages as they arrive.',
  connecting: 'Opening the live connection to the key service.',
  polling: 'The live connection is not available: this desktop checks for new messages every minute.',
  off: '',
};

export function SyncBar({ status, onSynced }: { status: SyncStatus; onSynced: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);

  async function syncNow() {
    setBusy(true);
    const r = await call(sealpost.sync.now({}));
    setBusy(false);
    setError(r.ok ? null : r.error);
    onSynced();
  }

  const stream = status.stream;
  const streamLabel = status.online === false ? null : STREAM_LABEL[stream];
  const state = status.syncing ? 'Syncing…' : status.online === null ? 'Not synced yet' : status.online ? 'Online' : 'Offline';
  return (
    <div className="syncbar" role="status" aria-label="Sync status">
      <span className={`tag ${status.online === false ? 'tag-alarm' : status.online ? 'tag-ok' : ''}`} data-testid="online-state">
        {state}
      </span>
      {streamLabel && (
        <span className={`tag ${stream === 'live' ? 'tag-ok' : ''}`} data-testid="stream-state" title={STREAM_HINT[stream]}>
          {streamLabel}
        </span>
      )}
      <span className="small" data-testid="outbox-pending">
        {status.pending} waiting to send{status.failed > 0 ? `, ${status.failed} failed` : ''}
      </span>
      {status.unread > 0 && <span className="small">{status.unread} unread</span>}
      {status.lastSyncAt !== null && <span className="muted small">Last sync {new Date(status.lastSyncAt).toLocaleTimeString()}</span>}
      {status.online === false && status.lastError && <span className="muted small">({status.lastError})</span>}
      <button type="button" className="secondary" onClick={() => void syncNow()} disabled={busy}>
        {busy ? 'Syncing…' : 'Sync now'}
      </button>
      {error && <ErrorBanner error={error} />}
    </div>
  );
}

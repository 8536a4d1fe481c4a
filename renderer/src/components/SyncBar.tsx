/**
 * Online/offline, what waits in the outbox, unread count, last sync, and
 * "Sync now". Shown on every unlocked screen once the device is registered.
 */
import { useState } from 'react';
import type { Output } from '../../../shared/contract';
import { sealpost } from '../bridge';
import { call } from '../lib/call';
import type { UiError } from '../errors';
import { ErrorBanner } from './ErrorBanner';

export type SyncStatus = Output<'sync:status'>;

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

  const state = status.syncing ? 'Syncing…' : status.online === null ? 'Not synced yet' : status.online ? 'Online' : 'Offline';
  return (
    <div className="syncbar" role="status" aria-label="Sync status">
      <span className={`tag ${status.online === false ? 'tag-alarm' : status.online ? 'tag-ok' : ''}`} data-testid="online-state">
        {state}
      </span>
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

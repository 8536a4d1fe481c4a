/** The key service this device is registered with, its sync state, or the form to connect. */
import { useCallback, useEffect, useState } from 'react';
import type { Output } from '../../../shared/contract';
import { sealpost } from '../bridge';
import { ErrorBanner } from '../components/ErrorBanner';
import type { UiError } from '../errors';
import { call } from '../lib/call';
import { ConnectKeyService } from './ConnectKeyService';

type SyncStatus = Output<'sync:status'>;

export function KeyServiceSettings() {
  const [sync, setSync] = useState<SyncStatus | null>(null);
  const [error, setError] = useState<UiError | null>(null);

  const load = useCallback(async () => {
    const r = await call(sealpost.sync.status({}));
    if (r.ok) setSync(r.value);
    else setError(r.error);
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section className="card" aria-labelledby="ks-title">
      {sync?.registered ? (
        <>
          <h2 id="ks-title">Key service</h2>
          <dl>
            <dt>Server</dt>
            <dd className="mono">{sync.server}</dd>
            <dt>Your user name</dt>
            <dd>{sync.username}</dd>
            <dt>State</dt>
            <dd>{sync.online === null ? 'not tried yet' : sync.online ? 'online' : 'offline'}</dd>
          </dl>
        </>
      ) : (
        <ConnectKeyService compact onDone={() => void load()} />
      )}
      {error && <ErrorBanner error={error} />}
    </section>
  );
}

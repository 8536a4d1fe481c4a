import { useCallback, useEffect, useState } from 'react';
import type { Output } from '../../shared/contract';
import { sealpost } from './bridge';
import { describeError, type UiError } from './errors';
import { FirstRun } from './screens/FirstRun';
import { Unlock } from './screens/Unlock';
import { Home } from './screens/Home';
import { ErrorBanner } from './components/ErrorBanner';

type Status = Output<'engine:status'>;

export function App() {
  const [status, setStatus] = useState<Status | null>(null);
  const [error, setError] = useState<UiError | null>(null);

  const refresh = useCallback(async () => {
    const result = await sealpost.engine.status({});
    if (result.code === 0) {
      setStatus(result.value);
      setError(null);
    } else setError(describeError(result));
  }, []);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), 5000);
    return () => clearInterval(timer);
  }, [refresh]);

  return (
    <div className="app">
      <header className="topbar">
        <h1>Sealpost</h1>
        {status && <span className="badge">{status.unlocked ? 'Unlocked' : status.hasIdentity ? 'Locked' : 'New'}</span>}
        {status && <span className="muted">Keychain: {status.keychainBackend === 'secret-service' ? 'system keychain' : 'PIN-protected file'}</span>}
      </header>
      {error && <ErrorBanner error={error} />}
      <main>
        {!status && !error && <p aria-busy="true">Starting…</p>}
        {status && !status.hasIdentity && <FirstRun onDone={refresh} />}
        {status && status.hasIdentity && !status.unlocked && <Unlock status={status} onDone={refresh} />}
        {status && status.unlocked && <Home status={status} onChange={refresh} />}
      </main>
    </div>
  );
}

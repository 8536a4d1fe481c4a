/**
 * The first-run offer of the key service `npm start` runs on this computer
 * (engine:status `localKeyService`): a user name is all it takes. The launcher
 * issues a one-time enrollment code for it and the engine registers with that
 * (device:registerLocal), so nothing is copied out of keyservice-app.json.
 * "Another key service…" leads to the full form.
 */
import { useState, type FormEvent } from 'react';
import { sealpost } from '../bridge';
import { ErrorBanner } from '../components/ErrorBanner';
import { NewerKeyNotice } from '../components/NewerKeyNotice';
import type { NewerKey } from '../../../shared/contract-messaging';
import type { UiError } from '../errors';
import { call } from '../lib/call';
import { ConnectActions } from './ConnectActions';

export function ConnectLocal({ url, compact, onDone, onOther }: { url: string; compact: boolean; onDone: (connected: boolean) => void; onOther: () => void }) {
  const [username, setUsername] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);
  const [newerKey, setNewerKey] = useState<NewerKey | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const r = await call(sealpost.device.registerLocal({ username: username.trim() }));
    setBusy(false);
    if (!r.ok) setError(r.error);
    else if (r.value.newerKey) setNewerKey(r.value.newerKey);
    else onDone(true);
  }

  if (newerKey) return <NewerKeyNotice newerKey={newerKey} compact={compact} onContinue={() => onDone(true)} />;

  return (
    <form className={compact ? 'stack' : 'card narrow'} onSubmit={submit} aria-labelledby="connect-title">
      <h2 id="connect-title">{compact ? 'Key service' : 'Connect to a key service'}</h2>
      <p>
        A key service runs on this computer (<span className="mono">{url}</span>). Choose a user name to register this device with it: others find you by that
        name. The service stores your public keys and sealed messages only.
      </p>
      <label>
        Your user name
        <input value={username} onChange={(e) => setUsername(e.target.value)} required autoComplete="username" data-autofocus />
      </label>
      {error && <ErrorBanner error={error} />}
      <ConnectActions busy={busy} compact={compact} canSubmit={username.trim() !== ''} onStayLocal={() => onDone(false)}>
        <button type="button" className="secondary" onClick={onOther} disabled={busy}>
          Another key service…
        </button>
      </ConnectActions>
    </form>
  );
}

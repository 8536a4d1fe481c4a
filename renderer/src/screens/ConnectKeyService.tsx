/**
 * Connect this device to a key service (register it under a user name), or
 * stay local: the vault works offline either way, and connecting can be done
 * later from Settings. The key service gets the public keys and a signed
 * device package, never a private key.
 */
import { useState, type FormEvent } from 'react';
import { sealpost } from '../bridge';
import { ErrorBanner } from '../components/ErrorBanner';
import type { NewerKey } from '../../../shared/contract-messaging';
import { NewerKeyNotice } from '../components/NewerKeyNotice';
import type { UiError } from '../errors';
import { call } from '../lib/call';

export function ConnectKeyService({ onDone, compact = false }: { pin?: string; onDone: (connected: boolean) => void; compact?: boolean }) {
  const [server, setServer] = useState('http://127.0.0.1:8787');
  const [appId, setAppId] = useState('');
  const [serverKey, setServerKey] = useState('');
  const [clientKey, setClientKey] = useState('');
  const [username, setUsername] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);
  const [newerKey, setNewerKey] = useState<NewerKey | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const input = { server: server.trim(), appId: appId.trim(), serverKey: serverKey.trim(), ...(clientKey.trim() && { clientKey: clientKey.trim() }), username: username.trim() };
    const r = await call(sealpost.device.register(input));
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
        To message other people, register this device with a key service under a user name. The service stores your public keys and sealed messages only. You can
        also stay local and connect later in Settings.
      </p>
      <label>
        Key service URL
        <input type="url" value={server} onChange={(e) => setServer(e.target.value)} required />
      </label>
      <label>
        App id
        <input value={appId} onChange={(e) => setAppId(e.target.value)} required autoComplete="off" />
      </label>
      <label>
        Server key
        <input type="password" value={serverKey} onChange={(e) => setServerKey(e.target.value)} required autoComplete="off" />
      </label>
      <label>
        Client key <span className="muted small">(optional)</span>
        <input type="password" value={clientKey} onChange={(e) => setClientKey(e.target.value)} autoComplete="off" />
      </label>
      <label>
        Your user name
        <input value={username} onChange={(e) => setUsername(e.target.value)} required autoComplete="username" />
      </label>
      <p className="muted small">
        <code>npm start</code> prints where the local key service keeps its app id and keys.
      </p>
      {error && <ErrorBanner error={error} />}
      <div className="row">
        <button type="submit" disabled={busy}>
          {busy ? 'Connecting…' : 'Connect'}
        </button>
        {!compact && (
          <button type="button" className="secondary" onClick={() => onDone(false)} disabled={busy}>
            Stay local for now
          </button>
        )}
      </div>
      {busy && <progress aria-label="Connecting" />}
    </form>
  );
}

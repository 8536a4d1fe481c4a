/**
 * Connect this device to a key service (register it under a user name), or
 * stay local: the vault works offline either way, and connecting can be done
 * later from Settings. The key service gets the public keys and a signed
 * device package, never a private key.
 *
 * The normal path is a one-time enrollment code from the organisation's admin
 * (or its sealpost://enroll link, pasted here or opened from the OS); the app's
 * server key is a developer's option, folded away. A managed policy presets the
 * key service URL, app id and client key; what it sets cannot be edited here.
 * When the account has two-step verification on, the key service asks for a
 * current code and the form grows a field for it.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { sealpost } from '../bridge';
import { ErrorBanner } from '../components/ErrorBanner';
import { Managed } from '../components/Managed';
import type { NewerKey } from '../../../shared/contract-messaging';
import { EnrollLinkError, parseEnrollLink, type EnrollLink } from '../../../shared/enroll-wire';
import { NewerKeyNotice } from '../components/NewerKeyNotice';
import { ConnectActions } from './ConnectActions';
import { ConnectLocal } from './ConnectLocal';
import type { UiError } from '../errors';
import { call } from '../lib/call';
import { useManaged, usePolicySetting } from '../lib/policy';

const DEFAULT_SERVER = 'http://127.0.0.1:8787';

export function ConnectKeyService({ onDone, compact = false }: { pin?: string; onDone: (connected: boolean) => void; compact?: boolean }) {
  const managedServer = usePolicySetting<string>('keyServiceUrl');
  const managedApp = usePolicySetting<string>('appId');
  const managedClientKey = usePolicySetting<string>('clientKey');
  const { enrollLink } = useManaged();
  const [server, setServer] = useState(managedServer.value ?? DEFAULT_SERVER);
  const [appId, setAppId] = useState(managedApp.value ?? '');
  const [code, setCode] = useState('');
  const [link, setLink] = useState('');
  const [linkError, setLinkError] = useState<string | null>(null);
  const [serverKey, setServerKey] = useState('');
  const [clientKey, setClientKey] = useState('');
  const [username, setUsername] = useState('');
  const [totp, setTotp] = useState('');
  const [askTotp, setAskTotp] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);
  const [newerKey, setNewerKey] = useState<NewerKey | null>(null);
  /** The key service `npm start` runs here, offered first (undefined while asked; null: none). */
  const [local, setLocal] = useState<{ url: string } | null | undefined>(undefined);
  const [other, setOther] = useState(false);

  useEffect(() => {
    void call(sealpost.engine.status({})).then((r) => setLocal(r.ok ? (r.value.localKeyService ?? null) : null));
  }, []);

  /** Fills the form from a link; a value the policy locks stays (the engine would refuse another one). */
  function applyLink(l: EnrollLink) {
    if (!managedServer.locked) setServer(l.server);
    if (!managedApp.locked) setAppId(l.appId);
    if (l.username !== undefined) setUsername(l.username);
    setCode(l.code);
    setServerKey('');
  }

  // The policy may answer after this form first shows: its values win.
  useEffect(() => {
    if (managedServer.value !== undefined) setServer(managedServer.value);
    if (managedApp.value !== undefined) setAppId(managedApp.value);
  }, [managedServer.value, managedApp.value]);

  // A link the OS opened (App keeps the latest): prefill once per link (applyLink is stable enough: it reads only locks).
  useEffect(() => {
    if (enrollLink) applyLink(enrollLink);
  }, [enrollLink]);

  function onLink(raw: string) {
    setLink(raw);
    if (!raw.trim()) return setLinkError(null);
    try {
      applyLink(parseEnrollLink(raw));
      setLinkError(null);
      setLink('');
    } catch (e) {
      setLinkError(e instanceof EnrollLinkError ? `That is not an enrollment link: ${e.message}.` : 'That is not an enrollment link.');
    }
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const credential = serverKey.trim() ? { serverKey: serverKey.trim() } : { enrollmentCode: code.trim() };
    const input = {
      server: server.trim(),
      appId: appId.trim(),
      ...credential,
      ...(!managedClientKey.locked && clientKey.trim() && { clientKey: clientKey.trim() }),
      ...(askTotp && totp.trim() && { totp: totp.trim() }),
      username: username.trim(),
    };
    const r = await call(sealpost.device.register(input));
    setBusy(false);
    if (!r.ok) {
      if (r.error.totp) setAskTotp(true);
      setError(r.error);
    } else if (r.value.newerKey) setNewerKey(r.value.newerKey);
    else onDone(true);
  }

  if (newerKey) return <NewerKeyNotice newerKey={newerKey} compact={compact} onContinue={() => onDone(true)} />;
  if (local === undefined) return null;
  // A policy that names the key service, or an enrollment link, means another one.
  if (local && !other && !managedServer.locked && !enrollLink) return <ConnectLocal url={local.url} compact={compact} onDone={onDone} onOther={() => setOther(true)} />;

  const usingServerKey = serverKey.trim() !== '';
  return (
    <form className={compact ? 'stack' : 'card narrow'} onSubmit={submit} aria-labelledby="connect-title">
      <h2 id="connect-title">{compact ? 'Key service' : 'Connect to a key service'}</h2>
      <p>
        To message other people, register this device with a key service under a user name. The service stores your public keys and sealed messages only. You can
        also stay local and connect later in Settings.
      </p>
      <label>
        <span>
          Paste an enrollment link <span className="muted small">(optional: fills in the rest)</span>
        </span>
        <input value={link} onChange={(e) => onLink(e.target.value)} placeholder="sealpost://enroll?…" autoComplete="off" aria-invalid={linkError !== null} aria-describedby={linkError ? 'enroll-link-error' : undefined} />
      </label>
      {linkError && (
        <p id="enroll-link-error" className="warning small" role="alert">
          {linkError}
        </p>
      )}
      <label>
        <span>Key service URL{managedServer.locked && <Managed />}</span>
        <input type="url" value={server} onChange={(e) => setServer(e.target.value)} required readOnly={managedServer.locked} aria-readonly={managedServer.locked} />
      </label>
      <label>
        <span>App id{managedApp.locked && <Managed />}</span>
        <input value={appId} onChange={(e) => setAppId(e.target.value)} required autoComplete="off" readOnly={managedApp.locked} aria-readonly={managedApp.locked} />
      </label>
      <label>
        Your user name
        <input value={username} onChange={(e) => setUsername(e.target.value)} required autoComplete="username" />
      </label>
      <label>
        Enrollment code
        <input value={code} onChange={(e) => setCode(e.target.value)} required={!usingServerKey} disabled={usingServerKey} autoComplete="one-time-code" spellCheck={false} aria-describedby="enroll-code-help" />
      </label>
      <p id="enroll-code-help" className="muted small">
        A one-time code from your administrator (like <span className="mono">K7QX2-MZP4D-…</span>). It works once, for your user name only.
      </p>
      {askTotp && (
        <label>
          Two-step verification code
          <input value={totp} onChange={(e) => setTotp(e.target.value)} inputMode="numeric" autoComplete="one-time-code" required data-autofocus />
        </label>
      )}
      {managedClientKey.locked && (
        <p className="muted small">
          Client key: set by your organization <Managed />
        </p>
      )}
      <details className="advanced">
        <summary>Advanced: register with the app’s server key (developers)</summary>
        <p className="muted small">
          Only for the organisation’s own back end or development: the server key can register anyone, so it never belongs on a user’s desktop. <code>npm start</code>{' '}
          prints where its key service keeps the app id and keys.
        </p>
        <label>
          Server key
          <input type="password" value={serverKey} onChange={(e) => setServerKey(e.target.value)} autoComplete="off" />
        </label>
        {!managedClientKey.locked && (
          <label>
            Client key <span className="muted small">(optional)</span>
            <input type="password" value={clientKey} onChange={(e) => setClientKey(e.target.value)} autoComplete="off" />
          </label>
        )}
      </details>
      {error && <ErrorBanner error={error} />}
      <ConnectActions busy={busy} compact={compact} onStayLocal={() => onDone(false)} />
    </form>
  );
}

/**
 * Settings card "Two-step verification" (TOTP, docs/security.md "TOTP"): with it
 * on, the key service asks for a current code from an authenticator app before
 * another device is registered or linked, a device is revoked, or the recovery
 * shares are replaced or restored. Enabling shows the secret as a QR code and as
 * text once, is confirmed with a first code, and answers ten one-time recovery
 * codes, shown once. The key service keeps the secret; nothing of it stays here
 * once the card moves on.
 */
import { CardStatus } from '../../components/CardStatus';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { Download } from 'lucide-react';
import type { Output } from '../../../../shared/contract';
import { sealpost } from '../../bridge';
import { CopyButton } from '../../components/CopyButton';
import type { UiError } from '../../errors';
import { call } from '../../lib/call';
import { saveFile } from '../../lib/download';
import { TOTP_CHANGED } from '../../lib/totp';
import { TotpQr } from './TotpQr';
import './settings-extra.css';

type TotpStatus = Output<'totp:status'>;
type Setup = Output<'totp:enable'>;

/** The secret in groups of four, easier to type into an app by hand. */
const grouped = (secret: string) => secret.replace(/(.{4})(?=.)/g, '$1 ');

function CodeForm({ label, action, busy, onSubmit, danger = false }: { label: string; action: string; busy: boolean; onSubmit: (code: string) => Promise<boolean>; danger?: boolean }) {
  const [code, setCode] = useState('');
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (await onSubmit(code.trim())) setCode('');
  }
  return (
    <form className="row" onSubmit={(e) => void submit(e)}>
      <label>
        {label}
        <input inputMode="numeric" autoComplete="one-time-code" maxLength={32} value={code} onChange={(e) => setCode(e.target.value.replace(/[^0-9A-Za-z\s-]/g, ''))} />
      </label>
      <button type="submit" className={danger ? 'danger' : undefined} disabled={busy || code.trim().length < 6}>
        {action}
      </button>
    </form>
  );
}

function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const text = `${codes.join('\n')}\n`;
  return (
    <div className="stack" data-testid="totp-recovery-codes">
      <p className="notice">
        Your recovery codes, shown only now. Each one works once in place of a code from the app, if you lose your phone. Keep them somewhere safe, away from this
        computer.
      </p>
      <ol className="mono totp-codes" aria-label="Recovery codes">
        {codes.map((c) => (
          <li key={c}>{c}</li>
        ))}
      </ol>
      <div className="row">
        <CopyButton value={text} label="Copy the recovery codes" />
        <button type="button" className="secondary" onClick={() => saveFile('sealpost-recovery-codes.txt', text, 'text/plain')}>
          <Download size={16} aria-hidden="true" /> Save as file
        </button>
        <button type="button" onClick={onDone}>
          I saved them
        </button>
      </div>
    </div>
  );
}

export function TwoStep() {
  const [status, setStatus] = useState<TotpStatus | null>(null);
  const [unregistered, setUnregistered] = useState(false);
  const [setup, setSetup] = useState<Setup | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<UiError | null>(null);

  const load = useCallback(async () => {
    const r = await call(sealpost.totp.status({}));
    if (r.ok) {
      setStatus(r.value);
      setUnregistered(false);
    } else if (r.error.details.startsWith('DeviceUnregistered')) setUnregistered(true);
    else setError(r.error);
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  async function enable() {
    setBusy(true);
    setNote(null);
    const r = await call(sealpost.totp.enable({}));
    setBusy(false);
    if (!r.ok) return setError(r.error);
    setError(null);
    setSetup(r.value);
  }

  async function confirm(code: string): Promise<boolean> {
    setBusy(true);
    const r = await call(sealpost.totp.confirm({ code }));
    setBusy(false);
    if (!r.ok) {
      setError(r.error);
      return false;
    }
    setError(null);
    setSetup(null);
    setCodes(r.value.recoveryCodes);
    setNote('Two-step verification is on.');
    window.dispatchEvent(new Event(TOTP_CHANGED));
    await load();
    return true;
  }

  async function disable(code: string): Promise<boolean> {
    setBusy(true);
    const r = await call(sealpost.totp.disable({ code }));
    setBusy(false);
    if (!r.ok) {
      setError(r.error);
      return false;
    }
    setError(null);
    setNote('Two-step verification is off.');
    window.dispatchEvent(new Event(TOTP_CHANGED));
    await load();
    return true;
  }

  return (
    <section className="card" aria-labelledby="totp-title" data-testid="two-step">
      <h2 id="totp-title">Two-step verification</h2>
      <p>
        With it on, the key service asks for a code from an authenticator app on your phone before another device is added or linked, a device is revoked, or your
        recovery backup is replaced or restored.
      </p>
      {unregistered && <p className="muted">Connect this device to a key service first: two-step verification belongs to your account there.</p>}
      {status?.required && !status.enabled && <p className="notice">Your organization requires two-step verification. Turn it on to go on using your account.</p>}
      {status && !status.enabled && !setup && !codes && (
        <button type="button" disabled={busy} onClick={() => void enable()}>
          {status.pending ? 'Start again' : 'Turn on'}
        </button>
      )}
      {setup && (
        <div className="stack" data-testid="totp-setup">
          <p>1. Scan this code with your authenticator app, or type the key below into it. It is shown only now.</p>
          <TotpQr uri={setup.uri} />
          <p className="row">
            <span className="mono" data-testid="totp-secret" data-secret={setup.secret}>
              {grouped(setup.secret)}
            </span>
            <CopyButton value={setup.secret} label="Copy the key" />
          </p>
          <p className="muted small">
            Time-based, {setup.digits} digits, every {setup.period} seconds.
          </p>
          <CodeForm label="2. The code your app shows now" action="Turn on" busy={busy} onSubmit={confirm} />
          <button type="button" className="ghost" onClick={() => setSetup(null)}>
            Cancel
          </button>
        </div>
      )}
      {codes && <RecoveryCodes codes={codes} onDone={() => setCodes(null)} />}
      {status?.enabled && !codes && (
        <>
          <p>
            <span className="badge badge-ok">On</span>{' '}
            {status.confirmedAt && <>since {new Date(status.confirmedAt).toLocaleString()}; </>}
            {status.recoveryCodesLeft} of 10 recovery codes left.
          </p>
          {status.required && <p className="muted small">Your organization requires it: it cannot be turned off here.</p>}
          {!status.required && <CodeForm label="Code from your app (or a recovery code)" action="Turn off" busy={busy} onSubmit={disable} danger />}
        </>
      )}
      <CardStatus note={note} error={error} />
    </section>
  );
}

/**
 * Recovery (docs/recovery.md): in Settings, the 24 recovery words after the PIN
 * with a confirm step (three asked words, or all 24) or "Later" (reminded here
 * until confirmed), and the three-share backup (key service + escrow + PIN).
 * On first run, "Restore on this device" with the words or the shares + PIN.
 * The words live in this component's state only while shown.
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { Output } from '../../../shared/contract';
import { sealpost } from '../bridge';
import { AccountFields, NEW_ACCOUNT, type Account } from '../components/AccountFields';
import { ErrorBanner } from '../components/ErrorBanner';
import type { NewerKey } from '../../../shared/contract-messaging';
import { NewerKeyNotice } from '../components/NewerKeyNotice';
import { PinField } from '../components/PinField';
import type { UiError } from '../errors';
import { call } from '../lib/call';
import { totpAsked, totpInput, useTotpOn } from '../lib/totp';
import { TotpField } from '../components/TotpField';
import { Managed } from '../components/Managed';
import { useManaged, usePolicySetting } from '../lib/policy';

type RecoveryStatus = Output<'recovery:status'>;

function when(ms: number): string {
  return new Date(ms).toLocaleString();
}

export function RecoverySettings() {
  const [status, setStatus] = useState<RecoveryStatus | null>(null);
  const [pin, setPin] = useState('');
  const [shown, setShown] = useState<{ words: string[]; ask: number[] } | null>(null);
  const [answers, setAnswers] = useState<Record<number, string>>({});
  const [all, setAll] = useState('');
  const [escrowUrl, setEscrowUrl] = useState('');
  const [escrowAppId, setEscrowAppId] = useState('');
  const [escrowKey, setEscrowKey] = useState('');
  const managedEscrow = usePolicySetting<{ url: string }>('escrow');
  const { reload: reloadPolicy } = useManaged();
  const [backupPin, setBackupPin] = useState('');
  const totpOn = useTotpOn();
  const [backupTotp, setBackupTotp] = useState('');
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<UiError | null>(null);

  useEffect(() => {
    void call(sealpost.recovery.status({})).then((r) => (r.ok ? setStatus(r.value) : setError(r.error)));
  }, []);

  async function showWords(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    const r = await call(sealpost.recovery.words({ pin }));
    setBusy(false);
    setPin('');
    if (!r.ok) return setError(r.error);
    setError(null);
    setNote(null);
    setAnswers({});
    setAll('');
    setShown(r.value);
  }

  async function confirm(event: FormEvent) {
    event.preventDefault();
    if (!shown) return;
    const typed = all.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const list =
      typed.length > 0 ? typed.map((word, i) => ({ position: i + 1, word })) : shown.ask.map((position) => ({ position, word: (answers[position] ?? '').trim().toLowerCase() }));
    if (typed.length > 0 && typed.length !== 24) return setError({ text: 'Type all 24 words, or only the three asked ones.', details: 'InvalidParameter (-1): checked before sending' });
    if (list.some((a) => !a.word)) return setError({ text: 'Type each asked word.', details: 'InvalidParameter (-1): checked before sending' });
    setBusy(true);
    const r = await call(sealpost.recovery.confirm({ answers: list }));
    setBusy(false);
    if (!r.ok) return setError(r.error);
    setError(null);
    setShown(null);
    setStatus(r.value);
    setNote('Recovery words confirmed. Keep them offline; they are not shown again.');
  }

  async function later() {
    const r = await call(sealpost.recovery.postpone({}));
    setShown(null);
    if (!r.ok) return setError(r.error);
    setError(null);
    setStatus(r.value);
    setNote('Postponed: this reminder stays until the words are confirmed.');
  }

  async function backup(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    // A managed escrow is filled in by the engine (the fields are not shown).
    const escrow = !managedEscrow.locked && escrowUrl.trim() ? { escrow: { url: escrowUrl.trim(), appId: escrowAppId.trim(), clientKey: escrowKey.trim() } } : {};
    const r = await call(sealpost.recovery.backup({ pin: backupPin, ...escrow, ...totpInput(backupTotp) }));
    setBusy(false);
    setBackupPin('');
    setBackupTotp('');
    if (!r.ok) return setError(r.error);
    setError(null);
    setStatus(r.value);
    setNote('Recovery shares stored: one on the key service, one on the escrow service, one from your PIN.');
    reloadPolicy(); // the organisation's backup reminder goes
  }

  return (
    <section className="card" aria-labelledby="recovery-title" id="recovery-settings" tabIndex={-1}>
      <h2 id="recovery-title">Recovery</h2>
      {status?.nag && (
        <p className="warning" role="status" aria-label="Recovery reminder">
          {!status.wordsConfirmed
            ? `Your recovery words are not confirmed${status.postponedAt !== null ? ` (postponed ${when(status.postponedAt)})` : ''}. Without them or the share backup, a lost device means a lost identity.`
            : 'No recovery share backup yet: store one so the key service, the escrow service and your PIN can restore you together.'}
        </p>
      )}
      {status && !status.wordsConfirmed && !shown && (
        <form className="stack" onSubmit={showWords} aria-label="Show recovery words">
          <PinField label="PIN to show the recovery words" value={pin} onChange={setPin} autoComplete="current-password" />
          <button type="submit" disabled={busy || !pin}>
            Show my recovery words
          </button>
        </form>
      )}
      {shown && (
        <form className="stack" onSubmit={confirm} aria-label="Confirm recovery words">
          <p>Write these 24 words down, in order, and keep them offline. Anyone with them can restore your identity.</p>
          <ol className="recovery-words" data-testid="recovery-words" aria-label="Recovery words">
            {shown.words.map((w, i) => (
              <li key={i}>{w}</li>
            ))}
          </ol>
          <p>Type back the asked words (or all 24 below) to confirm you wrote them down.</p>
          {shown.ask.map((position) => (
            <label key={position}>
              Word {position}
              <input value={answers[position] ?? ''} onChange={(e) => setAnswers({ ...answers, [position]: e.target.value })} autoComplete="off" spellCheck={false} />
            </label>
          ))}
          <label>
            Or all 24 words <span className="muted small">(optional)</span>
            <textarea value={all} onChange={(e) => setAll(e.target.value)} rows={3} autoComplete="off" spellCheck={false} />
          </label>
          <div className="row">
            <button type="submit" disabled={busy}>
              Confirm words
            </button>
            <button type="button" className="secondary" onClick={() => void later()}>
              Later
            </button>
          </div>
        </form>
      )}
      {status?.wordsConfirmed && <p>Recovery words: confirmed.</p>}
      {status && status.backedUpAt !== null && (
        <p data-testid="recovery-backup">
          Share backup stored {when(status.backedUpAt)}
          {status.escrow ? ` (escrow ${status.escrow.url})` : ''}.
        </p>
      )}
      {status && (
        <form className="stack" onSubmit={backup} aria-label="Recovery share backup">
          <h3>{status.backedUpAt === null ? 'Store the recovery shares' : 'Store the recovery shares again'}</h3>
          <p className="muted small">
            The key that seals your backup is split in three: one share on your key service, one on a separate escrow service, one from your PIN. All three restore you; any
            two do not.{status.escrow ? ' Leave the escrow fields empty to use the remembered one.' : ''}
          </p>
          {managedEscrow.locked ? (
            <p data-testid="managed-escrow">
              Escrow service: <span className="mono">{managedEscrow.value?.url}</span> <Managed />
            </p>
          ) : (
            <>
            <label>
              Escrow service URL
              <input type="url" value={escrowUrl} onChange={(e) => setEscrowUrl(e.target.value)} required={!status.escrow} />
            </label>
            <label>
              Escrow app id
              <input value={escrowAppId} onChange={(e) => setEscrowAppId(e.target.value)} required={!status.escrow || !!escrowUrl} autoComplete="off" />
            </label>
            <label>
              Escrow client key
              <input type="password" value={escrowKey} onChange={(e) => setEscrowKey(e.target.value)} required={!status.escrow || !!escrowUrl} autoComplete="off" />
            </label>
            </>
          )}
          <PinField label="PIN to store the shares" value={backupPin} onChange={setBackupPin} autoComplete="current-password" />
          <TotpField value={backupTotp} onChange={setBackupTotp} show={totpOn || totpAsked(error)} />
          <button type="submit" disabled={busy || !backupPin}>
            Store recovery shares
          </button>
        </form>
      )}
      {busy && <progress aria-label="Working" />}
      {error && <ErrorBanner error={error} />}
      {note && (
        <p className="ok" role="status">
          {note}
        </p>
      )}
    </section>
  );
}

/** First run on a new device: restore the identity with the words or the shares + PIN. */
export function RestoreOnDevice({ onDone, onCancel }: { onDone: () => void; onCancel: () => void }) {
  const [account, setAccount] = useState<Account>(NEW_ACCOUNT);
  const { username, server, appId, clientKey, serverKey } = account;
  const [method, setMethod] = useState<'words' | 'shares'>('words');
  const [words, setWords] = useState('');
  const [escrowUrl, setEscrowUrl] = useState('');
  const [escrowKey, setEscrowKey] = useState('');
  const [pin, setPin] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);
  const [newerKey, setNewerKey] = useState<NewerKey | null>(null);
  /** The key service asked for the account's authenticator code (its TOTP is on). */
  const [totpWanted, setTotpWanted] = useState(false);
  const [totp, setTotp] = useState('');

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!/^[0-9]{4,12}$/.test(pin)) return setError({ text: 'A PIN is 4 to 12 digits.', details: 'InvalidPin (-101): checked before sending' });
    if (method === 'words' && pin !== repeat) return setError({ text: 'The two PINs are not the same. Type them again.', details: 'InvalidPin (-101): confirmation differs' });
    setBusy(true);
    setError(null);
    const base = { server: server.trim(), appId: appId.trim(), clientKey: clientKey.trim(), username: username.trim(), pin };
    const input =
      method === 'words'
        ? { ...base, words: words.trim().toLowerCase().replace(/\s+/g, ' ') }
        : { ...base, escrowClientKey: escrowKey.trim(), ...(escrowUrl.trim() && { escrowUrl: escrowUrl.trim() }) };
    const r = await call(sealpost.recovery.restore({ ...input, ...totpInput(totp) }));
    if (!r.ok) {
      setBusy(false);
      if (totpAsked(r.error)) setTotpWanted(true);
      return setError(r.error);
    }
    if (serverKey.trim()) {
      const reg = await call(sealpost.device.register({ server: base.server, appId: base.appId, serverKey: serverKey.trim(), clientKey: base.clientKey, username: base.username }));
      if (!reg.ok) {
        setBusy(false);
        // Restored but not registered: say so; Settings can register later.
        return setError({ text: `Your identity was restored, but registering this device failed: ${reg.error.text} You can connect in Settings.`, details: reg.error.details });
      }
      if (reg.value.newerKey) {
        setBusy(false);
        return setNewerKey(reg.value.newerKey);
      }
    }
    setBusy(false);
    onDone();
  }

  if (newerKey) return <NewerKeyNotice newerKey={newerKey} onContinue={onDone} />;

  return (
    <form className="card narrow" onSubmit={submit} aria-labelledby="restore-title">
      <h2 id="restore-title">Restore on this device</h2>
      <p>Bring your identity back from your key service with your recovery words, or with the recovery shares and your PIN.</p>
      <AccountFields value={account} onChange={setAccount} serverKeyHint="optional: registers this device after the restore" />
      <fieldset>
        <legend>Restore with</legend>
        <label className="check">
          <input type="radio" name="restore-method" checked={method === 'words'} onChange={() => setMethod('words')} />
          My 24 recovery words
        </label>
        <label className="check">
          <input type="radio" name="restore-method" checked={method === 'shares'} onChange={() => setMethod('shares')} />
          The recovery shares and my PIN
        </label>
      </fieldset>
      {method === 'words' ? (
        <>
          <label>
            Recovery words
            <textarea value={words} onChange={(e) => setWords(e.target.value)} rows={3} required autoComplete="off" spellCheck={false} />
          </label>
          <PinField label="New PIN for this device" value={pin} onChange={setPin} autoComplete="new-password" />
          <PinField label="Repeat the new PIN" value={repeat} onChange={setRepeat} autoComplete="new-password" />
        </>
      ) : (
        <>
          <label>
            Escrow service URL <span className="muted small">(optional: checked against the one your key service names)</span>
            <input type="url" value={escrowUrl} onChange={(e) => setEscrowUrl(e.target.value)} />
          </label>
          <label>
            Escrow client key
            <input type="password" value={escrowKey} onChange={(e) => setEscrowKey(e.target.value)} required autoComplete="off" />
          </label>
          <PinField label="Your PIN" value={pin} onChange={setPin} autoComplete="current-password" />
          <p className="muted small">Wrong PINs are counted by the key service; after a few it makes you wait.</p>
        </>
      )}
      <TotpField value={totp} onChange={setTotp} show={totpWanted} />
      {error && <ErrorBanner error={error} />}
      <div className="row">
        <button type="submit" disabled={busy}>
          {busy ? 'Restoring…' : 'Restore'}
        </button>
        <button type="button" className="secondary" onClick={onCancel} disabled={busy}>
          Back
        </button>
      </div>
      {busy && <progress aria-label="Restoring" />}
    </form>
  );
}

/**
 * Device linking (docs/recovery.md "Link a new device"): the "Link a device"
 * dialog in Settings on the existing, unlocked device (type the new device's
 * code, compare the verification code, confirm or cancel), and "Link to an
 * existing device" on a new device's first run (shows the code, then the
 * verification code, then progress). The keys never pass through here: the
 * engine does the exchange; these screens show codes and pass the user's choice.
 */
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { Output } from '../../../shared/contract';
import { sealpost } from '../bridge';
import { AccountFields, NEW_ACCOUNT, type Account } from '../components/AccountFields';
import { ErrorBanner } from '../components/ErrorBanner';
import { PinField } from '../components/PinField';
import type { UiError } from '../errors';
import { call } from '../lib/call';
import { totpAsked, totpInput, useTotpOn } from '../lib/totp';
import { TotpField } from '../components/TotpField';

const POLL_MS = 1000;

/** Moves the keyboard focus to an element when it appears (the ref callback runs once per mount). */
const focusOnMount = (el: HTMLElement | null): void => el?.focus();

/** Settings card on the existing device: opens the link dialog. */
export function LinkDeviceSettings() {
  const [open, setOpen] = useState(false);
  const opener = useRef<HTMLButtonElement>(null);
  return (
    <section className="card" aria-labelledby="link-title">
      <h2 id="link-title">Link a device</h2>
      <p>Set up Sealpost on another computer of yours without the recovery words: start “Link to an existing device” there, then type the code it shows here.</p>
      {open ? (
        <LinkDialog
          onClose={() => {
            setOpen(false);
            opener.current?.focus();
          }}
        />
      ) : (
        <button type="button" ref={opener} onClick={() => setOpen(true)}>
          Link a device…
        </button>
      )}
    </section>
  );
}

type DialogStep = { at: 'code' } | { at: 'waiting' } | { at: 'compare'; verificationCode: string } | { at: 'sending'; verificationCode: string } | { at: 'done' };

function LinkDialog({ onClose }: { onClose: () => void }) {
  const [step, setStep] = useState<DialogStep>({ at: 'code' });
  const [code, setCode] = useState('');
  const [error, setError] = useState<UiError | null>(null);
  const totpOn = useTotpOn();
  const [totp, setTotp] = useState('');

  async function claim(event: FormEvent) {
    event.preventDefault();
    if (!/^\d{4}[- ]?\d{4}$/.test(code.trim())) return setError({ text: 'The code has 8 digits, as the new device shows it (1234-5678).', details: 'InvalidParameter (-29): checked before sending' });
    setError(null);
    setStep({ at: 'waiting' });
    const r = await call(sealpost.link.claim({ code: code.trim(), ...totpInput(totp) }));
    setTotp('');
    if (!r.ok) {
      setStep({ at: 'code' });
      return setError(r.error);
    }
    setStep({ at: 'compare', verificationCode: r.value.verificationCode });
  }

  async function confirm(verificationCode: string) {
    setStep({ at: 'sending', verificationCode });
    const r = await call(sealpost.link.confirm({ verificationCode }));
    if (!r.ok) {
      setStep({ at: 'code' });
      return setError(r.error);
    }
    setError(null);
    setStep({ at: 'done' });
  }

  async function cancel() {
    if (step.at !== 'code' && step.at !== 'done') await call(sealpost.link.cancel({}));
    onClose();
  }

  function onKeyDown(event: KeyboardEvent) {
    if (event.key === 'Escape') {
      event.preventDefault();
      void cancel();
    }
  }

  return (
    <div role="dialog" aria-modal="false" aria-labelledby="link-dialog-title" className="dialog" onKeyDown={onKeyDown}>
      <h3 id="link-dialog-title">Link a new device</h3>
      {step.at === 'code' && (
        <form onSubmit={claim}>
          <label>
            Code shown on the new device
            <input value={code} onChange={(e) => setCode(e.target.value)} inputMode="numeric" autoComplete="off" placeholder="1234-5678" autoFocus data-testid="link-code-input" />
          </label>
          <TotpField value={totp} onChange={setTotp} show={totpOn || totpAsked(error)} />
          {error && <ErrorBanner error={error} />}
          <div className="row">
            <button type="submit" disabled={!code.trim()}>
              Continue
            </button>
            <button type="button" className="secondary" onClick={() => void cancel()}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {step.at === 'waiting' && (
        <div aria-live="polite">
          <p>Waiting for the new device…</p>
          <progress aria-label="Waiting for the new device" />
          <button type="button" className="secondary" onClick={() => void cancel()}>
            Cancel
          </button>
        </div>
      )}
      {(step.at === 'compare' || step.at === 'sending') && (
        <div aria-live="polite">
          <p id="link-compare-question">Does the new device show this verification code?</p>
          {/* Focus lands on the code, not on a button: confirming takes a deliberate step after comparing. */}
          <p className="safety mono" data-testid="link-verification-code" tabIndex={-1} ref={focusOnMount} aria-describedby="link-compare-question">
            {step.verificationCode}
          </p>
          <p className="muted small">Only if both screens show the same six digits: a different code means someone is in between, and nothing should be sent.</p>
          <div className="row">
            <button type="button" onClick={() => void confirm(step.verificationCode)} disabled={step.at === 'sending'}>
              {step.at === 'sending' ? 'Sending…' : 'They match: link the device'}
            </button>
            <button type="button" className="secondary" onClick={() => void cancel()} disabled={step.at === 'sending'}>
              They differ: cancel
            </button>
          </div>
        </div>
      )}
      {step.at === 'done' && (
        <div>
          <p className="ok" role="status">
            Sent. The new device finishes setting up by itself.
          </p>
          <button type="button" onClick={onClose} autoFocus>
            Close
          </button>
        </div>
      )}
    </div>
  );
}

type Progress = Output<'link:progress'>;

/** First run on a new device: ask, show the code, then the verification code, then finish. */
export function LinkToExistingDevice({ onDone, onCancel }: { onDone: () => void; onCancel: () => void }) {
  const [account, setAccount] = useState<Account>(NEW_ACCOUNT);
  const { username, server, appId, clientKey, serverKey } = account;
  const [pin, setPin] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<UiError | null>(null);

  // Poll the engine while a request is pending; each call advances the exchange one step.
  useEffect(() => {
    if (!progress || progress.state === 'linked') return;
    let stopped = false;
    const timer = setTimeout(() => {
      void call(sealpost.link.progress({})).then((r) => {
        if (stopped) return;
        if (!r.ok) {
          setProgress(null);
          return setError(r.error);
        }
        setProgress(r.value);
      });
    }, POLL_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [progress]);

  // Once: onDone changes identity with every render of the parent.
  const finished = useRef(false);
  useEffect(() => {
    if (progress?.state !== 'linked' || finished.current) return;
    finished.current = true;
    if (progress.warning) setError({ text: progress.warning, details: 'linked; see Settings to connect again' });
    else onDone();
  }, [progress, onDone]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!/^[0-9]{4,12}$/.test(pin)) return setError({ text: 'A PIN is 4 to 12 digits.', details: 'InvalidPin (-101): checked before sending' });
    if (pin !== repeat) return setError({ text: 'The two PINs are not the same. Type them again.', details: 'InvalidPin (-101): confirmation differs' });
    setBusy(true);
    setError(null);
    const r = await call(
      sealpost.link.request({ server: server.trim(), appId: appId.trim(), clientKey: clientKey.trim(), username: username.trim(), pin, ...(serverKey.trim() && { serverKey: serverKey.trim() }) }),
    );
    setBusy(false);
    if (!r.ok) return setError(r.error);
    setProgress(r.value);
  }

  async function cancel() {
    if (progress) await call(sealpost.link.cancel({}));
    setProgress(null);
    onCancel();
  }

  if (progress) {
    return (
      <section className="card narrow" aria-labelledby="link-new-title" aria-live="polite">
        <h2 id="link-new-title">Link to an existing device</h2>
        {progress.state === 'waiting' && (
          <>
            <p>On your other device, open Settings → Link a device (or run <code>sealpost link CODE</code>) and type this code:</p>
            <p className="safety mono" data-testid="link-code">
              {progress.code}
            </p>
            <p className="muted small">Valid for 10 minutes, once.</p>
          </>
        )}
        {progress.state === 'verify' && (
          <>
            <p>Check that your other device shows the same verification code, and confirm there:</p>
            <p className="safety mono" data-testid="link-verification-code">
              {progress.verificationCode}
            </p>
            <p className="muted small">If the codes differ, cancel on both devices: someone may be in between.</p>
          </>
        )}
        {progress.state === 'linked' && <p>Linked. Finishing…</p>}
        {error && <ErrorBanner error={error} />}
        {progress.state !== 'linked' && <progress aria-label="Linking" />}
        <div className="row">
          {progress.state === 'linked' ? (
            <button type="button" onClick={onDone} autoFocus>
              Continue
            </button>
          ) : (
            <button type="button" className="secondary" onClick={() => void cancel()}>
              Cancel
            </button>
          )}
        </div>
      </section>
    );
  }

  return (
    <form className="card narrow" onSubmit={submit} aria-labelledby="link-new-title">
      <h2 id="link-new-title">Link to an existing device</h2>
      <p>Your other computer, unlocked and connected to the key service, approves this one: no recovery words needed.</p>
      <AccountFields value={account} onChange={setAccount} serverKeyHint="optional: registers this device and syncs right after the link" />
      <PinField label="New PIN for this device" value={pin} onChange={setPin} autoComplete="new-password" />
      <PinField label="Repeat the new PIN" value={repeat} onChange={setRepeat} autoComplete="new-password" />
      {error && <ErrorBanner error={error} />}
      <div className="row">
        <button type="submit" disabled={busy}>
          {busy ? 'Asking…' : 'Show the link code'}
        </button>
        <button type="button" className="secondary" onClick={onCancel} disabled={busy}>
          Back
        </button>
      </div>
    </form>
  );
}

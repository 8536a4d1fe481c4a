/**
 * Unlock: the PIN, how many tries are left before the keys on this device are
 * erased, the wait after repeated wrong PINs (counted down here from the
 * engine's retryAfterMs), and a louder warning when few tries remain.
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { Status } from '../lib/status';
import { sealpost } from '../bridge';
import { ErrorBanner } from '../components/ErrorBanner';
import { PinField } from '../components/PinField';
import type { UiError } from '../errors';
import { call } from '../lib/call';

const WARN_AT = 3;

export function Unlock({ status, note, onDone }: { status: Status; note: string | null; onDone: () => void }) {
  const [pin, setPin] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);
  const [waitUntil, setWaitUntil] = useState(0);
  const [now, setNow] = useState(() => Date.now());

  // The engine's retryAfterMs is relative to when status was read.
  useEffect(() => {
    if (status.retryAfterMs > 0) {
      const t = Date.now();
      setNow(t);
      setWaitUntil(t + status.retryAfterMs);
    }
  }, [status.retryAfterMs]);

  useEffect(() => {
    if (waitUntil <= Date.now()) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [waitUntil]);

  const waitS = Math.max(0, Math.ceil((waitUntil - now) / 1000));

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    const r = await call(sealpost.session.authenticate({ pin }));
    setBusy(false);
    setPin('');
    setError(r.ok ? null : r.error);
    onDone();
  }

  const few = status.attemptsLeft <= WARN_AT;
  return (
    <form className="card narrow" onSubmit={submit} aria-labelledby="unlock-title">
      <h2 id="unlock-title">Unlock Sealpost</h2>
      {note && (
        <p className="notice" role="status">
          {note}
        </p>
      )}
      {status.pinDisabled ? (
        <p>No PIN is set on this device: enter 0 to unlock.</p>
      ) : (
        <p>Enter your PIN to open your keys.</p>
      )}
      <PinField label="PIN" value={pin} onChange={setPin} autoComplete="current-password" autoFocus describedBy="attempts-left" />
      <p id="attempts-left" className={few ? 'warning' : 'muted'} data-testid="attempts-left">
        {status.attemptsLeft} {status.attemptsLeft === 1 ? 'try' : 'tries'} left before the keys on this device are erased.
      </p>
      {few && (
        <p className="warning" role="alert">
          Careful: after {status.attemptsLeft} more wrong {status.attemptsLeft === 1 ? 'PIN' : 'PINs'} your keys are erased and only your recovery words can bring them back.
        </p>
      )}
      {waitS > 0 && (
        <p className="warning" role="status" data-testid="retry-wait">
          Too many wrong PINs: you can try again in {waitS} s.
        </p>
      )}
      {error && <ErrorBanner error={error} />}
      <button type="submit" disabled={busy || !pin || waitS > 0}>
        {busy ? 'Checking…' : 'Unlock'}
      </button>
    </form>
  );
}

import { useState, type FormEvent } from 'react';
import type { Output } from '../../../shared/contract';
import { sealpost } from '../bridge';
import { describeError, type UiError } from '../errors';
import { ErrorBanner } from '../components/ErrorBanner';

export function Unlock({ status, onDone }: { status: Output<'engine:status'>; onDone: () => void }) {
  const [pin, setPin] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    const result = await sealpost.session.authenticate({ pin });
    setBusy(false);
    setPin('');
    if (result.code === 0) onDone();
    else {
      setError(describeError(result));
      onDone();
    }
  }

  if (status.wiped) {
    return (
      <section className="card">
        <h2>Keys erased</h2>
        <p>Too many wrong PINs were entered, so the keys on this device were erased. Restore them with your recovery words.</p>
      </section>
    );
  }

  return (
    <form className="card" onSubmit={submit}>
      <h2>Unlock Sealpost</h2>
      <label>
        PIN
        <input type="password" inputMode="numeric" autoComplete="current-password" value={pin} onChange={(e) => setPin(e.target.value)} autoFocus />
      </label>
      <p className="muted" data-testid="attempts-left">{status.attemptsLeft} attempts left before the keys on this device are erased.</p>
      {status.retryAfterMs > 0 && <p className="warning">Too many wrong PINs: try again in {Math.ceil(status.retryAfterMs / 1000)} s.</p>}
      {error && <ErrorBanner error={error} />}
      <button type="submit" disabled={busy || !pin || status.retryAfterMs > 0}>{busy ? 'Checking…' : 'Unlock'}</button>
    </form>
  );
}

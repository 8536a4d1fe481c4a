import { useState, type FormEvent } from 'react';
import { sealpost } from '../bridge';
import { describeError, type UiError } from '../errors';
import { ErrorBanner } from '../components/ErrorBanner';

export function FirstRun({ onDone }: { onDone: () => void }) {
  const [pin, setPin] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);
  const [safety, setSafety] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (pin !== confirm) {
      setError({ text: 'The two PINs differ.', details: 'InvalidPin' });
      return;
    }
    setBusy(true);
    setError(null);
    const result = await sealpost.identity.create({ pin });
    setBusy(false);
    if (result.code === 0) setSafety(result.value.safetyNumber);
    else setError(describeError(result));
  }

  if (safety) {
    return (
      <section className="card">
        <h2>Your identity is ready</h2>
        <p>Your safety number — people you talk to can compare it with what their Sealpost shows for you:</p>
        <pre className="safety" data-testid="safety-number">{safety}</pre>
        <button onClick={onDone}>Continue</button>
      </section>
    );
  }

  return (
    <form className="card" onSubmit={submit}>
      <h2>Create your identity</h2>
      <p>Your keys are made on this device and never leave it readable. Choose a PIN of 4–12 digits to protect them.</p>
      <label>
        PIN
        <input type="password" inputMode="numeric" autoComplete="new-password" value={pin} onChange={(e) => setPin(e.target.value)} autoFocus />
      </label>
      <label>
        Confirm PIN
        <input type="password" inputMode="numeric" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} />
      </label>
      <p className="muted">Enter 0 to use no PIN. That is weaker: anyone with access to this computer account can open your keys.</p>
      {error && <ErrorBanner error={error} />}
      <button type="submit" disabled={busy || !pin}>{busy ? 'Making your keys…' : 'Create identity'}</button>
      {busy && <progress aria-label="Making keys" />}
    </form>
  );
}

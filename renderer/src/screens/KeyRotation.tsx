/**
 * Settings: "Rotate encryption key". Explains what happens before doing it
 * (docs/security.md "Key rotation"), asks for the PIN (the keys are sealed
 * under it again) and shows the new fingerprint, or that the change waits for
 * the key service.
 */
import { useState, type FormEvent } from 'react';
import type { Output } from '../../../shared/contract';
import { sealpost } from '../bridge';
import { ErrorBanner } from '../components/ErrorBanner';
import { PinField } from '../components/PinField';
import { SafetyNumber } from '../components/SafetyNumber';
import type { UiError } from '../errors';
import { call } from '../lib/call';

export function KeyRotation({ pinDisabled, registered, onChange }: { pinDisabled: boolean; registered: boolean; onChange: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [pin, setPin] = useState('');
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<Output<'keys:rotate'> | null>(null);
  const [error, setError] = useState<UiError | null>(null);

  async function rotate(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    const r = await call(sealpost.keys.rotate({ pin: pinDisabled && !pin ? '0' : pin }));
    setBusy(false);
    setPin('');
    if (!r.ok) return setError(r.error);
    setError(null);
    setConfirming(false);
    setDone(r.value);
    onChange();
  }

  return (
    <section className="card" aria-labelledby="rotate-title">
      <h2 id="rotate-title">Encryption key</h2>
      <p>Rotating makes a new encryption key that people seal new messages to. Do it when you suspect an old key was exposed, or regularly.</p>
      {!registered && <p className="muted small">Connect a key service first: your contacts learn the new key from it.</p>}
      {!confirming && (
        <button type="button" className="secondary" disabled={!registered} onClick={() => setConfirming(true)}>
          Rotate encryption key
        </button>
      )}
      {confirming && (
        <form onSubmit={rotate} aria-label="Confirm key rotation">
          <div className="notice">
            <p>What happens:</p>
            <ul>
              <li>A new key of the same size is made on this computer and becomes the one others encrypt to.</li>
              <li>Your old key is kept, sealed with your PIN and in your backups, so every message sealed to it — already here or still on its way — stays readable.</li>
              <li>Your identity key signs the change. Your contacts see “rotated their key” and stay verified; nobody needs to compare safety numbers again.</li>
              <li>Your fingerprint changes. Other desktops of yours need this identity again (export an identity file after rotating); a stored recovery backup is renewed.</li>
            </ul>
          </div>
          <PinField label={pinDisabled ? 'PIN (0 when none)' : 'PIN'} value={pin} onChange={setPin} autoComplete="current-password" autoFocus />
          <div className="row">
            <button type="submit" disabled={busy || (!pin && !pinDisabled)}>
              {busy ? 'Rotating…' : 'Rotate now'}
            </button>
            <button type="button" className="secondary" disabled={busy} onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {done && (
        <div role="status" data-testid="rotation-result">
          <p className="ok">
            {done.published
              ? 'Key rotated. Your contacts will see the signed change at their next sync.'
              : 'Key rotated on this computer. The key service could not be reached: the change is published at the next sync that reaches it (nothing is lost meanwhile).'}
          </p>
          <p className="muted small mono">New fingerprint {done.fingerprint}</p>
          <SafetyNumber value={done.safetyNumber} />
        </div>
      )}
      {error && <ErrorBanner error={error} />}
    </section>
  );
}

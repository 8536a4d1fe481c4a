/**
 * Read receipts (docs/sync.md "Read receipts"): on by default; off, as in
 * Signal, we send none and see none. The organisation's policy can force them
 * off (readReceipts: false), and then the switch is locked.
 */
import { useEffect, useState } from 'react';
import { sealpost } from '../../bridge';
import { CardStatus } from '../../components/CardStatus';
import { Managed } from '../../components/Managed';
import type { UiError } from '../../errors';
import { call } from '../../lib/call';
import { usePolicySetting } from '../../lib/policy';

export function ReadReceipts() {
  const [enabled, setEnabled] = useState<boolean | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const policy = usePolicySetting<boolean>('readReceipts');
  const forcedOff = policy.locked && policy.value === false;

  useEffect(() => {
    void call(sealpost.readReceipts.get({})).then((r) => (r.ok ? setEnabled(r.value.enabled) : setError(r.error)));
  }, []);

  async function set(value: boolean) {
    setEnabled(value); // shown at once; put back if the engine says no
    const r = await call(sealpost.readReceipts.set({ enabled: value }));
    if (!r.ok) {
      setEnabled(!value);
      return setError(r.error);
    }
    setError(null);
    setEnabled(r.value.enabled);
    setNote(r.value.enabled ? 'People you write with see when you have read their messages, and you see when they read yours.' : 'No read receipts go out, and your messages stop at Delivered.');
  }

  return (
    <section className="card" aria-labelledby="receipts-title">
      <h2 id="receipts-title">Read receipts</h2>
      <p>Tell people when you have read their messages. Off: you send none and see none.</p>
      <label className="check">
        <input type="checkbox" checked={!forcedOff && (enabled ?? false)} disabled={enabled === null || forcedOff} onChange={(e) => void set(e.target.checked)} />
        Send read receipts
      </label>
      {forcedOff && (
        <p className="small" data-testid="receipts-managed">
          <Managed /> Read receipts are off.
        </p>
      )}
      <p className="muted small">A receipt is a sealed message to the sender; the key service cannot read it, but may guess from its timing that you read something.</p>
      <CardStatus note={note} error={error} />
    </section>
  );
}

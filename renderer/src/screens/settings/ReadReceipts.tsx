/**
 * Read receipts (docs/sync.md "Read receipts"): on by default; off, as in
 * Signal, we send none and see none. The organisation's policy can force them
 * off (readReceipts: false), and then the switch is locked.
 */
import { sealpost } from '../../bridge';
import { CardStatus } from '../../components/CardStatus';
import { Managed } from '../../components/Managed';
import { usePolicySetting } from '../../lib/policy';
import { useToggleSetting } from '../../lib/use-toggle-setting';

export function ReadReceipts() {
  const receipts = useToggleSetting(
    () => sealpost.readReceipts.get({}),
    (enabled) => sealpost.readReceipts.set({ enabled }),
    (v) => v.enabled,
    { on: 'People you write to see when you have read their messages, and you see when they read yours.', off: 'No read receipts go out, and your messages stop at Delivered.' },
  );
  const policy = usePolicySetting<boolean>('readReceipts');
  const forcedOff = policy.locked && policy.value === false;

  return (
    <section className="card" aria-labelledby="receipts-title">
      <h2 id="receipts-title">Read receipts</h2>
      <p>People you write to see when you have read their messages. Off: you send none and see none.</p>
      <label className="check">
        <input type="checkbox" checked={!forcedOff && (receipts.value ?? false)} disabled={receipts.value === null || forcedOff} onChange={(e) => void receipts.set(e.target.checked)} />
        Send read receipts
      </label>
      {forcedOff && (
        <p className="small" data-testid="receipts-managed">
          <Managed /> Read receipts are off.
        </p>
      )}
      <p className="muted small">A receipt is a sealed message to the sender; the key service cannot read it, but may guess from its timing that you read something.</p>
      <CardStatus note={receipts.note} error={receipts.error} />
    </section>
  );
}

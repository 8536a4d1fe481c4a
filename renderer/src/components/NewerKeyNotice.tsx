/**
 * Shown after registering when the key service shows that this identity
 * rotated (by changes its identity key signed) to an encryption key this
 * desktop does not hold: it was set up from an identity file or recovery
 * backup made before the rotation, so it cannot read what is sealed to the
 * newer key (device:register's newerKey).
 */
import type { NewerKey } from '../../../shared/contract-messaging';

export function NewerKeyNotice({ newerKey, compact = false, onContinue }: { newerKey: NewerKey; compact?: boolean; onContinue: () => void }) {
  return (
    <section className={compact ? 'stack' : 'card narrow'} role="alertdialog" aria-labelledby="newer-key-title" aria-describedby="newer-key-text">
      <h2 id="newer-key-title">This desktop has an older key</h2>
      <p id="newer-key-text" className="warning">
        Connected, but your identity moved to a newer encryption key on {new Date(newerKey.changedAt).toLocaleString()}, and this desktop does not have it (it was
        set up from an identity file or recovery backup made before that). Messages sealed to the newer key are read on your desktops that have it, not here. To
        read them here too, set Sealpost up on this desktop from an identity file exported after that date, or link it to a desktop that has the key.
      </p>
      <p className="muted small">
        Newer key: <code>{newerKey.fingerprint.slice(0, 16)}…</code>
      </p>
      <div className="row">
        <button type="button" onClick={onContinue} autoFocus>
          I understand
        </button>
      </div>
    </section>
  );
}

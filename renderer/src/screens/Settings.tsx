/**
 * Settings: change or disable the PIN, the auto-lock time, notifications
 * (message text only when opted in), read receipts, where the keys are kept (the keychain
 * backend in use), the key service, export of the public key (the private
 * key is never exported from here), and linking a new device (once registered).
 */
import { CardStatus } from '../components/CardStatus';
import { useState, type FormEvent, type ReactNode } from 'react';
import type { Output } from '../../../shared/contract';
import { keysKeptIn, type Status } from '../lib/status';
import { sealpost } from '../bridge';
import { BrowserNotifications } from '../components/BrowserNotifications';
import { ErrorBanner } from '../components/ErrorBanner';
import { PinField } from '../components/PinField';
import { SafetyNumber } from '../components/SafetyNumber';
import type { UiError } from '../errors';
import { call } from '../lib/call';
import { Managed } from '../components/Managed';
import { usePolicySetting } from '../lib/policy';
import { useToggleSetting } from '../lib/use-toggle-setting';
import { saveFile } from '../lib/download';
import { Devices } from './Devices';
import { KeyServiceSettings } from './KeyServiceSettings';
import { RecoverySettings } from './Recovery';
import { IdentityFileExport } from './IdentityFile';
import { LinkDeviceSettings } from './LinkDevice';
import { KeyRotation } from './KeyRotation';
import { TwoStep } from './settings/TwoStep';
import { ConnectedApps } from './settings/ConnectedApps';
import { ReadReceipts } from './settings/ReadReceipts';

const AUTO_LOCK_CHOICES: { ms: number; label: string }[] = [
  { ms: 60_000, label: '1 minute' },
  { ms: 5 * 60_000, label: '5 minutes' },
  { ms: 15 * 60_000, label: '15 minutes' },
  { ms: 60 * 60_000, label: '1 hour' },
  { ms: 0, label: 'Never (not recommended)' },
];

function PinSettings({ status, onChange }: { status: Status; onChange: () => void }) {
  const [oldPin, setOldPin] = useState('');
  const [newPin, setNewPin] = useState('');
  const [confirm, setConfirm] = useState('');
  const [disable, setDisable] = useState(false);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const requirePin = usePolicySetting<boolean>('requirePin');
  const minLength = usePolicySetting<number>('pinMinLength');
  const pinRequired = requirePin.locked && requirePin.value === true;
  const shortest = minLength.value ?? 4;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setNote(null);
    const next = disable && !pinRequired ? '0' : newPin;
    if (next !== '0' && !new RegExp(`^[0-9]{${shortest},12}$`).test(newPin)) return setError({ text: `A PIN is ${shortest} to 12 digits.`, details: 'InvalidPin (-101): checked before sending' });
    if (!disable && newPin !== confirm) return setError({ text: 'The two new PINs are not the same.', details: 'InvalidPin (-101): confirmation differs' });
    setBusy(true);
    const r = await call(sealpost.pin.change({ oldPin: status.pinDisabled && !oldPin ? '0' : oldPin, newPin: next }));
    setBusy(false);
    setOldPin('');
    setNewPin('');
    setConfirm('');
    if (!r.ok) return setError(r.error);
    setError(null);
    setNote(r.value.pinDisabled ? 'The PIN is off. Sealpost is locked: unlock with 0.' : 'PIN changed. Sealpost is locked: unlock with the new PIN.');
    onChange();
  }

  return (
    <form className="card" onSubmit={submit} aria-labelledby="pin-title">
      <h2 id="pin-title">PIN</h2>
      {status.pinDisabled && <p className="warning">No PIN is set: anyone who can use this computer account can open your keys.</p>}
      <PinField label={status.pinDisabled ? 'Current PIN (0 when none)' : 'Current PIN'} value={oldPin} onChange={setOldPin} autoComplete="current-password" />
      <label className="check">
        <input type="checkbox" checked={disable && !pinRequired} disabled={pinRequired} onChange={(e) => setDisable(e.target.checked)} />
        Turn the PIN off (weaker: your keys are then protected only by this computer account)
      </label>
      {(pinRequired || minLength.locked) && (
        <p className="small" data-testid="pin-managed">
          <Managed /> {pinRequired ? 'A PIN is required' : 'The PIN'}
          {minLength.locked ? `, at least ${shortest} digits.` : '.'}
        </p>
      )}
      {(!disable || pinRequired) && (
        <>
          <PinField label="New PIN" value={newPin} onChange={setNewPin} autoComplete="new-password" />
          <PinField label="Repeat the new PIN" value={confirm} onChange={setConfirm} autoComplete="new-password" />
        </>
      )}
      {error && <ErrorBanner error={error} />}
      {note && (
        <p className="ok" role="status">
          {note}
        </p>
      )}
      <button type="submit" disabled={busy || (!oldPin && !status.pinDisabled)}>
        {disable && !pinRequired ? 'Turn the PIN off' : 'Change PIN'}
      </button>
    </form>
  );
}

function AutoLock({ status, onChange }: { status: Status; onChange: () => void }) {
  const cap = usePolicySetting<number>('autoLockMaxMs');
  // Under a managed maximum, "never" and anything longer are not offered (the engine refuses them too).
  const choices = cap.value === undefined ? AUTO_LOCK_CHOICES : AUTO_LOCK_CHOICES.filter((c) => c.ms !== 0 && c.ms <= cap.value!);
  const maxSeconds = cap.value === undefined ? 86_400 : Math.floor(cap.value / 1000);
  const preset = choices.some((c) => c.ms === status.autoLockMs);
  const [custom, setCustom] = useState(preset ? '' : String(Math.round(status.autoLockMs / 1000)));
  const [error, setError] = useState<UiError | null>(null);
  const [note, setNote] = useState<string | null>(null);

  async function set(ms: number) {
    const r = await call(sealpost.session.setAutoLock({ ms }));
    if (!r.ok) return setError(r.error);
    setError(null);
    setNote(r.value.autoLockMs === 0 ? 'Auto-lock is off.' : `Sealpost locks after ${Math.round(r.value.autoLockMs / 1000)} s without use.`);
    onChange();
  }

  return (
    <section className="card" aria-labelledby="autolock-title">
      <h2 id="autolock-title">Auto-lock</h2>
      <p>Sealpost forgets your keys after a while without use, and always when the computer locks or sleeps.</p>
      {cap.locked && (
        <p className="small" data-testid="autolock-managed">
          <Managed /> At most {Math.round(maxSeconds / 60)} minutes.
        </p>
      )}
      <label>
        Lock after
        <select value={preset ? String(status.autoLockMs) : 'custom'} onChange={(e) => (e.target.value === 'custom' ? setCustom(String(Math.round(status.autoLockMs / 1000))) : void set(Number(e.target.value)))}>
          {choices.map((c) => (
            <option key={c.ms} value={String(c.ms)}>
              {c.label}
            </option>
          ))}
          <option value="custom">Other…</option>
        </select>
      </label>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          const s = Number(custom);
          if (!Number.isInteger(s) || s < 1 || s > maxSeconds) return setError({ text: `Enter whole seconds, 1 to ${maxSeconds}.`, details: 'InvalidParameter (-29): auto-lock seconds' });
          void set(s * 1000);
        }}
      >
        <label>
          Or after this many seconds
          <input type="number" min={1} max={maxSeconds} value={custom} onChange={(e) => setCustom(e.target.value)} />
        </label>
        <button type="submit" className="secondary" disabled={!custom}>
          Set
        </button>
      </form>
      <CardStatus note={note} error={error} />
    </section>
  );
}

function Notifications() {
  const showText = useToggleSetting(
    () => sealpost.notifications.get({}),
    (value) => sealpost.notifications.set({ showText: value }),
    (v) => v.showText,
    { on: 'Notifications show who wrote and the start of the message.', off: 'Notifications say only how many messages arrived.' },
  );
  const previews = usePolicySetting<'allowed' | 'off'>('notificationPreviews');
  const previewsOff = previews.locked && previews.value === 'off';

  return (
    <section className="card" aria-labelledby="notify-title">
      <h2 id="notify-title">Notifications</h2>
      <p>A desktop notification tells you when messages arrive. By default it says only how many.</p>
      <label className="check">
        <input type="checkbox" checked={!previewsOff && (showText.value ?? false)} disabled={showText.value === null || previewsOff} onChange={(e) => void showText.set(e.target.checked)} />
        Show sender and message text in notifications
      </label>
      {previewsOff && (
        <p className="small" data-testid="previews-managed">
          <Managed /> Notifications never show message text.
        </p>
      )}
      <p className="muted small">The system keeps notification text outside Sealpost and may show it on the lock screen, where anyone near the computer can read it.</p>
      <BrowserNotifications />
      <CardStatus note={showText.note} error={showText.error} />
    </section>
  );
}

function Keys({ status }: { status: Status }) {
  const [exported, setExported] = useState<Output<'keys:exportPublic'> | null>(null);
  const [error, setError] = useState<UiError | null>(null);

  async function exportKey() {
    const r = await call(sealpost.keys.exportPublic({}));
    if (!r.ok) return setError(r.error);
    setExported(r.value);
    saveFile('sealpost-public-key.pem', r.value.pem, 'application/x-pem-file');
  }

  return (
    <section className="card" aria-labelledby="keys-title">
      <h2 id="keys-title">Your keys</h2>
      <dl>
        <dt>Kept in</dt>
        <dd data-testid="keychain-backend">
          {status.keychainBackend === 'secret-service'
            ? `The system keychain (Secret Service), ${status.pinDisabled ? 'without a PIN' : 'sealed with your PIN'}.`
            : `${status.pinDisabled ? 'A file in your profile folder, without a PIN' : 'A PIN-protected file in your profile folder'}: no system keychain answered on this computer.`}
        </dd>
        {status.did && (
          <>
            <dt>Identity (DID)</dt>
            <dd className="mono">{status.did}</dd>
          </>
        )}
      </dl>
      <button type="button" onClick={() => void exportKey()}>
        Export public key
      </button>
      {exported && (
        <>
          <p className="ok" role="status">
            Saved sealpost-public-key.pem. Your safety number:
          </p>
          <SafetyNumber value={exported.safetyNumber} />
          <pre className="mono pem">{exported.pem}</pre>
        </>
      )}
      {error && <ErrorBanner error={error} />}
    </section>
  );
}

/** Settings in groups, with an index to jump to each (one page, so Ctrl+F in the browser finds any setting). */
const GROUPS = [
  { id: 'settings-security', label: 'Security' },
  { id: 'settings-notifications', label: 'Notifications and privacy' },
  { id: 'settings-keys', label: 'Keys and identity' },
  { id: 'settings-devices', label: 'Devices and key service' },
] as const;

function Group({ id, label, children }: { id: string; label: string; children: ReactNode }) {
  return (
    <section className="settings-group" id={id} aria-labelledby={`${id}-h`} tabIndex={-1}>
      <h2 id={`${id}-h`} className="group-title">
        {label}
      </h2>
      <div className="grid">{children}</div>
    </section>
  );
}

export function Settings({ status, onChange }: { status: Status; onChange: () => void }) {
  const [g1, g2, g3, g4] = GROUPS;
  return (
    <section className="screen" aria-labelledby="settings-title">
      <header className="screen-header">
        <h1 id="settings-title">Settings</h1>
        <span className="muted small" data-testid="keys-kept-in">
          Keys kept in: {keysKeptIn(status)}
        </span>
      </header>
      <div className="screen-body">
        <nav aria-label="Settings sections" className="chips">
          {GROUPS.map((g) => (
            <a key={g.id} className="chip chip-link" href={`#${g.id}`} onClick={(e) => {
              // Jump without changing the URL: its fragment carries the browser-mode token.
              e.preventDefault();
              const target = document.getElementById(g.id);
              target?.scrollIntoView({ block: 'start' });
              target?.focus({ preventScroll: true });
            }}>
              {g.label}
            </a>
          ))}
        </nav>
        <Group id={g1.id} label={g1.label}>
          <PinSettings status={status} onChange={onChange} />
          <AutoLock status={status} onChange={onChange} />
          <RecoverySettings />
          <TwoStep />
        </Group>
        <Group id={g2.id} label={g2.label}>
          <Notifications />
          <ReadReceipts />
        </Group>
        <Group id={g3.id} label={g3.label}>
          <Keys status={status} />
          <KeyRotation pinDisabled={status.pinDisabled} registered={status.registered} onChange={onChange} />
          <IdentityFileExport />
        </Group>
        <Group id={g4.id} label={g4.label}>
          <KeyServiceSettings />
          {status.registered && <LinkDeviceSettings />}
          <Devices />
          <ConnectedApps />
        </Group>
      </div>
    </section>
  );
}

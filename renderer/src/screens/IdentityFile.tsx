/**
 * The identity file (docs/sharing.md, format.md §14.3): the same user on a
 * second desktop. Settings exports it under a passphrase; first run imports it
 * (then the user registers with the same username and sync brings their items
 * and grants). The file never passes through the renderer unencrypted: the
 * engine seals it before it arrives here, and opens it after it leaves.
 */
import { useState, type FormEvent } from 'react';
import { sealpost } from '../bridge';
import { ErrorBanner } from '../components/ErrorBanner';
import { PinField } from '../components/PinField';
import type { UiError } from '../errors';
import { base64ToBytes, bytesToBase64, readFileBytes } from '../lib/base64';
import { call } from '../lib/call';
import { Managed } from '../components/Managed';
import { usePolicySetting } from '../lib/policy';
import { saveFile } from '../lib/download';

const MIN_PASSPHRASE = 10;

function passphraseProblem(pass: string, repeat: string | null): UiError | null {
  if ([...pass].length < MIN_PASSPHRASE) return { text: `Use a passphrase of at least ${MIN_PASSPHRASE} characters.`, details: 'InvalidParameter (-29): checked before sending' };
  if (repeat !== null && pass !== repeat) return { text: 'The two passphrases are not the same.', details: 'InvalidParameter (-29): confirmation differs' };
  return null;
}

/** Settings card: export the identity sealed under a passphrase. */
export function IdentityFileExport() {
  const [pass, setPass] = useState('');
  const [repeat, setRepeat] = useState('');
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);
  const exportPolicy = usePolicySetting<boolean>('allowIdentityExport');
  const forbidden = exportPolicy.locked && exportPolicy.value === false;

  async function submit(event: FormEvent) {
    event.preventDefault();
    const problem = passphraseProblem(pass, repeat);
    if (problem) return setError(problem);
    setBusy(true);
    const r = await call(sealpost.identity.export({ passphrase: pass }));
    setBusy(false);
    if (!r.ok) return setError(r.error);
    setError(null);
    setPass('');
    setRepeat('');
    saveFile('sealpost-identity.spid', base64ToBytes(r.value.file));
    setDone(true);
  }

  return (
    <section className="card" aria-labelledby="idfile-title">
      <h2 id="idfile-title">Use Sealpost on another desktop</h2>
      <p>
        Export your identity to a file sealed with a passphrase, then choose “Import an identity file” when setting up the other desktop and connect with the same user
        name. Your items and what you shared appear there after the first sync.
      </p>
      <p className="warning">Anyone with this file and its passphrase is you. Keep both safe, and delete the file once it is imported.</p>
      {forbidden && (
        <p data-testid="export-managed">
          <Managed /> Your organization does not allow exporting the identity file. Use “Link to an existing device” on the other desktop instead.
        </p>
      )}
      <form className="stack" onSubmit={submit}>
        <fieldset className="plain" disabled={forbidden}>
        <label>
          Passphrase for the file
          <input type="password" value={pass} onChange={(e) => setPass(e.target.value)} autoComplete="new-password" />
        </label>
        <label>
          Repeat the passphrase
          <input type="password" value={repeat} onChange={(e) => setRepeat(e.target.value)} autoComplete="new-password" />
        </label>
        <div className="row">
          <button type="submit" disabled={busy || !pass}>
            Export identity file
          </button>
        </div>
        </fieldset>
      </form>
      {done && (
        <p className="ok" role="status">
          Saved sealpost-identity.spid.
        </p>
      )}
      {error && <ErrorBanner error={error} />}
    </section>
  );
}

/** First run: restore an exported identity under a new PIN for this desktop. */
export function IdentityFileImport({ onCancel, onDone }: { onCancel: () => void; onDone: (pin: string) => void }) {
  const [file, setFile] = useState<string | null>(null);
  const [pass, setPass] = useState('');
  const [pin, setPin] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);

  async function pick(f: File | undefined) {
    if (!f) return;
    if (f.size > 64 * 1024) return setError({ text: 'That is not a Sealpost identity file (too large).', details: 'InvalidParameter (-29): over 64 KiB' });
    setFile(bytesToBase64(await readFileBytes(f, () => undefined)));
    setError(null);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const problem = passphraseProblem(pass, null);
    if (problem) return setError(problem);
    if (!/^[0-9]{4,12}$/.test(pin) || pin !== confirm) {
      return setError({ text: 'Choose a PIN of 4 to 12 digits and type it twice.', details: 'InvalidPin (-101): checked before sending' });
    }
    if (!file) return setError({ text: 'Choose the identity file first.', details: 'InvalidParameter (-29): no file' });
    setBusy(true);
    const r = await call(sealpost.identity.import({ file, passphrase: pass, pin }));
    setBusy(false);
    if (!r.ok) return setError(r.error);
    onDone(pin);
  }

  return (
    <form className="card narrow stack" onSubmit={submit} aria-labelledby="import-title">
      <h2 id="import-title">Import an identity file</h2>
      <p>The file you exported on your other desktop, its passphrase, and a new PIN for this desktop.</p>
      <label>
        Identity file
        <input type="file" onChange={(e) => void pick(e.target.files?.[0])} />
      </label>
      <label>
        Passphrase of the file
        <input type="password" value={pass} onChange={(e) => setPass(e.target.value)} autoComplete="current-password" />
      </label>
      <PinField label="New PIN for this desktop" value={pin} onChange={setPin} autoComplete="new-password" />
      <PinField label="Repeat the new PIN" value={confirm} onChange={setConfirm} autoComplete="new-password" />
      {error && <ErrorBanner error={error} />}
      <div className="row">
        <button type="submit" disabled={busy || !file}>
          {busy ? 'Importing…' : 'Import'}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Back
        </button>
      </div>
    </form>
  );
}

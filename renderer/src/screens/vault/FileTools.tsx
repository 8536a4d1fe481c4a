/**
 * Encrypt a file offline (IDENTOS encrypt) into a .sealpost container to keep
 * or send elsewhere, and decrypt such a container back. Nothing leaves the
 * device; the container opens only with a key this device (or a grantee) holds.
 */
import { useState } from 'react';
import { sealpost } from '../../bridge';
import { ErrorBanner } from '../../components/ErrorBanner';
import type { UiError } from '../../errors';
import { base64ToBytes, bytesToBase64, readFileBytes } from '../../lib/base64';
import { call } from '../../lib/call';
import { saveFile } from '../../lib/download';

const SUFFIX = '.sealpost';
/** The contract carries at most 64 MiB of base64: about 48 MB of file. */
const MAX_FILE = 48 * 1024 * 1024;

export function FileTools({ onChanged }: { onChanged: () => void }) {
  const [progress, setProgress] = useState<number | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<UiError | null>(null);

  async function pick(file: File | undefined, op: 'encrypt' | 'decrypt') {
    if (!file) return;
    setError(null);
    setMessage(null);
    if (file.size > MAX_FILE) {
      setError({ text: 'That file is too large to seal here (48 MB at most). The command line (`sealpost encrypt`) streams files of any size.', details: 'InvalidParameter (-29): file too large' });
      return;
    }
    setProgress(0);
    try {
      const bytes = await readFileBytes(file, (f) => setProgress(f * 0.5));
      const data = bytesToBase64(bytes);
      setProgress(0.6);
      if (op === 'encrypt') {
        const r = await call(sealpost.vault.encrypt({ data }));
        if (!r.ok) return setError(r.error);
        saveFile(file.name + SUFFIX, base64ToBytes(r.value[0]));
        setMessage(`Sealed ${file.name} as item ${r.value[1]} and saved ${file.name}${SUFFIX}.`);
        onChanged();
      } else {
        const r = await call(sealpost.vault.decrypt({ data }));
        if (!r.ok) return setError(r.error);
        const name = file.name.endsWith(SUFFIX) ? file.name.slice(0, -SUFFIX.length) : `${file.name}.opened`;
        saveFile(name, base64ToBytes(r.value[0]));
        setMessage(`Opened ${file.name} (item ${r.value[1]}) and saved ${name}.`);
      }
    } catch (e) {
      setError({ text: 'The file could not be read.', details: `Failed (-1): ${e instanceof Error ? e.message : String(e)}` });
    } finally {
      setProgress(null);
    }
  }

  return (
    <section className="panel" aria-labelledby="filetools-title">
      <h2 id="filetools-title">Encrypt a file offline</h2>
      <p>Seal a file with your key into a {SUFFIX} file you can keep anywhere, or open one sealed earlier. It works without any network.</p>
      <label>
        File to encrypt
        <input type="file" onChange={(e) => void pick(e.target.files?.[0], 'encrypt')} disabled={progress !== null} />
      </label>
      <label>
        {SUFFIX} file to decrypt
        <input type="file" onChange={(e) => void pick(e.target.files?.[0], 'decrypt')} disabled={progress !== null} />
      </label>
      {progress !== null && <progress aria-label="Working on the file" max={1} value={progress} />}
      {message && (
        <p className="ok" role="status">
          {message}
        </p>
      )}
      {error && <ErrorBanner error={error} />}
    </section>
  );
}

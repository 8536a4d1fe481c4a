/** Picks one file and reads it into memory (base64) with a progress bar, for a vault item. */
import { useState } from 'react';
import type { UiError } from '../../errors';
import { bytesToBase64, readFileBytes } from '../../lib/base64';

export type PickedFile = { fileName: string; mime: string; data: string; size: number };

const MAX_FILE = 48 * 1024 * 1024;

export function FilePicker({ onPicked, label }: { onPicked: (f: PickedFile | null, error?: UiError) => void; label: string }) {
  const [progress, setProgress] = useState<number | null>(null);
  async function pick(file: File | undefined) {
    if (!file) return;
    if (file.size > MAX_FILE) {
      onPicked(null, { text: 'That file is too large for the vault (48 MB at most).', details: 'InvalidParameter (-29): file too large' });
      return;
    }
    setProgress(0);
    try {
      const bytes = await readFileBytes(file, setProgress);
      onPicked({ fileName: file.name, mime: file.type || 'application/octet-stream', data: bytesToBase64(bytes), size: bytes.length });
    } catch (e) {
      onPicked(null, { text: 'The file could not be read.', details: `Failed (-1): ${e instanceof Error ? e.message : String(e)}` });
    } finally {
      setProgress(null);
    }
  }
  return (
    <>
      <label>
        {label}
        <input type="file" onChange={(e) => void pick(e.target.files?.[0])} />
      </label>
      {progress !== null && <progress aria-label="Reading the file" max={1} value={progress} />}
    </>
  );
}

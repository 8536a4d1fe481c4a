/** A new vault item: a note (title + text) or a file, sealed on this device. */
import { useState, type FormEvent } from 'react';
import type { Output } from '../../../../shared/contract';
import { sealpost } from '../../bridge';
import { ErrorBanner } from '../../components/ErrorBanner';
import type { UiError } from '../../errors';
import { formatSize } from '../../lib/base64';
import { call } from '../../lib/call';
import { FilePicker, type PickedFile } from './FilePicker';

type Content = Output<'items:open'>['content'];

export function NewItem({ kind, onCancel, onCreated }: { kind: 'note' | 'file'; onCancel: () => void; onCreated: (identifier: string) => void }) {
  const [title, setTitle] = useState('');
  const [text, setText] = useState('');
  const [file, setFile] = useState<PickedFile | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const name = title.trim() || file?.fileName || '';
    if (!name) return setError({ text: 'Give the item a title.', details: 'InvalidParameter (-29): title is empty' });
    if (kind === 'file' && !file) return setError({ text: 'Choose a file first.', details: 'InvalidParameter (-29): no file' });
    setBusy(true);
    const content: Content = kind === 'note' ? { kind: 'note', title: name, text } : { kind: 'file', title: name, fileName: file!.fileName, mime: file!.mime, data: file!.data };
    const r = await call(sealpost.items.create({ content }));
    setBusy(false);
    if (r.ok) onCreated(r.value.identifier);
    else setError(r.error);
  }

  return (
    <form className="panel" onSubmit={submit} aria-labelledby="new-title">
      <h2 id="new-title">{kind === 'note' ? 'New note' : 'Add a file'}</h2>
      <label>
        Title
        <input value={title} onChange={(e) => setTitle(e.target.value)} autoFocus maxLength={200} />
      </label>
      {kind === 'note' ? (
        <label>
          Note
          <textarea value={text} onChange={(e) => setText(e.target.value)} rows={10} />
        </label>
      ) : (
        <>
          <FilePicker label="File" onPicked={(f, e) => (f ? (setFile(f), setError(null)) : setError(e ?? null))} />
          {file && <p className="muted">{file.fileName} · {formatSize(file.size)}</p>}
        </>
      )}
      {error && <ErrorBanner error={error} />}
      <div className="row">
        <button type="submit" disabled={busy}>
          {busy ? 'Sealing…' : 'Seal and save'}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

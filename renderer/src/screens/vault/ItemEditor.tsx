/**
 * One vault item: create, open, edit (saved as a new version under the same
 * item key), delete, its history and conflicts, and who has access.
 */
import { useEffect, useState, type FormEvent } from 'react';
import type { Output } from '../../../../shared/contract';
import { sealpost } from '../../bridge';
import { ErrorBanner } from '../../components/ErrorBanner';
import type { UiError } from '../../errors';
import { base64ToBytes, bytesToBase64, formatSize, readFileBytes } from '../../lib/base64';
import { call } from '../../lib/call';
import { saveFile } from '../../lib/download';
import { HistoryPanel } from './HistoryPanel';
import { SharingPanel } from './SharingPanel';

type Opened = Output<'items:open'>;
type Content = Opened['content'];
type PickedFile = { fileName: string; mime: string; data: string; size: number };

const MAX_FILE = 48 * 1024 * 1024;

function FilePicker({ onPicked, label }: { onPicked: (f: PickedFile | null, error?: UiError) => void; label: string }) {
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
    <form className="card" onSubmit={submit} aria-labelledby="new-title">
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

export function ItemEditor({ identifier, onChanged, onDeleted }: { identifier: string; onChanged: () => void; onDeleted: () => void }) {
  const [opened, setOpened] = useState<Opened | null>(null);
  const [title, setTitle] = useState('');
  const [text, setText] = useState('');
  const [file, setFile] = useState<PickedFile | null>(null);
  const [panel, setPanel] = useState<'none' | 'history' | 'sharing' | 'delete'>('none');
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<UiError | null>(null);

  async function load() {
    const r = await call(sealpost.items.open({ identifier }));
    if (!r.ok) return setError(r.error);
    setOpened(r.value);
    setTitle(r.value.content.title);
    setText(r.value.content.kind === 'note' ? r.value.content.text : '');
    setFile(null);
  }

  useEffect(() => {
    void load();
    // load depends only on identifier (the editor is keyed by it, too)
  }, [identifier]);

  if (!opened) return <section className="card">{error ? <ErrorBanner error={error} /> : <p aria-busy="true">Opening…</p>}</section>;

  const content = opened.content;
  const item = opened.item;
  // Shared read-only, or access revoked: the engine and the key service refuse edits too.
  const readOnly = !item.mine && (item.role !== 'edit' || item.revoked);

  async function save(event: FormEvent) {
    event.preventDefault();
    let next: Content;
    if (content.kind === 'note') next = { kind: 'note', title: title.trim() || item.identifier, text };
    else if (content.kind === 'file') {
      const f = file ?? { fileName: content.fileName, mime: content.mime, data: content.data };
      next = { kind: 'file', title: title.trim() || f.fileName, fileName: f.fileName, mime: f.mime, data: f.data };
    } else return;
    setBusy(true);
    setSaved(false);
    const r = await call(sealpost.items.update({ identifier, expectedVersion: item.version, content: next }));
    setBusy(false);
    if (!r.ok) return setError(r.error);
    setError(null);
    setSaved(true);
    onChanged();
    await load();
  }

  async function remove() {
    setBusy(true);
    const r = await call(sealpost.items.delete({ identifier, expectedVersion: item.version }));
    setBusy(false);
    if (r.ok) onDeleted();
    else setError(r.error);
  }

  return (
    <section className="card" aria-labelledby="item-title">
      <form className="stack" onSubmit={save}>
        <h2 id="item-title">{item.title}</h2>
        <p className="muted small">
          Version {item.version} · {new Date(item.updatedAt).toLocaleString()} · {item.mine ? 'yours' : 'shared with you'}
          {item.dirty ? ' · not synced yet' : ''}
        </p>
        {!item.mine && (
          <p className="small" data-testid="shared-by">
            Shared with you by <strong>{item.sharedBy ?? item.owner}</strong>
            {item.sharedAt ? ` on ${new Date(item.sharedAt).toLocaleString()}` : ''} · {item.role === 'edit' ? 'you can edit' : 'read only'}
          </p>
        )}
        {item.revoked && (
          <p className="alarm" role="alert">
            {item.sharedBy ?? 'The owner'} revoked your access. What you see here is the last version you opened; newer versions will not reach you.
          </p>
        )}
        {item.conflicts > 0 && (
          <p className="alarm" role="alert">
            Another device changed this item at the same time. Both versions were kept: open History to choose.
          </p>
        )}
        {content.kind !== 'data' && (
          <label>
            Title
            <input value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} readOnly={readOnly} />
          </label>
        )}
        {content.kind === 'note' && (
          <label>
            Note
            <textarea value={text} onChange={(e) => setText(e.target.value)} rows={12} data-testid="note-text" readOnly={readOnly} />
          </label>
        )}
        {content.kind === 'file' && (
          <>
            <p>
              {content.fileName} · {formatSize(item.size)}{' '}
              <button type="button" className="secondary" onClick={() => saveFile(content.fileName, base64ToBytes(content.data), content.mime)}>
                Save file…
              </button>
            </p>
            {!readOnly && <FilePicker label="Replace with another file" onPicked={(f, e) => (f ? setFile(f) : setError(e ?? null))} />}
          </>
        )}
        {content.kind === 'data' && (
          <p>
            Sealed data ({formatSize(item.size)}) made with “Encrypt a file”.{' '}
            <button type="button" className="secondary" onClick={() => saveFile(`${item.identifier}.bin`, base64ToBytes(content.data))}>
              Save as file…
            </button>
          </p>
        )}
        {saved && (
          <p className="ok" role="status">
            Saved as version {item.version}.
          </p>
        )}
        {error && <ErrorBanner error={error} />}
        <div className="row">
          {content.kind !== 'data' && !readOnly && (
            <button type="submit" disabled={busy}>
              {busy ? 'Saving…' : 'Save'}
            </button>
          )}
          <button type="button" className="secondary" aria-expanded={panel === 'history'} onClick={() => setPanel(panel === 'history' ? 'none' : 'history')}>
            History{item.conflicts > 0 ? ` (${item.conflicts} conflict)` : ''}
          </button>
          {item.mine && (
            <button type="button" className="secondary" aria-expanded={panel === 'sharing'} onClick={() => setPanel(panel === 'sharing' ? 'none' : 'sharing')}>
              Sharing
            </button>
          )}
          {item.mine && (
            <button type="button" className="danger" onClick={() => setPanel('delete')}>
              Delete…
            </button>
          )}
        </div>
      </form>
      {panel === 'delete' && (
        <div className="confirm" role="alertdialog" aria-labelledby="del-q">
          <p id="del-q">Delete “{item.title}”? Other devices remove it at their next sync. Earlier versions stay in the history on this device.</p>
          <div className="row">
            <button type="button" className="danger" onClick={() => void remove()} disabled={busy} autoFocus>
              Delete
            </button>
            <button type="button" className="secondary" onClick={() => setPanel('none')}>
              Keep it
            </button>
          </div>
        </div>
      )}
      {panel === 'history' && (
        <HistoryPanel
          identifier={identifier}
          onResolved={() => {
            onChanged();
            void load();
          }}
        />
      )}
      {panel === 'sharing' && <SharingPanel identifier={identifier} onChanged={onChanged} />}
    </section>
  );
}

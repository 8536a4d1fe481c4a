/**
 * One open vault item: a header (title, version, who shared it, delete) and
 * three tabs — the content (edit and save as a new version under the same
 * item key, copy buttons), its history and conflicts, and who has access.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { Download, FileText, History, Share2, Trash2 } from 'lucide-react';
import type { Output } from '../../../../shared/contract';
import { sealpost } from '../../bridge';
import { CopyButton } from '../../components/CopyButton';
import { Dialog } from '../../components/Dialog';
import { ErrorBanner } from '../../components/ErrorBanner';
import type { UiError } from '../../errors';
import { base64ToBytes, formatSize } from '../../lib/base64';
import { call } from '../../lib/call';
import { saveFile } from '../../lib/download';
import { FilePicker, type PickedFile } from './FilePicker';
import { HistoryPanel } from './HistoryPanel';
import { SharingPanel } from './SharingPanel';

type Opened = Output<'items:open'>;
type Content = Opened['content'];
type Tab = 'content' | 'history' | 'sharing';

export function ItemEditor({ identifier, onChanged, onDeleted }: { identifier: string; onChanged: () => void; onDeleted: () => void }) {
  const [opened, setOpened] = useState<Opened | null>(null);
  const [title, setTitle] = useState('');
  const [text, setText] = useState('');
  const [file, setFile] = useState<PickedFile | null>(null);
  const [tab, setTab] = useState<Tab>('content');
  const [confirmDelete, setConfirmDelete] = useState(false);
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

  if (!opened) return <div className="stack">{error ? <ErrorBanner error={error} /> : <p aria-busy="true">Opening…</p>}</div>;

  const content = opened.content;
  const item = opened.item;
  // Shared read-only, or access revoked: the engine and the key service refuse edits too.
  const readOnly = !item.mine && (item.role !== 'edit' || item.revoked);
  const tabs: { id: Tab; label: string; icon: typeof FileText }[] = [
    { id: 'content', label: content.kind === 'note' ? 'Note' : content.kind === 'file' ? 'File' : 'Data', icon: FileText },
    { id: 'history', label: item.conflicts > 0 ? `History (${item.conflicts} conflict)` : 'History', icon: History },
    ...(item.mine ? [{ id: 'sharing' as const, label: 'Sharing', icon: Share2 }] : []),
  ];

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
    setConfirmDelete(false);
    if (r.ok) onDeleted();
    else setError(r.error);
  }

  return (
    <section className="stack item-view" aria-labelledby="item-title">
      <header className="panel-header">
        <div className="stack-sm grow">
          <h2 id="item-title">{item.title}</h2>
          <p className="muted small">
            Version {item.version} · {new Date(item.updatedAt).toLocaleString()} · {item.mine ? 'yours' : 'shared with you'}
            {item.dirty ? ' · not synced yet' : ''}
          </p>
        </div>
        {item.mine && (
          <button type="button" className="danger small" onClick={() => setConfirmDelete(true)}>
            <Trash2 size={16} aria-hidden="true" />
            Delete…
          </button>
        )}
      </header>
      {!item.mine && (
        <p className="info small" data-testid="shared-by">
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
      <div role="tablist" className="tabs" aria-label="Item">
        {tabs.map(({ id, label, icon: Icon }) => (
          <button
            key={id}
            type="button"
            role="tab"
            id={`item-tab-${id}`}
            className="tab"
            aria-selected={tab === id}
            aria-controls={`item-panel-${id}`}
            tabIndex={tab === id ? 0 : -1}
            onClick={() => setTab(id)}
            onKeyDown={(e) => {
              // Arrow keys move between tabs, as in every tab list.
              if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
              const i = tabs.findIndex((t) => t.id === id);
              const next = tabs[(i + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
              if (!next) return;
              setTab(next.id);
              document.getElementById(`item-tab-${next.id}`)?.focus();
            }}
          >
            <Icon size={16} aria-hidden="true" />
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`item-panel-${tab}`} aria-labelledby={`item-tab-${tab}`} className="tabpanel">
        {tab === 'content' && (
          <form className="stack" onSubmit={save}>
            {content.kind !== 'data' && (
              <label>
                Title
                <span className="field-row">
                  <input value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} readOnly={readOnly} />
                  <CopyButton value={title} label="Copy the title" />
                </span>
              </label>
            )}
            {content.kind === 'note' && (
              <div className="stack-sm">
                <div className="label-row">
                  <label htmlFor="note-text">Note</label>
                  <CopyButton value={text} label="Copy the note" />
                </div>
                <textarea id="note-text" value={text} onChange={(e) => setText(e.target.value)} rows={12} data-testid="note-text" readOnly={readOnly} />
              </div>
            )}
            {content.kind === 'file' && (
              <div className="field-value">
                <span className="value">
                  {content.fileName} · {formatSize(item.size)}
                </span>
                <button type="button" className="secondary small" onClick={() => saveFile(content.fileName, base64ToBytes(content.data), content.mime)}>
                  <Download size={16} aria-hidden="true" />
                  Save file…
                </button>
              </div>
            )}
            {content.kind === 'file' && !readOnly && <FilePicker label="Replace with another file" onPicked={(f, e) => (f ? setFile(f) : setError(e ?? null))} />}
            {content.kind === 'data' && (
              <div className="field-value">
                <span className="value">Sealed data ({formatSize(item.size)}) made with “Encrypt a file”.</span>
                <button type="button" className="secondary small" onClick={() => saveFile(`${item.identifier}.bin`, base64ToBytes(content.data))}>
                  <Download size={16} aria-hidden="true" />
                  Save as file…
                </button>
              </div>
            )}
            {saved && (
              <p className="ok" role="status">
                Saved as version {item.version}.
              </p>
            )}
            {error && <ErrorBanner error={error} />}
            {content.kind !== 'data' && !readOnly && (
              <div className="row">
                <button type="submit" disabled={busy}>
                  {busy ? 'Saving…' : 'Save'}
                </button>
              </div>
            )}
          </form>
        )}
        {tab === 'history' && (
          <HistoryPanel
            identifier={identifier}
            onResolved={() => {
              onChanged();
              void load();
            }}
          />
        )}
        {tab === 'sharing' && <SharingPanel identifier={identifier} onChanged={onChanged} />}
      </div>
      <Dialog
        open={confirmDelete}
        title={`Delete “${item.title}”?`}
        onClose={() => setConfirmDelete(false)}
        footer={
          <>
            <button type="button" className="secondary" onClick={() => setConfirmDelete(false)} data-autofocus>
              Keep it
            </button>
            <button type="button" className="danger-solid" onClick={() => void remove()} disabled={busy}>
              Delete
            </button>
          </>
        }
      >
        <p>Other devices remove it at their next sync. Earlier versions stay in the history on this device.</p>
      </Dialog>
    </section>
  );
}

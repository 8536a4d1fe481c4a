/**
 * One attachment in a message bubble: name, size and state; images previewed
 * inline (opened in memory, shown through a blob: URL). Save: in Electron the
 * system's save dialog, main writes the checked bytes there, and "Open folder"
 * shows the file; in browser mode the page reads the checked bytes (progress,
 * cancel) and offers them as a download, and there is no "Open folder" (the
 * browser keeps its downloads to itself).
 */
import { useEffect, useRef, useState } from 'react';
import { Download, File as FileIcon, FolderOpen, Image as ImageIcon, X } from 'lucide-react';
import { ErrorBanner } from '../../components/ErrorBanner';
import type { UiError } from '../../errors';
import { formatSize } from '../../lib/base64';
import { saveFile } from '../../lib/download';
import { AUTO_PREVIEW_BYTES, cachedPreview, Cancelled, isPreviewable, keepPreview, OpenError, openAttachment, saveWithDialog, savesWithDialog, showSavedFile } from './attachment-io';
import type { Message } from './format';

type Attachment = Message['attachments'][number];

const STATE_TEXT: Record<Attachment['state'], string> = { complete: 'checked', partial: 'arriving', failed: 'failed', missing: 'missing' };

function asUiError(e: unknown): UiError {
  return e instanceof OpenError ? e.ui : { text: 'Something went wrong. Your data is unchanged.', details: `Failed (-1): ${e instanceof Error ? e.message : String(e)}` };
}

export function AttachmentItem({ message, attachment: a }: { message: Message; attachment: Attachment }) {
  const openable = a.state === 'complete' && message.text !== null;
  const image = openable && isPreviewable(a.contentType);
  const [preview, setPreview] = useState<string | null>(() => (image ? cachedPreview(a.id) : null));
  const [progress, setProgress] = useState<{ done: number; total: number; what: 'preview' | 'save' } | null>(null);
  const [note, setNote] = useState<string | null>(null);
  /** Saved through the desktop shell: its id, for "Open folder". */
  const [saved, setSaved] = useState<string | null>(null);
  /** The save dialog is open, or main is writing the file (Electron). */
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<UiError | null>(null);
  const abort = useRef<AbortController | null>(null);

  async function read(what: 'preview' | 'save') {
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    setError(null);
    setNote(null);
    setSaved(null);
    setProgress({ done: 0, total: a.size, what });
    try {
      const { name, blob } = await openAttachment(message.id, a, (done, total) => setProgress({ done, total, what }), controller.signal);
      if (controller.signal.aborted) return;
      if (what === 'save') {
        saveFile(name, blob);
        setNote(`Saved ${name} (checked).`);
      }
      if (image) setPreview(cachedPreview(a.id) ?? keepPreview(a.id, blob));
    } catch (e) {
      if (!(e instanceof Cancelled)) setError(asUiError(e));
    } finally {
      if (abort.current === controller) {
        abort.current = null;
        setProgress(null);
      }
    }
  }

  async function saveThroughShell() {
    setError(null);
    setNote(null);
    setSaved(null);
    setSaving(true);
    try {
      const file = await saveWithDialog(message.id, a);
      if (!file) return;
      setNote(`Saved ${file.name} (checked).`);
      setSaved(file.saveId);
    } catch (e) {
      setError(asUiError(e));
    } finally {
      setSaving(false);
    }
  }

  async function openFolder(saveId: string) {
    setError(null);
    try {
      await showSavedFile(saveId);
    } catch (e) {
      setError(asUiError(e));
    }
  }

  // Images open by themselves when the bubble shows (small ones); big ones wait for a click.
  useEffect(() => {
    if (image && !preview && a.size <= AUTO_PREVIEW_BYTES) void read('preview');
    return () => abort.current?.abort();
    // Once per attachment (read() only uses this render's props, which belong to it).
  }, [a.id]);

  const Icon = isPreviewable(a.contentType) ? ImageIcon : FileIcon;
  return (
    <li className="attachment">
      {preview && <img className="attachment-preview" src={preview} alt={a.name} />}
      <div className="attachment-row">
        <Icon size={18} aria-hidden="true" />
        <span className="attachment-name">
          <span className="truncate">{a.name}</span>
          <span className="attachment-meta">
            {formatSize(a.size)} · {STATE_TEXT[a.state]}
          </span>
        </span>
        {image && !preview && !progress && (
          <button type="button" className="secondary small" onClick={() => void read('preview')}>
            Show
          </button>
        )}
        {openable && !progress && !saving && (
          <button type="button" className="icon-btn" onClick={() => void (savesWithDialog ? saveThroughShell() : read('save'))} aria-label={`Save ${a.name}`} title={`Save ${a.name}`}>
            <Download size={18} aria-hidden="true" />
          </button>
        )}
      </div>
      {progress && (
        <div className="attachment-progress">
          <progress aria-label={`${progress.what === 'save' ? 'Saving' : 'Opening'} ${a.name}`} max={Math.max(1, progress.total)} value={progress.done} />
          <button type="button" className="icon-btn" onClick={() => abort.current?.abort()} aria-label={`Cancel ${a.name}`} title="Cancel">
            <X size={16} aria-hidden="true" />
          </button>
        </div>
      )}
      {saving && (
        <div className="attachment-progress">
          {/* No value: main reports no progress; the dialog is where to cancel. */}
          <progress aria-label={`Saving ${a.name}`} />
        </div>
      )}
      {note && (
        <div className="row">
          <span className="small" role="status">
            {note}
          </span>
          {saved && (
            <button type="button" className="secondary small" onClick={() => void openFolder(saved)}>
              <FolderOpen size={16} aria-hidden="true" /> Open folder
            </button>
          )}
        </div>
      )}
      {error && <ErrorBanner error={error} />}
    </li>
  );
}

/**
 * The composer docked under a conversation: Enter sends, Shift+Enter starts a
 * new line; the paper clip picks files, a pasted image or files dropped on the
 * conversation are attached too (staged in chunks with progress, removable
 * while they upload). The text is a draft kept per conversation (drafts.ts).
 */
import { forwardRef, useEffect, useImperativeHandle, useRef, useState, type ClipboardEvent, type FormEvent, type KeyboardEvent } from 'react';
import { File as FileIcon, Paperclip, SendHorizontal, X } from 'lucide-react';
import { sealpost } from '../../bridge';
import { ErrorBanner } from '../../components/ErrorBanner';
import type { UiError } from '../../errors';
import { AttachmentError, stageFile, unstage } from '../../lib/attachments';
import { formatSize } from '../../lib/base64';
import { call } from '../../lib/call';
import { getDraft, setDraft } from './drafts';

interface Attached {
  key: number;
  name: string;
  size: number;
  done: number;
  stageId: string | null;
  error: UiError | null;
  signal: { cancelled: boolean };
}

export interface ComposerHandle {
  addFiles(files: File[]): void;
  focus(): void;
}

export interface ComposerProps {
  /** The conversation's key (the peer's user id, or a group's id): drafts are kept under it. */
  peer: string;
  /** Who it goes to, as the placeholder says it (a name, or a group's names). */
  to: string;
  /** The user names it is sent to: one, or everyone in a group. */
  recipients: string[];
  onSent: () => void;
}

/** A pasted image has no useful name ("image.png"): give it one that says when. */
function pastedName(file: File): string {
  const ext = file.type.split('/')[1]?.replace(/[^a-z0-9]/gi, '') || 'png';
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  return `pasted-${stamp}.${ext}`;
}

export const Composer = forwardRef<ComposerHandle, ComposerProps>(function Composer({ peer, to, recipients, onSent }, ref) {
  const [text, setText] = useState(() => getDraft(peer));
  const [attached, setAttached] = useState<Attached[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<UiError | null>(null);
  const nextKey = useRef(1);
  const pending = useRef(new Map<number, Attached>());
  const input = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);

  // Staged files not sent are removed from the engine when the conversation closes.
  useEffect(() => {
    const staged = pending.current;
    return () => {
      for (const a of staged.values()) {
        a.signal.cancelled = true;
        if (a.stageId) void unstage(a.stageId);
      }
      staged.clear();
    };
  }, []);

  // Grow with the text up to a few lines, then scroll.
  useEffect(() => {
    const el = input.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 200)}px`;
  }, [text]);

  const update = (key: number, patch: Partial<Attached>) => {
    const current = pending.current.get(key);
    if (current) Object.assign(current, patch);
    setAttached((list) => list.map((x) => (x.key === key ? { ...x, ...patch } : x)));
  };

  function addFiles(files: File[]) {
    for (const file of files) {
      const a: Attached = { key: nextKey.current++, name: file.name, size: file.size, done: 0, stageId: null, error: null, signal: { cancelled: false } };
      pending.current.set(a.key, a);
      setAttached((list) => [...list, a]);
      void stageFile(file, (done) => update(a.key, { done }), a.signal)
        .then((stageId) => {
          if (a.signal.cancelled) return void unstage(stageId);
          update(a.key, { stageId, done: file.size });
        })
        .catch((e: unknown) => {
          if (a.signal.cancelled) return;
          update(a.key, { error: e instanceof AttachmentError ? e.ui : { text: `Could not read ${file.name}.`, details: `Failed (-1): ${e instanceof Error ? e.message : String(e)}` } });
        });
    }
  }

  useImperativeHandle(ref, () => ({ addFiles, focus: () => input.current?.focus() }));

  function remove(a: Attached) {
    const current = pending.current.get(a.key);
    if (current) {
      current.signal.cancelled = true;
      if (current.stageId) void unstage(current.stageId);
    }
    pending.current.delete(a.key);
    setAttached((list) => list.filter((x) => x.key !== a.key));
  }

  const uploading = attached.some((a) => !a.stageId && !a.error);
  const failed = attached.some((a) => a.error);
  const canSend = !busy && !uploading && !failed && (text.trim() !== '' || attached.length > 0);

  async function send(event?: FormEvent) {
    event?.preventDefault();
    if (!canSend) return;
    const stageIds = attached.flatMap((a) => (a.stageId ? [a.stageId] : []));
    const sending = text;
    // The box empties at once, as in any messenger; the text comes back if sealing fails.
    setBusy(true);
    setText('');
    setDraft(peer, '');
    const r = await call(sealpost.messages.send({ to: recipients, text: sending, ...(stageIds.length > 0 && { attachments: stageIds }) }));
    setBusy(false);
    if (!r.ok) {
      setText((now) => {
        const back = now || sending;
        setDraft(peer, back);
        return back;
      });
      return setError(r.error);
    }
    // Sealed: the engine removed the staged files.
    pending.current.clear();
    setAttached([]);
    setError(null);
    onSent();
    input.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    }
  }

  function onPaste(e: ClipboardEvent<HTMLTextAreaElement>) {
    const files = [...e.clipboardData.files].filter((f) => f.type.startsWith('image/'));
    if (files.length === 0) return;
    e.preventDefault();
    addFiles(files.map((f) => new File([f], pastedName(f), { type: f.type })));
  }

  return (
    <form className="composer" onSubmit={(e) => void send(e)} aria-label={`Message to ${to}`}>
      {attached.length > 0 && (
        <ul className="composer-files" aria-label="Attached files">
          {attached.map((a) => (
            <li key={a.key} className={`file-chip${a.error ? ' failed' : ''}`}>
              <FileIcon size={16} aria-hidden="true" />
              <span className="file-chip-name">
                <span className="truncate">{a.name}</span>
                <span className="attachment-meta">
                  {formatSize(a.size)} · <span data-testid="attach-state">{a.error ? 'Failed' : a.stageId ? 'Ready' : `${a.size === 0 ? 0 : Math.floor((a.done / a.size) * 100)}%`}</span>
                </span>
                {!a.stageId && !a.error && <progress aria-label={`Attaching ${a.name}`} max={Math.max(1, a.size)} value={a.done} />}
              </span>
              <button type="button" className="icon-btn" onClick={() => remove(a)} aria-label={`Remove ${a.name}`} title={a.stageId ? 'Remove' : 'Cancel'}>
                <X size={16} aria-hidden="true" />
              </button>
              {a.error && <ErrorBanner error={a.error} />}
            </li>
          ))}
        </ul>
      )}
      {error && <ErrorBanner error={error} />}
      <div className="composer-row">
        <button type="button" className="icon-btn" onClick={() => picker.current?.click()} aria-label="Attach files" title="Attach files">
          <Paperclip size={20} aria-hidden="true" />
        </button>
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          tabIndex={-1}
          aria-hidden="true"
          data-testid="attach-input"
          onChange={(e) => {
            const files = [...(e.target.files ?? [])];
            e.target.value = '';
            addFiles(files);
          }}
        />
        <textarea
          ref={input}
          className="composer-input"
          rows={1}
          value={text}
          placeholder={`Message ${to}`}
          aria-label={`Message to ${to}`}
          aria-describedby="composer-hint"
          onChange={(e) => {
            setText(e.target.value);
            setDraft(peer, e.target.value);
          }}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          maxLength={1_000_000}
        />
        <button type="submit" className="send-btn" disabled={!canSend} aria-label="Send" title="Send (Enter)">
          <SendHorizontal size={18} aria-hidden="true" />
        </button>
      </div>
      <p id="composer-hint" className="sr-only">
        Enter sends, Shift+Enter starts a new line. Sealed on this device and sent when the key service can be reached.
      </p>
    </form>
  );
});

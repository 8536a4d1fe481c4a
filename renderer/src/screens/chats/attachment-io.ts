/**
 * Opening a received (or sent) attachment in the page: its checked bytes are
 * read in chunks over attachments:read into memory, with progress and cancel,
 * and either offered as a download (Save in browser mode) or shown inline
 * through a `blob:` URL (images). Nothing is written to disk unless the user
 * saves it. Object URLs of previews are kept in a small cache and revoked when
 * it overflows or the keys lock.
 *
 * In Electron, Save goes through the desktop shell instead (saveWithDialog):
 * main shows the system's save dialog, writes the checked bytes where the user
 * chose and answers with an id for "Open folder"; the page never sees the
 * bytes or names a path.
 */
import { sealpost } from '../../bridge';
import { describeError, type RawFailure, type UiError } from '../../errors';
import { base64ToBytes } from '../../lib/base64';
import { desktop } from '../../lib/desktop';

export class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

export class OpenError extends Error {
  constructor(readonly ui: UiError) {
    super(ui.text);
  }
}

/** Image types the page may show inline (no SVG: it can carry script and links). */
const PREVIEWABLE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/bmp', 'image/avif']);
/** Larger images are not opened without a click. */
export const AUTO_PREVIEW_BYTES = 8 * 1024 * 1024;

export const isPreviewable = (contentType: string): boolean => PREVIEWABLE.has(contentType.toLowerCase());

async function sha256Hex(blob: Blob): Promise<string | null> {
  if (!globalThis.crypto?.subtle) return null;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Reads one attachment's checked bytes; `onProgress(bytes, size)` per chunk; stops with Cancelled when `signal` aborts. */
export async function openAttachment(
  messageId: number,
  attachment: { id: string; sha256: string },
  onProgress: (done: number, total: number) => void,
  signal: AbortSignal,
): Promise<{ name: string; blob: Blob }> {
  const parts: BlobPart[] = [];
  let offset = 0;
  for (;;) {
    if (signal.aborted) throw new Cancelled();
    let r;
    try {
      r = await sealpost.attachments.read({ messageId, attachmentId: attachment.id, offset });
    } catch (e) {
      throw new OpenError({ text: 'The Sealpost engine is not reachable.', details: `Failed (-1): ${e instanceof Error ? e.message : String(e)}` });
    }
    if (r.code !== 0) throw new OpenError(describeError(r));
    const chunk = r.value;
    const bytes = base64ToBytes(chunk.data);
    parts.push(bytes.slice().buffer);
    offset += bytes.length;
    onProgress(offset, chunk.size);
    if (chunk.done) {
      const blob = new Blob(parts, { type: chunk.contentType || 'application/octet-stream' });
      const sha = await sha256Hex(blob);
      if (offset !== chunk.size || (sha !== null && sha !== attachment.sha256) || chunk.sha256 !== attachment.sha256) {
        throw new OpenError({ text: 'This data was changed or damaged after it was sealed, or is not for this key.', details: 'Tampered (-420): the bytes do not match the message' });
      }
      return { name: chunk.name, blob };
    }
    if (bytes.length === 0) throw new OpenError({ text: 'Something went wrong. Your data is unchanged.', details: 'Failed (-1): empty chunk before the end' });
  }
}

const PREVIEW_CACHE = 24;
const previews = new Map<string, string>();

/** A cached preview URL for this attachment, if one is open. */
export function cachedPreview(attachmentId: string): string | null {
  const url = previews.get(attachmentId);
  if (!url) return null;
  previews.delete(attachmentId);
  previews.set(attachmentId, url);
  return url;
}

export function keepPreview(attachmentId: string, blob: Blob): string {
  const url = URL.createObjectURL(blob);
  previews.set(attachmentId, url);
  while (previews.size > PREVIEW_CACHE) {
    const [oldest, old] = previews.entries().next().value as [string, string];
    previews.delete(oldest);
    URL.revokeObjectURL(old);
  }
  return url;
}

/** Revokes every preview URL (the keys locked). */
export function dropPreviews(): void {
  for (const url of previews.values()) URL.revokeObjectURL(url);
  previews.clear();
}

/** Save goes through the system's save dialog and "Open folder" exists (Electron); else Save is a download. */
export const savesWithDialog = desktop !== null;

/** A failed desktop call in words: a file-system refusal names its reason (details.kind 'fs', electron/main/save-attachment.ts). */
function desktopError(r: RawFailure): OpenError {
  const ui = describeError(r);
  const reason = r.details?.kind === 'fs' && typeof r.details.reason === 'string' ? r.details.reason : null;
  return new OpenError(reason ? { ...ui, text: `The file could not be saved: ${reason}.`, hint: 'Save it again and choose another folder.' } : ui);
}

async function desktopCall<T>(pending: Promise<{ code: 0; value: T } | RawFailure> | undefined): Promise<T> {
  if (!pending) throw new OpenError({ text: 'Saving to a folder needs the desktop app.', details: 'InvalidState (-2): no desktop shell' });
  let r;
  try {
    r = await pending;
  } catch (e) {
    throw new OpenError({ text: 'The Sealpost app is not reachable.', details: `Failed (-1): ${e instanceof Error ? e.message : String(e)}` });
  }
  if (r.code !== 0) throw desktopError(r);
  return (r as { value: T }).value;
}

/**
 * Electron's Save: the system's dialog, then main writes the checked bytes there.
 * The saved file's id and name, or null when the user cancelled the dialog; throws OpenError.
 */
export async function saveWithDialog(messageId: number, attachment: { id: string; name: string }): Promise<{ saveId: string; name: string } | null> {
  const value = await desktopCall(desktop?.saveAttachment({ messageId, attachmentId: attachment.id, name: attachment.name }));
  return value.saved ? { saveId: value.saveId, name: value.name } : null;
}

/** "Open folder": the file manager with the saved file selected; throws OpenError (e.g. the file was moved). */
export async function showSavedFile(saveId: string): Promise<void> {
  await desktopCall(desktop?.showSaved({ saveId }));
}

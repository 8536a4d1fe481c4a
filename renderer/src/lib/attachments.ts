/**
 * Attachments through the contract, never by path: a picked File is read with
 * the File API slice by slice and uploaded to the engine's staging area
 * (attachments:stageBegin / stageChunk / stageEnd); saving reads the opened,
 * hash-checked attachment back in chunks (attachments:read), checks the
 * SHA-256 again here and offers the Blob as a download.
 */
import { ATTACHMENT_LIMITS } from '../../../shared/contract-messaging';
import type { Result } from '../../../shared/codes';
import { sealpost } from '../bridge';
import { describeError, type UiError } from '../errors';
import { base64ToBytes, bytesToBase64 } from './base64';

export class AttachmentError extends Error {
  constructor(readonly ui: UiError) {
    super(ui.text);
  }
}

async function value<T>(pending: Promise<Result<T>>): Promise<T> {
  let r: Result<T>;
  try {
    r = await pending;
  } catch (e) {
    throw new AttachmentError({ text: 'The Sealpost engine is not reachable.', details: `Failed (-1): ${e instanceof Error ? e.message : String(e)}` });
  }
  if (r.code !== 0) throw new AttachmentError(describeError(r));
  return r.value;
}

const MEDIA_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i;

/** Stages one file; `onProgress(bytesAcknowledged, size)` after each chunk the engine wrote. */
export async function stageFile(file: File, onProgress: (done: number, total: number) => void, signal: { cancelled: boolean }): Promise<string> {
  if (file.size > ATTACHMENT_LIMITS.maxFileBytes) {
    throw new AttachmentError({ text: `${file.name} is too large to attach here (at most ${ATTACHMENT_LIMITS.maxFileBytes / 1024 / 1024} MiB).`, details: 'InvalidParameter (-29): file size' });
  }
  const { stageId, chunkBytes } = await value(
    sealpost.attachments.stageBegin({ name: file.name, size: file.size, ...(MEDIA_TYPE.test(file.type) && { contentType: file.type }) }),
  );
  try {
    let offset = 0;
    for (let index = 0; offset < file.size; index++) {
      if (signal.cancelled) throw new AttachmentError({ text: 'Attachment removed.', details: 'cancelled' });
      const bytes = new Uint8Array(await file.slice(offset, offset + chunkBytes).arrayBuffer());
      const ack = await value(sealpost.attachments.stageChunk({ stageId, index, data: bytesToBase64(bytes) }));
      offset = ack.received;
      onProgress(ack.received, ack.size);
    }
    await value(sealpost.attachments.stageEnd({ stageId }));
    onProgress(file.size, file.size);
    return stageId;
  } catch (e) {
    await sealpost.attachments.stageCancel({ stageId }).catch(() => undefined);
    throw e;
  }
}

export async function unstage(stageId: string): Promise<void> {
  await sealpost.attachments.stageCancel({ stageId }).catch(() => undefined);
}

async function sha256Hex(blob: Blob): Promise<string | null> {
  if (!globalThis.crypto?.subtle) return null;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Reads an attachment's checked bytes; `onProgress(bytes, size)` per chunk. */
export async function readAttachment(messageId: number, attachmentId: string, expectedSha256: string, onProgress: (done: number, total: number) => void): Promise<{ name: string; blob: Blob }> {
  const parts: BlobPart[] = [];
  let offset = 0;
  for (;;) {
    const chunk = await value(sealpost.attachments.read({ messageId, attachmentId, offset }));
    const bytes = base64ToBytes(chunk.data);
    parts.push(bytes.slice().buffer);
    offset += bytes.length;
    onProgress(offset, chunk.size);
    if (chunk.done) {
      const blob = new Blob(parts, { type: chunk.contentType || 'application/octet-stream' });
      const sha = await sha256Hex(blob);
      if (offset !== chunk.size || (sha !== null && sha !== expectedSha256) || chunk.sha256 !== expectedSha256) {
        throw new AttachmentError({ text: 'This data was changed or damaged after it was sealed, or is not for this key.', details: 'Tampered (-420): the saved bytes do not match the message' });
      }
      return { name: chunk.name, blob };
    }
    if (bytes.length === 0) throw new AttachmentError({ text: 'Something went wrong. Your data is unchanged.', details: 'Failed (-1): empty chunk before the end' });
  }
}

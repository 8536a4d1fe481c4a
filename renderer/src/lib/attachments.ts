/**
 * Attachments through the contract, never by path: a picked File is read with
 * the File API slice by slice and uploaded to the engine's staging area
 * (attachments:stageBegin / stageChunk / stageEnd). Reading an attachment back
 * (save, inline preview) is screens/chats/attachment-io.ts.
 */
import { ATTACHMENT_LIMITS } from '../../../shared/contract-messaging';
import type { Result } from '../../../shared/codes';
import { sealpost } from '../bridge';
import { describeError, type UiError } from '../errors';
import { bytesToBase64 } from './base64';

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

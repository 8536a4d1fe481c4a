/**
 * A message's attachments, opened and checked: the UI's attachments:* handlers
 * (staged uploads and chunked reads, through attachments.ts) and the CLI's
 * saveAttachments, which streams them into a folder. Paths only ever come from
 * the CLI, never from the renderer.
 * @module
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ResultCode } from '../../../shared/codes.js';
import type { Handlers } from '../../../shared/contract.js';
import { openFile, type ProgressCallback } from '../crypto/file-envelope.js';
import { getMessage } from '../vault/messages.js';
import { getMessageInfo } from '../vault/sync-store.js';
import { sealedPath } from '../sync/attachments.js';
import type { Attachments, AttachmentToOpen } from './attachments.js';
import { receiptsEnabled } from './read-receipts.js';
import { messageValue } from './message-value.js';
import { withMessageKey } from './message-key.js';
import type { MessagingContext } from './messaging-context.js';
import { run } from './messaging-results.js';
import { ServiceError } from './results.js';
import { withOwnKey } from './own-keys.js';

type AttachmentChannels = 'attachments:stageBegin' | 'attachments:stageChunk' | 'attachments:stageEnd' | 'attachments:stageCancel' | 'attachments:read';

export class MessageAttachments {
  constructor(
    private readonly c: MessagingContext,
    private readonly attachments: Attachments,
  ) {}

  /** The attachment a UI read asks for, checked like saveAttachments does. */
  private toOpen(messageId: number, attachmentId: string): AttachmentToOpen {
    const m = getMessage(this.c.db, messageId);
    if (!m) throw new ServiceError(ResultCode.NotFound, `No message ${messageId}.`);
    const value = withMessageKey(this.c.unlocked(), (key) => messageValue(this.c.db, m, key, { showRead: receiptsEnabled(this.c) }));
    if (value.sender === 'rejected') throw new ServiceError(ResultCode.Tampered, `Message ${messageId} was rejected (${value.reason ?? 'unreadable'}): its attachments are not opened.`);
    const a = value.attachments.find((x) => x.id === attachmentId);
    if (!a) throw new ServiceError(ResultCode.NotFound, `Message ${messageId} has no such attachment.`);
    if (a.state !== 'complete') throw new ServiceError(ResultCode.InvalidState, `Attachment ${a.name} is ${a.state}: sync again first.`);
    const info = getMessageInfo(this.c.db, messageId);
    const expected = m.direction === 'out' ? this.c.identity().fingerprint : (info?.senderFingerprint ?? undefined);
    return { id: a.id, name: a.name, contentType: a.contentType, size: a.size, sha256: a.sha256, expectedSender: expected };
  }

  /** Streams a message's attachments, opened and checked, into `dir`. */
  async save(id: number, dir: string, onProgress?: ProgressCallback): Promise<{ saved: { name: string; path: string; bytes: number; sha256: string }[] }> {
    const keys = this.c.unlocked();
    const m = getMessage(this.c.db, id);
    if (!m) throw new ServiceError(ResultCode.NotFound, `No message ${id}.`);
    const value = withMessageKey(this.c.unlocked(), (key) => messageValue(this.c.db, m, key, { showRead: receiptsEnabled(this.c) }));
    if (value.sender === 'rejected') throw new ServiceError(ResultCode.Tampered, `Message ${id} was rejected (${value.reason ?? 'unreadable'}): its attachments are not opened.`);
    const info = getMessageInfo(this.c.db, id);
    const saved = [];
    for (const a of value.attachments) {
      if (a.state !== 'complete') throw new ServiceError(ResultCode.InvalidState, `Attachment ${a.name} is ${a.state}: sync again first.`);
      const name = path.basename(a.name);
      if (name === '.' || name === '..' || name !== a.name) throw new ServiceError(ResultCode.InvalidParameter, 'An attachment has an unsafe file name.');
      const out = path.join(dir, name);
      if (existsSync(out)) throw new ServiceError(ResultCode.Conflict, `${out} exists already.`);
      const expected = m.direction === 'out' ? this.c.identity().fingerprint : info?.senderFingerprint;
      const opened = await withOwnKey(keys, (k) => openFile(sealedPath(this.c.profileDir, a.id), out, {
        privateKey: k.rsaPrivateKey,
        keyId: k.keyId,
        ...(expected && { expectedSender: { fingerprint: expected } }),
        ...(onProgress && { onProgress }),
      }));
      if (opened.sha256 !== a.sha256) throw new ServiceError(ResultCode.Tampered, `Attachment ${a.name} does not match its message.`);
      saved.push({ name, path: out, bytes: opened.bytes, sha256: opened.sha256 });
    }
    await this.c.record('message.open', String(id), 'ok', { attachments: saved.length });
    return { saved };
  }

  handlers(): Pick<Handlers, AttachmentChannels> {
    return {
      'attachments:stageBegin': (input) => run(() => this.attachments.stageBegin({ name: input.name, size: input.size, ...(input.contentType && { contentType: input.contentType }) })),
      'attachments:stageChunk': (input) => run(() => this.attachments.stageChunk(input)),
      'attachments:stageEnd': (input) => run(() => this.attachments.stageEnd(input)),
      'attachments:stageCancel': (input) => run(() => this.attachments.stageCancel(input)),
      'attachments:read': (input) =>
        run(async () => {
          let first = false;
          const value = await this.attachments.read(input, () => {
            first = true;
            return this.toOpen(input.messageId, input.attachmentId);
          });
          if (first) await this.c.record('message.open', String(input.messageId), 'ok', { attachments: 1, bytes: value.size });
          return value;
        }),
    };
  }
}

/**
 * Compose: seal once for every recipient's keys and our own (so we can read our
 * sent copy), seal attachments as streamed file envelopes on disk, and queue one
 * outbox entry per recipient, all in one transaction. Works offline: only
 * contacts already looked up can be written to (their keys are local).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { sealEnvelope, wireDigest } from '../crypto/envelope.js';
import { sealFile, type ProgressCallback } from '../crypto/file-envelope.js';
import type { Db } from '../vault/_sql.js';
import type { Contact } from '../vault/contacts.js';
import { queueOutgoingMessage } from '../vault/outbox.js';
import { listContactKeys, putAttachment, putMessageInfo } from '../vault/sync-store.js';
import { setSentDigest } from '../vault/receipts.js';
import { setThread, threadOf } from '../vault/threads.js';
import { isGroupId } from '../../../shared/conversation-id.js';
import { newClientId } from './client-id.js';
import { ensureAttachmentsDir, hashFile, PART_SIZE, sealedPath } from './attachments.js';
import type { Registration } from './connection.js';
import { type AttachmentRef, cacheKey, MESSAGE_CONTENT_TYPE, type MessageContent, sealCache } from './content.js';
import type { UnlockedKeys } from '../service/unlocked-keys.js';
import { SyncError } from './errors.js';

export interface OutboxPayload {
  attachments: { id: string; parts: number; partSize: number }[];
}

export interface ComposeInput {
  to: Contact[];
  subject?: string;
  text: string;
  files: { path: string; name?: string; contentType?: string }[];
  onProgress?: ProgressCallback;
}

export interface ComposeDeps {
  db: Db;
  profileDir: string;
  now: number;
  keys: UnlockedKeys;
  ownPublicPem: string;
  registration: Registration;
}

/** @throws {SyncError} 'rejected' (a recipient without an inbox); CryptoError; fs errors for files */
export async function composeMessage(d: ComposeDeps, input: ComposeInput): Promise<{ messageIds: number[]; clientIds: string[] }> {
  const recipientPems: string[] = [];
  for (const c of input.to) {
    const keys = listContactKeys(d.db, c.userId).filter((k) => k.inbox !== null);
    if (keys.length === 0) throw new SyncError('rejected', `${c.username} has no inbox on the key service yet.`);
    recipientPems.push(...keys.map((k) => k.publicPem));
  }
  const norm = (p: string) => p.replace(/\s+/g, '');
  const all = [...new Map([...recipientPems, d.ownPublicPem].map((p) => [norm(p), p])).values()];

  await ensureAttachmentsDir(d.profileDir);
  const attachments: AttachmentRef[] = [];
  try {
    let done = 0;
    for (const f of input.files) {
      const id = randomBytes(16).toString('hex');
      const name = f.name ?? path.basename(f.path);
      const out = sealedPath(d.profileDir, id);
      const info = await sealFile(f.path, out, {
        sender: d.keys.sender,
        recipients: all,
        fileName: name,
        sentAt: d.now,
        ...(f.contentType && { contentType: f.contentType }),
        ...(input.onProgress && { onProgress: (n: number, total: number) => input.onProgress!(done + n, total) }),
      });
      done += info.bytes;
      const sealed = await hashFile(out);
      attachments.push({
        id,
        name,
        contentType: f.contentType ?? 'application/octet-stream',
        size: info.bytes,
        sha256: info.sha256,
        sealedSize: sealed.size,
        sealedSha256: sealed.sha256,
        parts: Math.max(1, Math.ceil(sealed.size / PART_SIZE)),
        partSize: PART_SIZE,
      });
    }
  } catch (e) {
    await Promise.all(attachments.map((a) => rm(sealedPath(d.profileDir, a.id), { force: true })));
    throw e;
  }

  const content: MessageContent = {
    v: 1,
    from: { username: d.registration.username, userid: d.registration.userId },
    to: input.to.map((c) => ({ username: c.username, userid: c.userId })),
    ...(input.subject !== undefined && input.subject !== '' && { subject: input.subject }),
    text: input.text,
    attachments,
  };
  const envelope = sealEnvelope({ body: JSON.stringify(content), contentType: MESSAGE_CONTENT_TYPE, sender: d.keys.sender, recipients: all, sentAt: d.now });
  const digest = wireDigest(envelope);
  const key = cacheKey(d.keys.seed);
  try {
    const cache = sealCache(key, content);
    const payload: OutboxPayload = { attachments: attachments.map((a) => ({ id: a.id, parts: a.parts, partSize: a.partSize })) };
    const payloadBytes = new TextEncoder().encode(JSON.stringify(payload));
    const { thread, members } = threadOf(d.registration.userId, content);
    return d.db.transaction(() => {
      const messageIds: number[] = [];
      const clientIds: string[] = [];
      for (const c of input.to) {
        const clientId = newClientId(d.now);
        const { messageId } = queueOutgoingMessage(d.db, { clientId, peer: c.userId, envelope, payload: payloadBytes, now: d.now });
        putMessageInfo(d.db, { messageId, sender: 'self', cache, sentAt: d.now, attachments: attachments.length });
        setSentDigest(d.db, messageId, digest);
        // One row per recipient; a group conversation shows the first (the others point at it).
        setThread(d.db, messageId, isGroupId(thread) ? thread : c.userId, members, isGroupId(thread) && messageIds.length > 0 ? messageIds[0]! : null);
        messageIds.push(messageId);
        clientIds.push(clientId);
      }
      for (const a of attachments) {
        putAttachment(d.db, { id: a.id, messageId: messageIds[0]!, direction: 'out', sealedSize: a.sealedSize, sealedHash: a.sealedSha256, parts: a.parts, partSize: a.partSize, state: 'complete', createdAt: d.now });
      }
      return { messageIds, clientIds };
    })();
  } finally {
    key.fill(0);
  }
}

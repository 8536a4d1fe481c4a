/**
 * Read sync (docs/sync.md "Read on our other devices", docs/format.md §9.2):
 * what we read on one device shows as read on our others. Our devices share the
 * identity and the inbox, so the reading device seals a message to our own key,
 * signed with our identity key like any message, naming the envelope digests of
 * the incoming messages it marked read, and sends it to our own inbox. Every
 * device pulling that inbox (the sender too: a no-op there) marks its copies
 * read. It is sent whether read receipts are on or off: it goes only to us.
 * @module
 */
import { envelopeRecipients, type OpenedEnvelope, sealEnvelope, toWire } from '../crypto/envelope.js';
import { publicKeyFromPrivate } from '../crypto/rsa.js';
import type { UnlockedKeys } from '../service/unlocked-keys.js';
import type { OutboxEntry } from '../vault/outbox.js';
import { enqueue } from '../vault/outbox.js';
import { MAX_RECEIPT_DIGESTS } from '../vault/receipts.js';
import { newClientId } from './client-id.js';
import type { Connection } from './connection.js';
import { parseReceipt, ReceiptContent, type ReceiptDeps } from './receipts.js';
import { SyncError } from './errors.js';

export const READ_SYNC_CONTENT_TYPE = 'application/vnd.sealpost.read-sync+json';
/** The outbox kind of a read sync: its payload is the sealed envelope (no message row; not "waiting to send"). */
export const READ_SYNC_KIND = 'read-sync';

/**
 * A read sync has a read receipt's shape (docs/format.md §9.2) under its own
 * content type: `from` is our own account, `read` our incoming messages.
 */
export const ReadSyncContent = ReceiptContent;
export type ReadSyncContent = ReceiptContent;
export type ReadSyncDeps = ReceiptDeps;

/**
 * Queues read syncs for the digests of messages just marked read (cut at
 * MAX_RECEIPT_DIGESTS each), sealed to our own current key. Call inside the
 * transaction that marks them, so both happen or neither. Returns how many
 * were queued.
 */
export function queueReadSync(d: ReadSyncDeps, digests: readonly string[]): number {
  const unique = [...new Set(digests)];
  const own = publicKeyFromPrivate(d.keys.rsaPrivateKey);
  let queued = 0;
  for (let i = 0; i < unique.length; i += MAX_RECEIPT_DIGESTS) {
    const content: ReadSyncContent = { v: 1, from: { username: d.registration.username, userid: d.registration.userId }, read: unique.slice(i, i + MAX_RECEIPT_DIGESTS) };
    const envelope = sealEnvelope({ body: JSON.stringify(content), contentType: READ_SYNC_CONTENT_TYPE, sender: d.keys.sender, recipients: [own], sentAt: d.now });
    enqueue(d.db, { clientId: newClientId(d.now), kind: READ_SYNC_KIND, recipient: d.registration.userId, payload: envelope, now: d.now });
    queued++;
  }
  return queued;
}

/**
 * Sends a queued read sync to our own inbox, with the entry's client id (a retry
 * is deduped by the key service). One written for another account (the profile
 * registered again under another name since) is refused, not sent.
 * @throws {SyncError}
 */
export async function sendReadSync(conn: Connection, entry: OutboxEntry): Promise<void> {
  if (entry.recipient !== conn.registration.userId) throw new SyncError('rejected', 'This read sync was written for another account: it is not sent.');
  const [keyId] = envelopeRecipients(entry.payload);
  if (keyId === undefined) throw new SyncError('rejected', 'This read sync is sealed to no key: it is not sent.');
  const { token } = await conn.inbox();
  const wire = toWire(entry.payload, keyId);
  await conn.call((auth) => conn.client.send(auth, token, { ...wire, clientId: entry.clientId }));
}

export type ReadSyncVerdict = { ok: true; read: string[] } | { ok: false; reason: string; peer: string };

/**
 * Checks an opened read sync: it must name our own account (`self`, our user id)
 * and be signed with our identity key, the one every device of the account holds.
 * One that names us but is signed by anyone else is a forgery ('sender-mismatch',
 * filed under our own account); one that names another account is not ours to apply.
 */
export function judgeReadSync(opened: OpenedEnvelope, keys: UnlockedKeys, self: string | null): ReadSyncVerdict {
  const content = parseReceipt(opened.body);
  if (!content) return { ok: false, reason: 'invalid-content', peer: 'unknown' };
  if (self === null || content.from.userid !== self) return { ok: false, reason: 'invalid-content', peer: 'unknown' };
  if (!Buffer.from(opened.senderPublicKey).equals(Buffer.from(keys.sender.publicKey))) return { ok: false, reason: 'sender-mismatch', peer: self };
  return { ok: true, read: content.read };
}

/**
 * Read receipts (docs/sync.md "Read receipts", docs/format.md §Read receipt):
 * when we read someone's messages, their devices learn it from a message of
 * ours, sealed to their keys and signed like any other, never from a flag the
 * key service could set or see. It names the messages by their envelope digest
 * (vault/receipts.ts) and travels through the durable outbox (kind 'receipt'),
 * so one written offline is sent when the service answers again.
 * @module
 */
import { z } from 'zod';
import { sealEnvelope } from '../crypto/envelope.js';
import type { Db } from '../vault/_sql.js';
import { enqueue } from '../vault/outbox.js';
import { MAX_RECEIPT_DIGESTS, type ReadTarget } from '../vault/receipts.js';
import { listContactKeys } from '../vault/sync-store.js';
import type { UnlockedKeys } from '../service/unlocked-keys.js';
import { newClientId } from './client-id.js';
import type { Registration } from './connection.js';
import { parseJsonBody, Party } from './content.js';

export const RECEIPT_CONTENT_TYPE = 'application/vnd.sealpost.receipt+json';
/** The outbox kind of a receipt: its payload is the sealed envelope itself (no message row). */
export const RECEIPT_KIND = 'receipt';

export const ReceiptContent = z
  .object({
    v: z.literal(1),
    /** Who read (the signer must be this account, checked as a message's sender is). */
    from: Party,
    /** The messages read: SHA-256 of each sealed envelope as it travelled. The read time is the envelope's signed time. */
    read: z.array(z.string().regex(/^[0-9a-f]{64}$/)).min(1).max(MAX_RECEIPT_DIGESTS),
  })
  .strict();
export type ReceiptContent = z.infer<typeof ReceiptContent>;

/** Parses an opened receipt body. @returns null when it is not one */
export const parseReceipt = (body: Uint8Array): ReceiptContent | null => parseJsonBody(ReceiptContent, body);

export interface ReceiptDeps {
  db: Db;
  keys: UnlockedKeys;
  registration: Registration;
  now: number;
}

/**
 * Queues receipts for messages just read: one per sender (cut at
 * MAX_RECEIPT_DIGESTS), sealed to the sender's keys we hold. A sender with no
 * inbox key here gets none (nothing to seal to). Call inside the transaction
 * that marks the messages read, so both happen or neither. Returns how many
 * receipts were queued.
 */
export function queueReadReceipts(d: ReceiptDeps, targets: readonly ReadTarget[]): number {
  const bySender = new Map<string, string[]>();
  for (const t of targets) {
    if (t.peer === d.registration.userId) continue;
    bySender.set(t.peer, [...(bySender.get(t.peer) ?? []), t.digest]);
  }
  let queued = 0;
  for (const [sender, digests] of bySender) {
    const pems = listContactKeys(d.db, sender).flatMap((k) => (k.inbox !== null ? [k.publicPem] : []));
    if (pems.length === 0) continue;
    for (let i = 0; i < digests.length; i += MAX_RECEIPT_DIGESTS) {
      const content: ReceiptContent = {
        v: 1,
        from: { username: d.registration.username, userid: d.registration.userId },
        read: [...new Set(digests.slice(i, i + MAX_RECEIPT_DIGESTS))],
      };
      const envelope = sealEnvelope({ body: JSON.stringify(content), contentType: RECEIPT_CONTENT_TYPE, sender: d.keys.sender, recipients: pems, sentAt: d.now });
      enqueue(d.db, { clientId: newClientId(d.now), kind: RECEIPT_KIND, recipient: sender, payload: envelope, now: d.now });
      queued++;
    }
  }
  return queued;
}

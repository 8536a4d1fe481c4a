/**
 * Outbox flush (docs/api.md step 3, design §5). Claims due entries (durably
 * marked 'sending'), and for each recipient inbox sends the attachment parts,
 * then the message, each with a client id derived from the entry's, so a retry
 * after any failure or crash is deduped by the key service (same bytes, same
 * MessageId). Steps acknowledged per inbox are remembered (outbox_progress), so
 * a retry resumes instead of re-uploading a 100 MiB attachment.
 *
 * Transient failures (network, 5xx, 429) go back to 'pending' with backoff and
 * full jitter; the key service refusing a request marks the entry 'failed'
 * with the reason, until "retry" by hand. When the service is unreachable the
 * flush stops at once and returns the rest of its claim to 'pending'.
 * @module
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { toBase64 } from '../crypto/_bytes.js';
import { envelopeRecipients, toWire } from '../crypto/envelope.js';
import { isCryptoError } from '../crypto/errors.js';
import type { Db } from '../vault/_sql.js';
import { getMessageByClientId } from '../vault/messages.js';
import { claimDue, dropEntry, markFailed, markRetry, markSent, type OutboxEntry } from '../vault/outbox.js';
import { getProgress, listContactKeys, putSentReceipt, type SentReceipt, setProgress } from '../vault/sync-store.js';
import { readPart, sealedPath } from './attachments.js';
import { type BackoffPolicy, DEFAULT_BACKOFF, retryDelay } from './backoff.js';
import type { Connection } from './connection.js';
import { SyncError } from './errors.js';
import { READ_SYNC_KIND, sendReadSync } from './read-sync.js';
import { RECEIPT_KIND } from './receipts.js';

const Payload = z.object({
  attachments: z.array(z.object({ id: z.string().regex(/^[0-9a-f]{32}$/), parts: z.number().int().positive(), partSize: z.number().int().positive() })),
});

/** Acknowledged entries recorded as sent per durable commit. */
const SENT_GROUP = 64;

export interface FlushDeps {
  db: Db;
  conn: Connection;
  profileDir: string;
  now: () => number;
  backoff?: BackoffPolicy;
  /** Requests in flight at once (default 8). */
  concurrency?: number;
  onProgress?: (e: { phase: 'send'; sent: number; failed: number; total: number }) => void;
  /** Read receipts may go out (default yes); when not, a queued one is dropped unsent (turned off, or forced off by policy, after it was written). */
  receiptsOn?: () => boolean;
}

export interface FlushReport {
  sent: number;
  /** Read receipts sent (receipts.ts); not counted in `sent`. */
  receipts: number;
  /** Read syncs sent to our own inbox (read-sync.ts); not counted in `sent`. */
  readSyncs: number;
  failed: number;
  retrying: number;
  /** The first transient error, when the flush stopped on one (offline, 5xx). */
  error?: SyncError;
}

/**
 * Whether the account has another device that may act for it, asked of the key
 * service at most once per flush and only when a read sync is due.
 */
function otherDevicesOnce(conn: Connection): () => Promise<boolean> {
  let answer: Promise<boolean> | undefined;
  return () => {
    // A failed question is asked again by the next entry; this one's error goes to its retry.
    answer ??= conn
      .call((auth) => conn.client.listDevices(auth))
      .then((devices) => devices.some((x) => !x.current && x.revokedAt === null))
      .catch((e: unknown) => {
        answer = undefined;
        throw e;
      });
    return answer;
  };
}

/** A short, stable reference to an inbox token (never store or log the token itself where a reference does). */
export const inboxRef = (token: string): string => createHash('sha256').update(token).digest('hex').slice(0, 16);

export async function flushOutbox(d: FlushDeps): Promise<FlushReport> {
  const report: FlushReport = { sent: 0, receipts: 0, readSyncs: 0, failed: 0, retrying: 0 };
  const policy = d.backoff ?? DEFAULT_BACKOFF;
  const ownDevices = otherDevicesOnce(d.conn);
  let total = 0;
  for (;;) {
    if (report.error) break;
    const batch = claimDue(d.db, d.now(), 200);
    if (batch.length === 0) break;
    total += batch.length;
    let next = 0;
    // Acknowledged entries are recorded as sent in groups (one durable commit per group
    // instead of one per entry). A crash before a group commits leaves its entries
    // 'sending' -> 'pending': they are sent again with the same client ids and the key
    // service answers the first MessageId, storing nothing twice.
    let acked: Array<{ clientId: string; kind: string; receipt: SentReceipt | null }> = [];
    const recordSent = (): void => {
      if (acked.length === 0) return;
      const group = acked;
      acked = [];
      const at = d.now();
      d.db.transaction(() => {
        for (const { clientId, kind, receipt } of group) {
          // A read receipt's or read sync's entry goes once sent (no row shows it); a message's stays 'sent'.
          if (kind === RECEIPT_KIND || kind === READ_SYNC_KIND) dropEntry(d.db, clientId);
          else markSent(d.db, clientId, { serverId: null, now: at });
          if (receipt) putSentReceipt(d.db, receipt);
        }
      })();
    };
    const worker = async (): Promise<void> => {
      while (next < batch.length) {
        const entry = batch[next++]!;
        if (report.error) {
          // Stopped on an outage: the rest of the claim goes back, due when the service is expected back.
          markRetry(d.db, entry.clientId, { error: report.error.message, nextAttemptAt: d.now() + retryDelay(entry.attempts, report.error.extra.retryAfterMs, policy) });
          report.retrying++;
          continue;
        }
        if (entry.kind === RECEIPT_KIND && d.receiptsOn && !d.receiptsOn()) {
          dropEntry(d.db, entry.clientId);
          continue;
        }
        try {
          // With no other device of ours to tell, a read sync is not sent: it would only tell the key service when we read.
          if (entry.kind === READ_SYNC_KIND && !(await ownDevices())) {
            dropEntry(d.db, entry.clientId);
            continue;
          }
          const receipt = entry.kind === RECEIPT_KIND ? await sendReadReceipt(d, entry) : entry.kind === READ_SYNC_KIND ? await sendReadSync(d.conn, entry).then(() => null) : await sendEntry(d, entry);
          acked.push({ clientId: entry.clientId, kind: entry.kind, receipt });
          if (acked.length >= SENT_GROUP) recordSent();
          if (entry.kind === RECEIPT_KIND) report.receipts++;
          else if (entry.kind === READ_SYNC_KIND) report.readSyncs++;
          else report.sent++;
        } catch (e) {
          if (e instanceof SyncError && e.transient) {
            report.error ??= e;
            markRetry(d.db, entry.clientId, { error: e.message, nextAttemptAt: d.now() + retryDelay(entry.attempts, e.extra.retryAfterMs, policy) });
            report.retrying++;
          } else {
            markFailed(d.db, entry.clientId, { error: failureReason(e) });
            report.failed++;
          }
        }
        d.onProgress?.({ phase: 'send', sent: report.sent, failed: report.failed, total });
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.max(1, Math.min(d.concurrency ?? 8, batch.length)) }, worker));
    } finally {
      recordSent();
    }
  }
  return report;
}

function failureReason(e: unknown): string {
  if (e instanceof SyncError) return e.message;
  if (isCryptoError(e)) return `The message cannot be sent as sealed (${e.kind}): ${e.message}`;
  return `Sending failed (${e instanceof Error ? e.name : 'error'}).`;
}

/**
 * Sends a read receipt (its payload is the sealed envelope) to each inbox of
 * the person whose messages we read that it is sealed for. No delivery
 * receipt is kept for it.
 */
async function sendReadReceipt(d: FlushDeps, entry: OutboxEntry): Promise<null> {
  const sealedFor = new Set(envelopeRecipients(entry.payload));
  const keys = listContactKeys(d.db, entry.recipient).filter((k) => k.inbox !== null && sealedFor.has(k.keyId));
  if (keys.length === 0) throw new SyncError('rejected', 'The keys of the person this read receipt is for changed since it was written: it is not sent.');
  for (const k of keys) {
    const wire = toWire(entry.payload, k.keyId);
    await d.conn.call((auth) => d.conn.client.send(auth, k.inbox!, { ...wire, clientId: entry.clientId }));
  }
  return null;
}

/** Sends one entry; the receipt (inbox, MessageId) of its last inbox, recorded with the entry's 'sent'. */
async function sendEntry(d: FlushDeps, entry: OutboxEntry): Promise<SentReceipt> {
  if (entry.kind !== 'message') throw new SyncError('rejected', `Unknown outbox entry kind ${entry.kind}.`);
  const message = getMessageByClientId(d.db, entry.clientId);
  if (!message) throw new SyncError('rejected', 'The message of this outbox entry is gone.');
  let payload: z.infer<typeof Payload>;
  try {
    payload = Payload.parse(JSON.parse(new TextDecoder().decode(entry.payload)));
  } catch {
    throw new SyncError('rejected', 'The outbox entry is unreadable.');
  }
  const sealedFor = new Set(envelopeRecipients(message.envelope));
  const keys = listContactKeys(d.db, entry.recipient).filter((k) => k.inbox !== null && sealedFor.has(k.keyId));
  if (keys.length === 0) {
    throw new SyncError('rejected', "The recipient's keys changed since this message was written (or they have no inbox): write it again to their new key.");
  }
  const parts = payload.attachments.flatMap((a) => Array.from({ length: a.parts }, (_, i) => ({ a, i })));
  let last: SentReceipt | null = null;
  for (const [n, k] of keys.entries()) {
    const inbox = k.inbox!;
    const ref = inboxRef(inbox);
    let done = getProgress(d.db, entry.clientId, ref);
    const wire = toWire(message.envelope, k.keyId);
    for (; done <= parts.length; done++) {
      const result = await d.conn.call(async (auth) => {
        if (done < parts.length) {
          const { a, i } = parts[done]!;
          const bytes = await readPart(sealedPath(d.profileDir, a.id), a.id, i, a.parts, a.partSize);
          return d.conn.client.send(auth, inbox, { encryptedmessage: toBase64(bytes), encryptionkey: Buffer.from(a.id, 'hex').toString('base64'), clientId: `${entry.clientId}.${a.id.slice(0, 8)}.${i}`, isFile: true });
        }
        return d.conn.client.send(auth, inbox, { ...wire, clientId: entry.clientId });
      });
      if (result.MessageIds.length === 0) throw new SyncError('bad-response', 'The key service stored nothing.');
      // The last step of the last inbox is recorded by marking the entry sent (deduped if repeated);
      // the message's MessageId in each inbox is kept to ask for its delivery (delivery.ts).
      const receipt: SentReceipt | null = done === parts.length ? { clientId: entry.clientId, inbox, remoteId: result.MessageId } : null;
      if (receipt && n === keys.length - 1) last = receipt;
      else if (receipt) {
        d.db.transaction(() => {
          setProgress(d.db, entry.clientId, ref, done + 1);
          putSentReceipt(d.db, receipt);
        })();
      } else setProgress(d.db, entry.clientId, ref, done + 1);
    }
  }
  if (!last) throw new SyncError('bad-response', 'The message was not sent to the last inbox.');
  return last;
}

/**
 * Read receipts in the vault (vault/receipts.ts) and the receipt's content
 * (sync/receipts.ts): only the copy sent to the reader is marked, once, at a
 * time kept between the message's own time and now; what is not a receipt
 * does not parse.
 */
import { describe, expect, it } from 'vitest';
import * as v from '../../../electron/engine/vault/index.js';
import { backfillSentDigests, hasUndigested, markReadBy, receiptTargets, setSentDigest } from '../../../electron/engine/vault/receipts.js';
import { putMessageInfo } from '../../../electron/engine/vault/sync-store.js';
import { parseReceipt } from '../../../electron/engine/sync/receipts.js';
import { bytes, eachTestDb } from './helpers.js';

const db = eachTestDb();

const D1 = 'a'.repeat(64);
const D2 = 'b'.repeat(64);
const readAt = (id: number) => (db().prepare('SELECT read_at FROM message_info WHERE message_id = ?').get(id) as { read_at: number | null }).read_at;

function sent(clientId: string, peer: string, digest: string | null, now = 1000): number {
  const { messageId } = v.queueOutgoingMessage(db(), { clientId, peer, envelope: bytes(1, 2, 3), payload: bytes(0), now });
  putMessageInfo(db(), { messageId, sender: 'self', sentAt: now });
  if (digest) setSentDigest(db(), messageId, digest);
  return messageId;
}

describe('markReadBy', () => {
  it('marks only the copy sent to the reader, once, at a time between the message and now', () => {
    const toBob = sent('c-1', 'bob', D1);
    const toCarol = sent('c-2', 'carol', D1); // the same send to carol: her copy is hers to mark
    expect(markReadBy(db(), { reader: 'bob', digests: [D1, D1, D2], at: 5000, now: 9000 })).toEqual([toBob]);
    expect(readAt(toBob)).toBe(5000);
    expect(readAt(toCarol)).toBeNull();
    // Again (a replay): nothing changes, the first time stays.
    expect(markReadBy(db(), { reader: 'bob', digests: [D1], at: 6000, now: 9000 })).toEqual([]);
    expect(readAt(toBob)).toBe(5000);
    // A time before the message or after now is kept within them.
    expect(markReadBy(db(), { reader: 'carol', digests: [D1], at: 1, now: 9000 })).toEqual([toCarol]);
    expect(readAt(toCarol)).toBe(1000);
    const late = sent('c-3', 'bob', D2);
    markReadBy(db(), { reader: 'bob', digests: [D2], at: 99_999, now: 9000 });
    expect(readAt(late)).toBe(9000);
  });

  it('fills the digest of rows written before it from their envelopes', () => {
    const old = sent('c-1', 'bob', null);
    expect(hasUndigested(db())).toBe(true);
    expect(backfillSentDigests(db(), (env) => (env.length === 3 ? D1 : D2))).toBe(1);
    expect(hasUndigested(db())).toBe(false);
    expect(markReadBy(db(), { reader: 'bob', digests: [D1], at: 2000, now: 9000 })).toEqual([old]);
  });

  it('a row whose envelope does not parse gets a digest no receipt names, and is not scanned again', () => {
    sent('c-1', 'bob', null);
    backfillSentDigests(db(), () => {
      throw new Error('not an envelope');
    });
    expect(hasUndigested(db())).toBe(false);
  });
});

describe('dropEntry', () => {
  it("removes a sent receipt's entry, never a message's", () => {
    sent('c-1', 'bob', D1);
    v.enqueue(db(), { clientId: 'r-1', kind: 'receipt', recipient: 'bob', payload: bytes(7), now: 1 });
    expect(v.dropEntry(db(), 'c-1')).toBe(false);
    expect(v.dropEntry(db(), 'r-1')).toBe(true);
    expect(v.listOutbox(db()).map((e) => e.clientId)).toEqual(['c-1']);
  });
});

describe('receiptTargets', () => {
  it('lists unread incoming messages from checked senders, with their digest', () => {
    const add = (serverId: string, peer: string, sender: 'verified' | 'unknown' | 'rejected', digest: string | null) => {
      const { id } = v.insertIncoming(db(), { peer, envelope: bytes(9), serverId, createdAt: 1, receivedAt: 2 });
      putMessageInfo(db(), { messageId: id, sender, digest });
      return id;
    };
    const ok = add('s1', 'alice', 'verified', D1);
    add('s2', 'unknown:ab', 'unknown', D2);
    add('s3', 'alice', 'rejected', null);
    expect(receiptTargets(db(), { peer: 'alice' })).toEqual([{ id: ok, peer: 'alice', digest: D1 }]);
    expect(receiptTargets(db(), { ids: [ok] })).toHaveLength(1);
    v.markRead(db(), { ids: [ok] });
    expect(receiptTargets(db(), { thread: 'alice' })).toEqual([]);
  });
});

describe('parseReceipt', () => {
  const enc = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));
  const good = { v: 1, from: { username: 'bob', userid: 'u-bob' }, read: [D1] };
  it('accepts a receipt and refuses anything else', () => {
    expect(parseReceipt(enc(good))).toEqual(good);
    for (const bad of [
      { ...good, v: 2 },
      { ...good, read: [] },
      { ...good, read: ['A'.repeat(64)] },
      { ...good, read: Array.from({ length: 501 }, () => D1) },
      { ...good, extra: true },
      { v: 1, from: good.from, to: [good.from], text: 'a message, not a receipt', attachments: [] },
    ]) {
      expect(parseReceipt(enc(bad))).toBeNull();
    }
    expect(parseReceipt(Uint8Array.from([0xff, 0xfe]))).toBeNull();
  });
});

/**
 * Read sync in the vault (vault/read-sync.ts; its content is a receipt's, tested in receipts.test.ts):
 * the digests of the incoming messages a markRead changes, any opened sender's,
 * never a rejected one's; applying a read sync marks only unread incoming copies
 * with a named digest, once, and never an outgoing row.
 */
import { describe, expect, it } from 'vitest';
import * as v from '../../../electron/engine/vault/index.js';
import { markReadFromSync, readSyncDigests } from '../../../electron/engine/vault/read-sync.js';
import { setSentDigest } from '../../../electron/engine/vault/receipts.js';
import { putMessageInfo, type SenderState } from '../../../electron/engine/vault/sync-store.js';
import { setThread } from '../../../electron/engine/vault/threads.js';
import { bytes, eachTestDb } from './helpers.js';

const db = eachTestDb();

const D1 = 'a'.repeat(64);
const D2 = 'b'.repeat(64);
const D3 = 'c'.repeat(64);
const isRead = (id: number) => (db().prepare('SELECT read FROM messages WHERE id = ?').get(id) as { read: number }).read === 1;

function incoming(serverId: string, peer: string, sender: SenderState, digest: string | null): number {
  const { id } = v.insertIncoming(db(), { peer, envelope: bytes(9), serverId, createdAt: 1, receivedAt: 2 });
  putMessageInfo(db(), { messageId: id, sender, digest });
  setThread(db(), id, peer, []);
  return id;
}

describe('readSyncDigests', () => {
  it("lists the digests of unread incoming messages, an unknown sender's too, not a rejected one's", () => {
    const ok = incoming('s1', 'alice', 'verified', D1);
    const stranger = incoming('s2', 'unknown:ab', 'unknown', D2);
    incoming('s3', 'alice', 'rejected', null);
    expect(readSyncDigests(db(), { peer: 'alice' })).toEqual([D1]);
    expect(readSyncDigests(db(), { thread: 'unknown:ab' })).toEqual([D2]);
    expect(readSyncDigests(db(), { ids: [ok, stranger, ok] })).toEqual([D1, D2]);
    v.markRead(db(), { ids: [ok] });
    expect(readSyncDigests(db(), { peer: 'alice' })).toEqual([]);
  });
});

describe('markReadFromSync', () => {
  it('marks unread incoming copies with a named digest, once; unknown digests and outgoing rows are left alone', () => {
    const a = incoming('s1', 'alice', 'verified', D1);
    const b = incoming('s2', 'carol', 'unverified', D2);
    const { messageId: out } = v.queueOutgoingMessage(db(), { clientId: 'c-1', peer: 'alice', envelope: bytes(1), payload: bytes(0), now: 1 });
    setSentDigest(db(), out, D3);
    expect(markReadFromSync(db(), [D1, D1, D3, 'f'.repeat(64)])).toEqual([a]);
    expect(isRead(a)).toBe(true);
    expect(isRead(b)).toBe(false);
    expect(isRead(out)).toBe(false);
    // Again (the sending device pulling its own, or a replay): nothing changes.
    expect(markReadFromSync(db(), [D1])).toEqual([]);
    expect(markReadFromSync(db(), [])).toEqual([]);
    expect(markReadFromSync(db(), [D2])).toEqual([b]);
  });

  it('looks at no more than 500 digests', () => {
    const last = incoming('s1', 'alice', 'verified', D1);
    const many = Array.from({ length: 500 }, (_, i) => i.toString(16).padStart(64, '0'));
    expect(markReadFromSync(db(), [...many, D1])).toEqual([]);
    expect(isRead(last)).toBe(false);
  });
});

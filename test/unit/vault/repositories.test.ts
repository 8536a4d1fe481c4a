/** Items, item keys, messages, outbox, contacts, settings: behaviour and edge validation. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as v from '../../../electron/engine/vault/index.js';
import { bytes, tempVault, type TempVault } from './helpers.js';

let t: TempVault;
const db = () => t.vault.db;
beforeEach(() => {
  t = tempVault();
});
afterEach(() => t.cleanup());

describe('items', () => {
  const item = (version: number, c = version) => ({ identifier: 'note-1', version, ciphertext: bytes(c, c), owner: 'alice' });

  it('creates, edits with optimistic versions, keeps superseded revisions', () => {
    expect(v.putItem(db(), item(1), { expectedVersion: null, now: 10 })).toMatchObject({ version: 1, dirty: true, deleted: false, updatedAt: 10 });
    expect(() => v.putItem(db(), item(2), { expectedVersion: null, now: 11 })).toThrow(expect.objectContaining({ kind: 'conflict' }));
    expect(() => v.putItem(db(), item(1), { expectedVersion: 1, now: 11 })).toThrow(expect.objectContaining({ kind: 'invalid-input' }));
    v.putItem(db(), item(2), { expectedVersion: 1, now: 12 });
    expect(() => v.putItem(db(), item(3), { expectedVersion: 1, now: 13 })).toThrow(expect.objectContaining({ kind: 'conflict' }));
    v.putItem(db(), { ...item(3), deleted: true }, { expectedVersion: 2, now: 14 });
    expect(v.getItem(db(), 'note-1')).toMatchObject({ version: 3, deleted: true });
    expect(v.listItems(db())).toEqual([]);
    expect(v.listItems(db(), { includeDeleted: true })).toHaveLength(1);
    expect(v.listRevisions(db(), 'note-1').map((r) => [r.version, r.kind])).toEqual([
      [2, 'superseded'],
      [1, 'superseded'],
    ]);
  });

  it(`keeps the newest ${v.KEEP_SUPERSEDED} superseded revisions`, () => {
    v.putItem(db(), item(1), { expectedVersion: null, now: 1 });
    for (let n = 2; n <= 30; n++) v.putItem(db(), item(n), { expectedVersion: n - 1, now: n });
    const revs = v.listRevisions(db(), 'note-1');
    expect(revs).toHaveLength(v.KEEP_SUPERSEDED);
    expect(revs[0]!.version).toBe(29);
  });

  it('remote revisions: insert, update, stale, and a conflict keeps both', () => {
    expect(v.applyRemoteItem(db(), item(1), 1)).toBe('inserted');
    expect(v.getItem(db(), 'note-1')!.dirty).toBe(false);
    expect(v.applyRemoteItem(db(), item(2), 2)).toBe('updated');
    expect(v.applyRemoteItem(db(), item(1), 3)).toBe('stale');
    v.putItem(db(), item(3, 30), { expectedVersion: 2, now: 4 }); // local edit, not yet pushed
    expect(v.applyRemoteItem(db(), item(3, 31), 5)).toBe('conflict');
    expect(v.getItem(db(), 'note-1')!.ciphertext).toEqual(bytes(30, 30));
    const [conflict] = v.listConflicts(db());
    expect(conflict).toMatchObject({ version: 3, kind: 'conflict', resolved: false, ciphertext: bytes(31, 31) });
    expect(v.resolveConflict(db(), conflict!.id)).toBe(true);
    expect(v.listConflicts(db())).toEqual([]);
    expect(v.markItemSynced(db(), 'note-1', 2)).toBe(false);
    expect(v.markItemSynced(db(), 'note-1', 3)).toBe(true);
    expect(v.listItems(db(), { dirtyOnly: true })).toEqual([]);
    // our own push echoed back is not a conflict
    v.putItem(db(), item(4), { expectedVersion: 3, now: 6 });
    expect(v.applyRemoteItem(db(), item(4), 7)).toBe('stale');
    expect(v.getItem(db(), 'note-1')!.dirty).toBe(false);
  });

  it('item keys: per grantee, replaced all at once, removed with the item', () => {
    v.putItem(db(), item(1), { expectedVersion: null, now: 1 });
    v.putItemKey(db(), 'note-1', { grantee: 'alice', keyId: 'k-a', wrapped: bytes(1) }, 1);
    v.putItemKey(db(), 'note-1', { grantee: 'bob', keyId: 'k-b', wrapped: bytes(2) }, 1);
    expect(v.listItemKeys(db(), 'note-1').map((k) => k.grantee)).toEqual(['alice', 'bob']);
    v.replaceItemKeys(db(), 'note-1', [{ grantee: 'alice', keyId: 'k-a', wrapped: bytes(9) }], 2);
    expect(v.listItemKeys(db(), 'note-1')).toEqual([{ identifier: 'note-1', grantee: 'alice', keyId: 'k-a', wrapped: bytes(9), grantedAt: 2 }]);
    expect(() => v.putItemKey(db(), 'missing', { grantee: 'x', keyId: 'k', wrapped: bytes(1) }, 1)).toThrow(/FOREIGN KEY/);
    expect(v.purgeItem(db(), 'note-1')).toBe(true);
    expect(v.listItemKeys(db(), 'note-1')).toEqual([]);
  });

  it('refuses malformed input before it reaches disk', () => {
    expect(() => v.putItem(db(), { ...item(1), identifier: '' }, { expectedVersion: null, now: 1 })).toThrow(
      expect.objectContaining({ kind: 'invalid-input' }),
    );
    expect(() => v.putItem(db(), { ...item(1), ciphertext: 'text' as unknown as Uint8Array }, { expectedVersion: null, now: 1 })).toThrow(
      expect.objectContaining({ kind: 'invalid-input' }),
    );
  });
});

describe('messages and outbox', () => {
  it('incoming messages are deduped on the server id', () => {
    const m = { peer: 'bob', envelope: bytes(1, 2, 3), serverId: 'srv-1', createdAt: 5, receivedAt: 6 };
    const first = v.insertIncoming(db(), m);
    expect(first.inserted).toBe(true);
    expect(v.insertIncoming(db(), m)).toEqual({ id: first.id, inserted: false });
    expect(v.countUnread(db())).toBe(1);
    expect(v.markRead(db(), { peer: 'bob' })).toBe(1);
    expect(v.countUnread(db(), 'bob')).toBe(0);
    expect(v.getMessage(db(), first.id)).toMatchObject({ direction: 'in', state: 'received', read: true, serverId: 'srv-1' });
  });

  it('an outgoing message and its outbox entry are written together, or not at all', () => {
    const out = v.queueOutgoingMessage(db(), { clientId: 'c-1', peer: 'bob', envelope: bytes(7), payload: bytes(8), now: 100 });
    expect(out.entry).toMatchObject({ clientId: 'c-1', state: 'pending', attempts: 0, nextAttemptAt: 100, kind: 'message' });
    expect(() => v.queueOutgoingMessage(db(), { clientId: 'c-1', peer: 'carol', envelope: bytes(7), payload: bytes(8), now: 101 })).toThrow(
      expect.objectContaining({ kind: 'conflict' }),
    );
    // a message row already using the client id: the outbox insert is rolled back too
    db().prepare(`INSERT INTO messages (direction, peer, envelope, state, created_at, client_id) VALUES ('out', 'x', x'00', 'queued', 1, 'c-2')`).run();
    expect(() => v.queueOutgoingMessage(db(), { clientId: 'c-2', peer: 'x', envelope: bytes(1), payload: bytes(1), now: 1 })).toThrow(
      expect.objectContaining({ kind: 'conflict' }),
    );
    expect(v.getOutboxEntry(db(), 'c-2')).toBeNull();
    expect(v.listMessages(db(), { peer: 'bob' })).toHaveLength(1);
  });

  it('lifecycle: claim, retry with backoff, fail, retry by hand, sent', () => {
    v.queueOutgoingMessage(db(), { clientId: 'c-1', peer: 'bob', envelope: bytes(1), payload: bytes(2), now: 0 });
    v.enqueue(db(), { clientId: 'c-2', kind: 'item', recipient: 'bob', payload: bytes(3), now: 0 });
    const claimed = v.claimDue(db(), 10);
    expect(claimed.map((e) => [e.clientId, e.state, e.attempts])).toEqual([
      ['c-1', 'sending', 1],
      ['c-2', 'sending', 1],
    ]);
    expect(v.claimDue(db(), 10)).toEqual([]); // nobody claims an entry twice
    v.markRetry(db(), 'c-1', { error: 'ECONNREFUSED', nextAttemptAt: 5000 });
    expect(v.claimDue(db(), 4999)).toEqual([]);
    expect(v.claimDue(db(), 5000).map((e) => e.attempts)).toEqual([2]);
    v.markFailed(db(), 'c-1', { error: '400 invalid operation' });
    expect(v.getMessageByClientId(db(), 'c-1')!.state).toBe('failed');
    // Counted per kind: messages by default (the UI's "waiting to send"), the item entry apart.
    expect(v.countOutbox(db())).toEqual({ pending: 0, sending: 0, sent: 0, failed: 1 });
    expect(v.countOutbox(db(), 'item')).toEqual({ pending: 0, sending: 1, sent: 0, failed: 0 });
    expect(v.retryNow(db(), 6000, 'c-1')).toBe(1);
    expect(v.getMessageByClientId(db(), 'c-1')!.state).toBe('queued');
    v.claimDue(db(), 6000);
    expect(v.markSent(db(), 'c-1', { serverId: 'srv-9', now: 7000 })).toBe(true);
    expect(v.getOutboxEntry(db(), 'c-1')).toMatchObject({ state: 'sent', sentAt: 7000, serverId: 'srv-9', lastError: null });
    expect(v.getMessageByClientId(db(), 'c-1')).toMatchObject({ state: 'sent', serverId: 'srv-9' });
    expect(v.markRetry(db(), 'c-1', { error: 'late', nextAttemptAt: 1 })).toBe(false); // sent stays sent
    expect(v.pruneSent(db(), 8000)).toBe(1);
  });

  it('entries a crash left "sending" are due again after reopening', () => {
    v.enqueue(db(), { clientId: 'c-1', kind: 'message', recipient: 'bob', payload: bytes(1), now: 0 });
    v.claimDue(db(), 0);
    const reopened = t.reopen();
    expect(reopened.recovered).toBe(1);
    expect(v.claimDue(reopened.db, 0).map((e) => [e.clientId, e.attempts])).toEqual([['c-1', 2]]);
  });
});

describe('contacts and settings', () => {
  const bob = { userId: 'u-bob', username: 'bob', fingerprint: 'fp-1', encryptionKey: 'PEM-1', did: 'did:key:z1' };

  it('flags a changed key, clears verification, and binds verification to a fingerprint', () => {
    expect(v.upsertContact(db(), bob, 1).keyChanged).toBe(false);
    expect(v.markVerified(db(), 'u-bob', 'fp-other', 2)).toBe(false);
    expect(v.markVerified(db(), 'u-bob', 'fp-1', 2)).toBe(true);
    const { contact, keyChanged } = v.upsertContact(db(), { ...bob, fingerprint: 'fp-2', encryptionKey: 'PEM-2' }, 3);
    expect(keyChanged).toBe(true);
    expect(contact).toMatchObject({ verified: false, keyChanged: true, previousFingerprint: 'fp-1', fingerprint: 'fp-2' });
    expect(v.acknowledgeKeyChange(db(), 'u-bob', 4)).toBe(true);
    expect(v.getContactByUsername(db(), 'bob')).toMatchObject({ keyChanged: false, verified: false });
    expect(() => v.upsertContact(db(), { ...bob, userId: 'u-other' }, 5)).toThrow(expect.objectContaining({ kind: 'conflict' }));
    expect(v.listContacts(db())).toHaveLength(1);
    expect(v.deleteContact(db(), 'u-bob')).toBe(true);
  });

  it('settings are JSON, typed on read, and a hand-edited value is reported, not trusted', () => {
    v.setSetting(db(), 'autoLockMs', 60_000, 1);
    expect(v.getSetting(db(), 'autoLockMs', z.number().int())).toBe(60_000);
    expect(v.getSetting(db(), 'missing', z.number())).toBeUndefined();
    expect(() => v.getSetting(db(), 'autoLockMs', z.string())).toThrow(expect.objectContaining({ kind: 'corrupt-row' }));
    db().prepare(`UPDATE settings SET value = '{oops' WHERE key = 'autoLockMs'`).run();
    expect(() => v.getSetting(db(), 'autoLockMs', z.number())).toThrow(expect.objectContaining({ kind: 'corrupt-row' }));
    expect(() => v.setSetting(db(), 'Bad Key', 1, 1)).toThrow(expect.objectContaining({ kind: 'invalid-input' }));
    expect(() => v.setSetting(db(), 'x', undefined, 1)).toThrow(expect.objectContaining({ kind: 'invalid-input' }));
  });
});

/**
 * Read state across our own devices through a real key service (docs/sync.md
 * "Read on our other devices"): bob has two desktops (the second set up from his
 * identity file); reading on one queues a sealed read sync to his own inbox, and
 * the other marks the same messages read on its next pull, with or without read
 * receipts; a user with no other device sends none. The device that sent it pulls it too (a no-op); one naming messages
 * not held marks nothing; one claiming to be bob's but signed by alice is refused.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../../shared/contract-events.js';
import { sealEnvelope } from '../../../electron/engine/crypto/envelope.js';
import { newClientId } from '../../../electron/engine/sync/client-id.js';
import { queueReadSync, READ_SYNC_CONTENT_TYPE, READ_SYNC_KIND } from '../../../electron/engine/sync/read-sync.js';
import { RECEIPT_KIND } from '../../../electron/engine/sync/receipts.js';
import { readRegistration } from '../../../electron/engine/sync/registration.js';
import { enqueue, listOutbox } from '../../../electron/engine/vault/outbox.js';
import { listContactKeys } from '../../../electron/engine/vault/sync-store.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { engineOf } from '../../helpers/seed-conversation.js';
import { cleanup, newUser, openProfile, type Profile, syncUntilSent, tmp } from './helpers.js';

const outboxOf = (p: Profile, kind: string) => listOutbox(engineOf(p.service).db).filter((e) => e.kind === kind);

/** Syncs until nothing but messages is left in the outbox (sent receipts and read syncs are deleted). */
async function syncUntilQueuedSent(p: Profile): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await p.call('messages:retry', {});
    await p.call('sync:now', {});
    if (listOutbox(engineOf(p.service).db).every((e) => e.kind === 'message')) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect.fail('receipts and read syncs were not sent');
}

/** Syncs `p` until `check` holds (a generous bound; no timing asserted). */
async function syncUntil(p: Profile, check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await p.call('sync:now', {});
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect.fail(`never: ${what}`);
}

describe('read sync across our own devices', () => {
  const root = tmp('sealpost-read-sync-');
  let ks: KeyService;
  let alice: Profile;
  let bob: Profile;
  let bob2: Profile;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    ks = await startKeyService({});
    [alice, bob] = await Promise.all([newUser(root, 'alice', ks), newUser(root, 'bob', ks)]);
    const file = await bob.ok('identity:export', { passphrase: 'correct horse battery staple' });
    bob2 = await openProfile(path.join(root, 'bob2'));
    await bob2.ok('identity:import', { file: file.file, passphrase: 'correct horse battery staple', pin: '0' });
    await bob2.ok('device:register', { server: ks.url, appId: ks.app.appId, serverKey: ks.app.serverKey, username: 'bob' });
    ids.bob = (await alice.ok('contacts:lookup', { username: 'bob' })).userId;
    ids.alice = (await bob.ok('contacts:lookup', { username: 'alice' })).userId;
    await bob2.ok('contacts:lookup', { username: 'alice' });
    expect(readRegistration(engineOf(bob2.service).db)!.userId).toBe(ids.bob);
  });

  afterAll(async () => {
    for (const p of [alice, bob, bob2]) p?.close();
    await ks?.close();
    cleanup(root);
  });

  /** alice writes `text` to bob; both of bob's devices pull it. Returns its id on each of bob's devices. */
  async function aliceWrites(text: string): Promise<{ alice: number; bob: number; bob2: number }> {
    const sent = await alice.ok('messages:send', { to: ['bob'], text });
    await syncUntilSent(alice);
    const idOn = async (p: Profile) => {
      let found: number | undefined;
      await syncUntil(p, async () => (found = (await p.ok('messages:list', { conversation: ids.alice! })).find((m) => m.text === text)?.id) !== undefined, `${text} on ${p.dir}`);
      return found!;
    };
    return { alice: sent.messageIds[0]!, bob: await idOn(bob), bob2: await idOn(bob2) };
  }

  const isRead = async (p: Profile, id: number) => (await p.ok('messages:list', { conversation: ids.alice! })).find((m) => m.id === id)!.read;

  it('reading on one device marks the message read on the other after a sync; the sending device pulls it as a no-op', async () => {
    const m = await aliceWrites('read me once');
    expect(await isRead(bob, m.bob)).toBe(false);
    expect(await isRead(bob2, m.bob2)).toBe(false);

    expect(await bob.ok('messages:markRead', { conversation: ids.alice! })).toEqual({ changed: 1 });
    expect(outboxOf(bob, READ_SYNC_KIND)).toHaveLength(1);
    expect(outboxOf(bob, RECEIPT_KIND)).toHaveLength(1);
    // Neither is a message waiting to send, nor counted as sent.
    expect((await bob.ok('sync:status', {})).pending).toBe(0);
    const first = await bob.ok('sync:now', {});
    expect(first.sent).toBe(0);
    await syncUntilQueuedSent(bob);

    const events: EngineEvent[] = [];
    const off = bob2.service.events.on((e) => events.push(e));
    await syncUntil(bob2, () => isRead(bob2, m.bob2), 'read on bob2');
    off();
    expect(events).toContainEqual({ type: 'messages', received: 0, changed: 1 });
    // Not stored as a message, and no receipt of its own (the reading device sent it).
    expect((await bob2.ok('messages:list', { limit: 100 })).map((x) => x.text)).toEqual(['read me once']);
    expect(listOutbox(engineOf(bob2.service).db)).toEqual([]);

    // bob's first device pulls its own read sync: nothing changes, nothing is rejected.
    const own = await bob.ok('sync:now', {});
    expect(own.rejected).toBe(0);
    expect((await bob.ok('messages:list', { limit: 100 })).map((x) => [x.text, x.read])).toEqual([['read me once', true]]);

    // alice's read receipt behaves as before.
    await syncUntil(alice, async () => (await alice.ok('messages:read', { id: m.alice })).state === 'read', 'read on alice');
  });

  it('works the other way, one message at a time, and with read receipts off', async () => {
    expect(await bob2.ok('readReceipts:set', { enabled: false })).toEqual({ enabled: false });
    const m = await aliceWrites('quietly read elsewhere');
    await bob2.ok('messages:read', { id: m.bob2 });
    expect(outboxOf(bob2, RECEIPT_KIND)).toEqual([]);
    expect(outboxOf(bob2, READ_SYNC_KIND)).toHaveLength(1);
    await syncUntilQueuedSent(bob2);
    await syncUntil(bob, () => isRead(bob, m.bob), 'read on bob');
    // No receipt went to alice (bob2 has them off, and bob only learned it from his own device).
    await alice.ok('sync:now', {});
    expect(await alice.ok('messages:read', { id: m.alice })).toMatchObject({ state: 'delivered', readAt: null });
    expect(outboxOf(bob, RECEIPT_KIND)).toEqual([]);
    await bob2.ok('readReceipts:set', { enabled: true });
  });

  it('a device that was away gets the message and the read sync in one pull: it arrives read', async () => {
    const text = 'read while bob2 was away';
    await alice.ok('messages:send', { to: ['bob'], text });
    await syncUntilSent(alice);
    const find = async (p: Profile) => (await p.ok('messages:list', { conversation: ids.alice! })).find((x) => x.text === text);
    await syncUntil(bob, async () => (await find(bob)) !== undefined, 'the message on bob');
    await bob.ok('messages:read', { id: (await find(bob))!.id });
    await syncUntilQueuedSent(bob);
    const report = await bob2.ok('sync:now', {});
    expect(report.received).toBe(1);
    expect(await find(bob2)).toMatchObject({ read: true });
  });

  it('a user with no other device sends none: the entry goes unsent, so the key service does not learn when they read', async () => {
    const sent = await bob.ok('messages:send', { to: ['alice'], text: 'for alice, who has one device' });
    await syncUntilSent(bob);
    let id: number | undefined;
    await syncUntil(alice, async () => (id = (await alice.ok('messages:list', { conversation: ids.bob! })).find((m) => m.text === 'for alice, who has one device')?.id) !== undefined, 'the message on alice');
    expect(sent.messageIds).toHaveLength(1);
    await alice.ok('messages:read', { id: id! });
    const [entry] = outboxOf(alice, READ_SYNC_KIND);
    expect(entry).toBeDefined();
    await syncUntilQueuedSent(alice);
    // The entry is gone and nothing with its client id reached the key service.
    expect(outboxOf(alice, READ_SYNC_KIND)).toEqual([]);
    const stored = await ks.server.store.sql().all('SELECT id FROM messages WHERE client_id = $1', [entry!.clientId]);
    expect(stored).toEqual([]);
    // bob's read sync, for comparison, is stored (he has a second device).
    const m = await aliceWrites('bob reads this one');
    await bob.ok('messages:read', { id: m.bob });
    const [bobs] = outboxOf(bob, READ_SYNC_KIND);
    await syncUntilQueuedSent(bob);
    expect(await ks.server.store.sql().all('SELECT id FROM messages WHERE client_id = $1', [bobs!.clientId])).toHaveLength(1);
  });

  it('a read sync naming messages this device does not hold marks nothing', async () => {
    const m = await aliceWrites('still unread');
    const b = engineOf(bob.service);
    queueReadSync({ db: b.db, keys: b.unlocked(), registration: readRegistration(b.db)!, now: Date.now() }, ['c'.repeat(64)]);
    await syncUntilQueuedSent(bob);
    const report = await bob2.ok('sync:now', {});
    expect(report.rejected).toBe(0);
    expect(await isRead(bob2, m.bob2)).toBe(false);
    expect(await isRead(bob, m.bob)).toBe(false);
  });

  it("one that claims to be bob's but is signed by alice is refused like any sender mismatch, and marks nothing", async () => {
    const m = await aliceWrites('not yours to mark');
    const digest = (engineOf(bob2.service).db.prepare('SELECT digest FROM message_info WHERE message_id = ?').get(m.bob2) as { digest: string }).digest;
    /** A read sync naming `from`, signed by alice, sent to bob's inbox the way her engine sends him a receipt. */
    const aliceSends = async (from: { username: string; userid: string }) => {
      const a = engineOf(alice.service);
      const forged = sealEnvelope({
        body: JSON.stringify({ v: 1, from, read: [digest] }),
        contentType: READ_SYNC_CONTENT_TYPE,
        sender: a.unlocked().sender,
        recipients: listContactKeys(a.db, ids.bob!).map((k) => k.publicPem),
        sentAt: Date.now(),
      });
      enqueue(a.db, { clientId: newClientId(), kind: RECEIPT_KIND, recipient: ids.bob!, payload: forged, now: Date.now() });
      await syncUntilQueuedSent(alice);
    };
    await aliceSends({ username: 'bob', userid: ids.bob! });
    await syncUntil(bob2, async () => (await bob2.ok('messages:list', { peer: ids.bob! })).some((x) => x.sender === 'rejected'), 'the forgery on bob2');
    expect(await isRead(bob2, m.bob2)).toBe(false);
    expect((await bob2.ok('messages:list', { peer: ids.bob! })).find((x) => x.sender === 'rejected')).toMatchObject({ reason: 'sender-mismatch', text: null });

    // A read sync that names alice herself is not one of bob's: refused, marks nothing.
    await aliceSends({ username: 'alice', userid: ids.alice! });
    const rejectedOn = async () => (await bob2.ok('messages:list', { limit: 100 })).filter((x) => x.sender === 'rejected');
    await syncUntil(bob2, async () => (await rejectedOn()).length === 2, 'the second refusal on bob2');
    expect((await rejectedOn()).map((x) => x.reason).sort()).toEqual(['invalid-content', 'sender-mismatch']);
    expect(await isRead(bob2, m.bob2)).toBe(false);
  });
});

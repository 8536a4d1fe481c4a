/**
 * Read receipts end to end through a real key service (docs/sync.md "Read
 * receipts"): reading queues a sealed, signed receipt in the outbox; the
 * sender's pull marks only the copies it sent to the signer read; groups show
 * each copy; off means none sent and none shown; a receipt survives a restart
 * before it was sent; a forged or misaddressed receipt marks nothing; rows
 * written before the receipts' migration are found by their envelopes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../../shared/contract-events.js';
import { sealEnvelope } from '../../../electron/engine/crypto/envelope.js';
import { enqueue, listOutbox } from '../../../electron/engine/vault/outbox.js';
import { newClientId } from '../../../electron/engine/sync/client-id.js';
import { queueReadReceipts, RECEIPT_CONTENT_TYPE, RECEIPT_KIND } from '../../../electron/engine/sync/receipts.js';
import { readRegistration } from '../../../electron/engine/sync/registration.js';
import { listContactKeys } from '../../../electron/engine/vault/sync-store.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { engineOf } from '../../helpers/seed-conversation.js';
import { cleanup, type Profile, syncUntilSent, threeUsers, tmp } from './helpers.js';

const receiptsOf = (p: Profile) => listOutbox(engineOf(p.service).db).filter((e) => e.kind === RECEIPT_KIND);

/** Syncs until no receipt is left in the outbox: a sent one is deleted (each sync backs off inside the engine; no timing is asserted). */
async function syncUntilReceiptsSent(p: Profile): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await p.call('messages:retry', {});
    await p.call('sync:now', {});
    if (receiptsOf(p).length === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect.fail('receipts were not sent');
}

describe('read receipts', () => {
  const root = tmp('sealpost-receipts-');
  let ks: KeyService;
  let alice: Profile;
  let bob: Profile;
  let carol: Profile;
  let ids: Record<string, string> = {};

  beforeAll(async () => {
    ks = await startKeyService({});
    ({ alice, bob, carol, ids } = await threeUsers(root, ks));
  });

  afterAll(async () => {
    for (const p of [alice, bob, carol]) p?.close();
    await ks?.close();
    cleanup(root);
  });

  /** alice writes `text` to `to`; everyone syncs until it is delivered. Returns alice's message id (the first copy). */
  async function aliceWrites(to: string[], text: string): Promise<number> {
    const sent = await alice.ok('messages:send', { to, text });
    await syncUntilSent(alice);
    for (const u of to) await (u === 'bob' ? bob : carol).ok('sync:now', {});
    await alice.ok('sync:now', {});
    return sent.messageIds[0]!;
  }

  const aliceSees = async (id: number) => alice.ok('messages:read', { id });

  it('reading queues one receipt, sent apart from messages; the sender sees Read with the time, live', async () => {
    expect(await bob.ok('readReceipts:get', {})).toEqual({ enabled: true });
    const id = await aliceWrites(['bob'], 'did you get this?');
    expect(await aliceSees(id)).toMatchObject({ state: 'delivered', readAt: null });

    const before = Date.now();
    expect(await bob.ok('messages:markRead', { conversation: ids.alice! })).toEqual({ changed: 1 });
    expect(receiptsOf(bob)).toHaveLength(1);
    // A receipt is not a message: it is not "waiting to send" and makes no row.
    expect((await bob.ok('sync:status', {})).pending).toBe(0);
    expect(await bob.ok('messages:markRead', { conversation: ids.alice! })).toEqual({ changed: 0 });
    expect(receiptsOf(bob)).toHaveLength(1);

    await syncUntilReceiptsSent(bob);
    expect(listOutbox(engineOf(bob.service).db).filter((e) => e.kind !== 'message')).toEqual([]); // its sealed payload is not kept
    const events: EngineEvent[] = [];
    const off = alice.service.events.on((e) => events.push(e));
    const report = await alice.ok('sync:now', {});
    off();
    expect(report.received).toBe(0);
    expect(events).toContainEqual({ type: 'messages', received: 0, changed: 1 });
    const seen = await aliceSees(id);
    expect(seen.state).toBe('read');
    expect(seen.readAt).toBeGreaterThanOrEqual(seen.createdAt);
    expect(seen.readAt).toBeGreaterThanOrEqual(before - 1000);
    expect(seen.readAt).toBeLessThanOrEqual(Date.now());
    // No row for the receipt on either side.
    expect((await alice.ok('messages:list', { conversation: ids.bob! })).map((m) => m.text)).toEqual(['did you get this?']);
    expect((await bob.ok('messages:list', { conversation: ids.alice! })).map((m) => m.text)).toEqual(['did you get this?']);
  });

  it('messages:read marks and receipts one message; a group send shows each copy, read when all are', async () => {
    const id = await aliceWrites(['bob', 'carol'], 'group news');
    const inBob = (await bob.ok('messages:list', { limit: 10 })).find((m) => m.text === 'group news')!;
    await bob.ok('messages:read', { id: inBob.id });
    expect(receiptsOf(bob)).toHaveLength(1);
    await syncUntilReceiptsSent(bob);
    await alice.ok('sync:now', {});

    const conversation = (await aliceSees(id)).conversation;
    const own = () => alice.ok('messages:list', { conversation }).then((l) => l.find((m) => m.text === 'group news')!);
    const half = await own();
    expect(half.state).toBe('delivered');
    expect(half.readAt).toBeNull();
    expect(Object.fromEntries(half.recipients!.map((r) => [r.peerName, r.state]))).toEqual({ bob: 'read', carol: 'delivered' });

    const inCarol = (await carol.ok('messages:list', { limit: 10 })).find((m) => m.text === 'group news')!;
    await carol.ok('messages:markRead', { ids: [inCarol.id] });
    await syncUntilReceiptsSent(carol);
    await alice.ok('sync:now', {});
    const all = await own();
    expect(all.state).toBe('read');
    expect(all.readAt).toBe(Math.max(...all.recipients!.map((r) => r.readAt!)));
  });

  it('off: no receipt is sent, and the sender with receipts off sees none (they show again when on)', async () => {
    expect(await bob.ok('readReceipts:set', { enabled: false })).toEqual({ enabled: false });
    const id = await aliceWrites(['bob'], 'quietly');
    const queued = receiptsOf(bob).length;
    await bob.ok('messages:markRead', { conversation: ids.alice! });
    expect(receiptsOf(bob)).toHaveLength(queued);
    await bob.ok('sync:now', {});
    await alice.ok('sync:now', {});
    expect(await aliceSees(id)).toMatchObject({ state: 'delivered', readAt: null });
    await bob.ok('readReceipts:set', { enabled: true });

    // Read with receipts on, turned off before the receipt went: it is dropped unsent.
    const later = await aliceWrites(['bob'], 'read, then receipts off');
    await bob.ok('messages:markRead', { conversation: ids.alice! });
    expect(receiptsOf(bob)).toHaveLength(1);
    await bob.ok('readReceipts:set', { enabled: false });
    await bob.ok('sync:now', {});
    expect(receiptsOf(bob)).toEqual([]);
    await alice.ok('sync:now', {});
    expect(await aliceSees(later)).toMatchObject({ state: 'delivered', readAt: null });
    await bob.ok('readReceipts:set', { enabled: true });

    // alice turns hers off: what bob read earlier shows as delivered, and Read again once she turns them on.
    const earlier = (await alice.ok('messages:list', { conversation: ids.bob! })).find((m) => m.text === 'did you get this?')!;
    await alice.ok('readReceipts:set', { enabled: false });
    expect(await aliceSees(earlier.id)).toMatchObject({ state: 'delivered', readAt: null });
    expect((await alice.ok('messages:conversations', {})).find((c) => c.peer === ids.bob)!.last.state).not.toBe('read');
    await alice.ok('readReceipts:set', { enabled: true });
    expect((await aliceSees(earlier.id)).state).toBe('read');
  });

  it('a receipt written before the app closed is sent after it opens again', async () => {
    const id = await aliceWrites(['bob'], 'read me then quit');
    await bob.ok('messages:markRead', { conversation: ids.alice! });
    const pending = receiptsOf(bob).filter((e) => e.state === 'pending');
    expect(pending).toHaveLength(1);
    bob = await bob.reopen();
    await bob.ok('session:authenticate', { pin: '0' });
    expect(receiptsOf(bob).find((e) => e.clientId === pending[0]!.clientId)!.state).toBe('pending');
    await syncUntilReceiptsSent(bob);
    await alice.ok('sync:now', {});
    expect((await aliceSees(id)).state).toBe('read');
  });

  it('marks nothing for a receipt from someone the message was not sent to, or signed by someone else than it names', async () => {
    const id = await aliceWrites(['bob'], 'only for bob');
    const digest = (engineOf(alice.service).db.prepare('SELECT sent_digest FROM messages WHERE id = ?').get(id) as { sent_digest: string }).sent_digest;
    expect(digest).toMatch(/^[0-9a-f]{64}$/);

    // carol, who was not sent it, names its digest in a receipt of her own (valid, signed by her).
    const c = engineOf(carol.service);
    queueReadReceipts({ db: c.db, keys: c.unlocked(), registration: { ...readRegistration(c.db)!, appId: '' }, now: Date.now() }, [{ id: 0, peer: ids.alice!, digest }]);
    // bob signs a receipt that claims to be carol's.
    const b = engineOf(bob.service);
    const forged = sealEnvelope({
      body: JSON.stringify({ v: 1, from: { username: 'carol', userid: ids.carol }, read: [digest] }),
      contentType: RECEIPT_CONTENT_TYPE,
      sender: b.unlocked().sender,
      recipients: listContactKeys(b.db, ids.alice!).map((k) => k.publicPem),
      sentAt: Date.now(),
    });
    enqueue(b.db, { clientId: newClientId(), kind: RECEIPT_KIND, recipient: ids.alice!, payload: forged, now: Date.now() });
    await syncUntilReceiptsSent(carol);
    await syncUntilReceiptsSent(bob);
    const report = await alice.ok('sync:now', {});
    expect(await aliceSees(id)).toMatchObject({ state: 'delivered', readAt: null });
    // The forgery is kept as a rejected message in carol's conversation, as a forged message would be.
    expect(report.rejected).toBe(1);
    const fromCarol = await alice.ok('messages:list', { peer: ids.carol! });
    expect(fromCarol.find((m) => m.sender === 'rejected')).toMatchObject({ reason: 'sender-mismatch', text: null });
  });

  it('finds copies written before read receipts existed by their envelopes', async () => {
    const id = await aliceWrites(['bob'], 'from an older version');
    engineOf(alice.service).db.prepare('UPDATE messages SET sent_digest = NULL WHERE direction = ?').run('out');
    await bob.ok('messages:markRead', { conversation: ids.alice! });
    await syncUntilReceiptsSent(bob);
    await alice.ok('sync:now', {});
    expect((await aliceSees(id)).state).toBe('read');
    const left = engineOf(alice.service).db.prepare(`SELECT count(*) AS n FROM messages WHERE direction = 'out' AND sent_digest IS NULL`).get() as { n: number };
    expect(left.n).toBe(0);
  });
});

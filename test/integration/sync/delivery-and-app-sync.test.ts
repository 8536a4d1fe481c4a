/**
 * Delivery receipts end to end through a real key service: a message is
 * "delivered" once the recipient's device has fetched it (its read past the
 * MessageId acknowledges it), and the sender learns it on its next sync.
 * And the app-wide sync (sync:now) also syncs vault items, reporting an item
 * sync failure in sync:status without failing the message sync.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { cleanup, newUser, type Profile, tmp } from './helpers.js';

describe('delivered state and the app-wide sync of items', () => {
  const root = tmp('sealpost-delivery-');
  let ks: KeyService;
  let alice: Profile;
  let bob: Profile;

  beforeAll(async () => {
    ks = await startKeyService({ bodyLimitBytes: 64 * 1024 });
    alice = await newUser(root, 'alice', ks);
    bob = await newUser(root, 'bob', ks);
    const b = await alice.ok('contacts:lookup', { username: 'bob' });
    await alice.ok('contacts:verify', { userId: b.userId, fingerprint: b.fingerprint });
    await bob.ok('contacts:lookup', { username: 'alice' });
  });

  afterAll(async () => {
    alice?.close();
    bob?.close();
    await ks?.close();
    cleanup(root);
  });

  const outgoing = async (p: Profile, subject: string) => {
    const all = await p.ok('messages:list', {});
    const m = all.find((x) => x.direction === 'out' && x.subject === subject);
    if (!m) return expect.fail(`no outgoing message ${subject}`);
    return m;
  };

  it('alice sends: sent; bob syncs; alice syncs: delivered (and only the fetched message)', async () => {
    await alice.ok('messages:send', { to: ['bob'], subject: 'first', text: 'hello bob' });
    const sent = await alice.ok('sync:now', {});
    expect(sent).toMatchObject({ sent: 1, delivered: 0, itemsError: null });
    expect(await outgoing(alice, 'first')).toMatchObject({ state: 'sent', deliveredAt: null });

    // Not fetched yet: another sync of alice's leaves it sent.
    expect((await alice.ok('sync:now', {})).delivered).toBe(0);
    expect((await outgoing(alice, 'first')).state).toBe('sent');

    const received = await bob.ok('sync:now', {});
    expect(received).toMatchObject({ pulled: 1, received: 1 });

    // A second message bob has not fetched stays sent while the first becomes delivered.
    await alice.ok('messages:send', { to: ['bob'], subject: 'second', text: 'again' });
    const after = await alice.ok('sync:now', {});
    expect(after).toMatchObject({ sent: 1, delivered: 1 });
    const first = await outgoing(alice, 'first');
    expect(first.state).toBe('delivered');
    expect(first.deliveredAt).toEqual(expect.any(Number));
    expect((await outgoing(alice, 'second')).state).toBe('sent');
    // read returns the same state as the list.
    expect((await alice.ok('messages:read', { id: first.id })).state).toBe('delivered');

    await bob.ok('sync:now', {});
    expect((await alice.ok('sync:now', {})).delivered).toBe(1);
    expect((await outgoing(alice, 'second')).state).toBe('delivered');
    // Delivered stays delivered, and nothing is asked twice.
    expect((await alice.ok('sync:now', {})).delivered).toBe(0);
    expect((await outgoing(alice, 'first')).state).toBe('delivered');
    // Bob's incoming copy is just received.
    const inBob = (await bob.ok('messages:list', {})).filter((m) => m.direction === 'in');
    expect(inBob.map((m) => m.state)).toEqual(['received', 'received']);
  });

  it("an item shared by alice appears for bob after bob's plain sync:now", async () => {
    const item = await alice.ok('items:create', { content: { kind: 'note', title: 'Shared plan', text: 'meet at noon' } });
    await alice.ok('items:share', { identifier: item.identifier, to: ['bob'], role: 'read' });
    // alice's app-wide sync pushes the item and its grant (no items:sync call).
    expect((await alice.ok('sync:now', {})).itemsError).toBeNull();
    expect(await alice.ok('items:sharing', { identifier: item.identifier })).toMatchObject({ grants: [expect.objectContaining({ label: 'bob', synced: true })] });

    expect((await bob.ok('items:list', {})).map((i) => i.identifier)).not.toContain(item.identifier);
    const report = await bob.ok('sync:now', {});
    expect(report.itemsError).toBeNull();
    const listed = (await bob.ok('items:list', {})).find((i) => i.identifier === item.identifier);
    expect(listed).toMatchObject({ title: 'Shared plan', mine: false, role: 'read', sharedBy: 'alice' });
    expect((await bob.ok('items:open', { identifier: item.identifier })).content).toEqual({ kind: 'note', title: 'Shared plan', text: 'meet at noon' });
    expect((await bob.ok('sync:status', {})).lastError).toBeNull();
  });

  it('an item sync failure is reported in sync status; the message sync still succeeds', async () => {
    // This key service takes bodies up to 64 KiB: a note of 200 KiB of random text is refused (413) when pushed,
    // which fails the item sync, while messages (a few KiB) go on.
    await alice.ok('items:create', { content: { kind: 'note', title: 'Too big', text: randomBytes(150 * 1024).toString('base64') } });
    await alice.ok('messages:send', { to: ['bob'], subject: 'third', text: 'goes anyway' });
    const report = await alice.ok('sync:now', {});
    expect(report).toMatchObject({ sent: 1 });
    expect(report.itemsError).toMatch(/^Vault items: .*413/);
    expect((await outgoing(alice, 'third')).state).toBe('sent');
    const status = await alice.ok('sync:status', {});
    expect(status).toMatchObject({ online: true, pending: 0, lastError: report.itemsError });
    expect(status.lastSyncAt).toEqual(expect.any(Number));
    // The receipts still flow: bob fetches it, alice's next sync (items still failing) marks it delivered.
    await bob.ok('sync:now', {});
    const again = await alice.ok('sync:now', {});
    expect(again.delivered).toBe(1);
    expect(again.itemsError).toMatch(/^Vault items: /);
    expect((await outgoing(alice, 'third')).state).toBe('delivered');
  });
});

/**
 * After a restore on a new device (words, then the shares + PIN), registering
 * again and syncing brings back what the lost device had: vault items (own and
 * shared with the user), the grants on the user's items, the messages received
 * (the restored RSA key adopts the inbox the directory publishes for it) and
 * their senders as contacts (unverified: verifying is per device). Not back:
 * messages the lost device sent, contacts nobody wrote from. Real key service +
 * escrow instance on loopback.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { cleanup, newUser, openProfile, type Profile, syncUntilSent, tmp } from '../sync/helpers.js';

describe('restore, register again, sync: the lost device\'s data comes back', () => {
  const root = tmp('sealpost-restore-sync-');
  let ks: KeyService;
  let escrow: KeyService;
  let alice: Profile;
  let bob: Profile;
  let words = '';
  let ownId = '';
  let fromBobId = '';
  let bobFingerprint = '';
  const PIN = '482913';
  const restored: Profile[] = [];

  beforeAll(async () => {
    ks = await startKeyService({ db: path.join(root, 'ks.db') });
    escrow = await startKeyService({ db: path.join(root, 'escrow.db') });
    alice = await openProfile(path.join(root, 'alice'));
    await alice.ok('identity:create', { pin: PIN, rsaBits: 2048 });
    await alice.ok('device:register', { server: ks.url, appId: ks.app.appId, serverKey: ks.app.serverKey, clientKey: ks.app.clientKey, username: 'alice' });
    bob = await newUser(root, 'bob', ks);

    const b = await alice.ok('contacts:lookup', { username: 'bob' });
    await alice.ok('contacts:verify', { userId: b.userId, fingerprint: b.fingerprint });
    bobFingerprint = b.fingerprint;
    await bob.ok('contacts:lookup', { username: 'alice' });

    // Alice's own item, shared with bob; bob's item shared with alice.
    ownId = (await alice.ok('items:create', { content: { kind: 'note', title: 'Keys', text: 'spare key under the mat' } })).identifier;
    await alice.ok('items:share', { identifier: ownId, to: ['bob'], role: 'read' });
    await alice.ok('items:sync', {});
    fromBobId = (await bob.ok('items:create', { content: { kind: 'note', title: 'Wifi', text: 'bob-net / hunter2' } })).identifier;
    await bob.ok('items:share', { identifier: fromBobId, to: ['alice'], role: 'read', confirmUnverified: true });
    await bob.ok('items:sync', {});

    // Messages both ways; alice's device receives bob's.
    await bob.ok('messages:send', { to: ['alice'], subject: 'Hello', text: 'see you at eight' });
    await syncUntilSent(bob);
    await alice.ok('messages:send', { to: ['bob'], subject: 'Re: Hello', text: 'eight is fine' });
    await syncUntilSent(alice);
    await alice.ok('sync:now', {});
    await alice.ok('items:sync', {});

    const shown = await alice.ok('recovery:words', { pin: PIN });
    words = shown.words.join(' ');
    await alice.ok('recovery:confirm', { answers: shown.ask.map((position) => ({ position, word: shown.words[position - 1]! })) });
    await alice.ok('recovery:backup', { pin: PIN, escrow: { url: escrow.url, appId: escrow.app.appId, clientKey: escrow.app.clientKey } });
  });

  afterAll(async () => {
    for (const p of [alice, bob, ...restored]) p?.close();
    await ks?.close();
    await escrow?.close();
    cleanup(root);
  });

  async function restoreAndSync(name: string, extra: { words: string; pin: string } | { escrowClientKey: string; pin: string }): Promise<Profile> {
    const p = await openProfile(path.join(root, name));
    restored.push(p);
    await p.ok('recovery:restore', { server: ks.url, appId: ks.app.appId, clientKey: ks.app.clientKey, username: 'alice', ...extra });
    await p.ok('device:register', { server: ks.url, appId: ks.app.appId, serverKey: ks.app.serverKey, clientKey: ks.app.clientKey, username: 'alice' });
    expect(await p.ok('sync:now', {})).toMatchObject({ pulled: 1, received: 1, rejected: 0 });
    await p.ok('items:sync', {});
    return p;
  }

  async function expectBack(p: Profile): Promise<void> {
    const items = await p.ok('items:list', {});
    expect(items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ identifier: ownId, mine: true, role: 'owner', sharedWith: 1 }),
        expect.objectContaining({ identifier: fromBobId, mine: false }),
      ]),
    );
    expect((await p.ok('items:open', { identifier: ownId })).content).toMatchObject({ text: 'spare key under the mat' });
    expect((await p.ok('items:open', { identifier: fromBobId })).content).toMatchObject({ text: 'bob-net / hunter2' });
    const sharing = await p.ok('items:sharing', { identifier: ownId });
    expect(sharing.grants).toEqual([expect.objectContaining({ label: 'bob', role: 'read', synced: true })]);

    // The received message is back: the restored key reads the inbox the directory publishes for it.
    const inbox = await p.ok('messages:list', {});
    expect(inbox).toEqual([expect.objectContaining({ direction: 'in', peerName: 'bob', state: 'received', subject: 'Hello', text: 'see you at eight' })]);
    // Its sender is a contact again, from the directory's signed keys; verifying is to be done again on this device.
    const contacts = await p.ok('contacts:list', {});
    expect(contacts).toEqual([expect.objectContaining({ username: 'bob', fingerprint: bobFingerprint, verified: false })]);
  }

  it('with the words', async () => {
    await expectBack(await restoreAndSync('laptop-words', { words, pin: '1357' }));
  });

  it('with the shares + PIN', async () => {
    await expectBack(await restoreAndSync('laptop-shares', { escrowClientKey: escrow.app.clientKey, pin: PIN }));
  });
});

/**
 * Issue 7: key rotation keeps old and new messages readable. A and B exchange
 * messages, A rotates, B syncs and sees a signed key change (no alarm, still
 * verified), B's next message goes to the new key, A reads old and new messages,
 * and a message sealed to A's old key that arrives after the rotation still opens.
 * Forged key changes: key-rotation.security.test.ts.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelopeRecipients } from '../../../electron/engine/crypto/envelope.js';
import { keyId } from '../../../electron/engine/crypto/rsa.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { cleanup, newUser, openProfile, type Profile, syncUntilSent, tmp } from './helpers.js';

/** The recipients' key ids of the newest message a profile sent. */
function lastSentRecipients(p: Profile): string[] {
  const db = new Database(path.join(p.dir, 'vault.db'), { readonly: true });
  try {
    const row = db.prepare("SELECT envelope FROM messages WHERE direction = 'out' ORDER BY id DESC LIMIT 1").get() as { envelope: Buffer };
    return envelopeRecipients(new Uint8Array(row.envelope));
  } finally {
    db.close();
  }
}

describe('encryption-key rotation', () => {
  const root = tmp('sealpost-rotate-');
  let ks: KeyService;
  let alice: Profile;
  let bob: Profile;

  beforeAll(async () => {
    ks = await startKeyService({ db: path.join(root, 'ks.db') });
    alice = await newUser(root, 'alice', ks);
    bob = await newUser(root, 'bob', ks);
  });

  afterAll(async () => {
    alice?.close();
    bob?.close();
    await ks?.close();
    cleanup(root);
  });

  const texts = async (p: Profile) => (await p.ok('messages:list', {})).map((m) => ({ text: m.text, sender: m.sender, direction: m.direction }));

  it('rotation keeps old and new messages readable; contacts see a signed key change, not the alarm', async () => {
    const before = await alice.ok('identity:get', {});
    const aliceAtBob = await bob.ok('contacts:lookup', { username: 'alice' });
    await bob.ok('contacts:verify', { userId: aliceAtBob.userId, fingerprint: aliceAtBob.fingerprint });
    await alice.ok('contacts:lookup', { username: 'bob' });
    // A vault item sealed to the key about to be rotated out.
    const [container] = await alice.ok('vault:encrypt', { data: Buffer.from('kept in the vault').toString('base64') });

    // Before the rotation: one message each way.
    await alice.ok('messages:send', { to: ['bob'], text: 'from alice, before' });
    await bob.ok('messages:send', { to: ['alice'], text: 'from bob, before' });
    await syncUntilSent(alice);
    await syncUntilSent(bob);
    await alice.ok('sync:now', {});

    // Alice rotates.
    const rotated = await alice.ok('keys:rotate', { pin: '0' });
    expect(rotated).toMatchObject({ previousFingerprint: before.fingerprint, published: true, previousKeys: 1 });
    expect(rotated.fingerprint).not.toBe(before.fingerprint);
    const after = await alice.ok('identity:get', {});
    expect(after.fingerprint).toBe(rotated.fingerprint);
    expect(after.rsaBits).toBe(before.rsaBits);
    expect(after.did).toBe(before.did);

    // Bob has not looked Alice up again: his message is sealed to her old key and goes to her old inbox.
    await bob.ok('messages:send', { to: ['alice'], text: 'from bob, late, to the old key' });
    expect(lastSentRecipients(bob)).toContain(keyId(before.publicKeyPem));
    await syncUntilSent(bob);

    // Bob syncs his contact: a signed rotation, still verified, no alarm.
    const refreshed = await bob.ok('contacts:lookup', { username: 'alice' });
    expect(refreshed).toMatchObject({ fingerprint: rotated.fingerprint, verified: true, keyChanged: false, previousFingerprint: before.fingerprint, rotatedFrom: before.fingerprint });
    expect(refreshed.rotatedAt).toEqual(expect.any(Number));
    expect(refreshed.keyChangedAt).toBe(rotated.changedAt);

    // Bob's next message goes to the new key only.
    await bob.ok('messages:send', { to: ['alice'], text: 'from bob, after' });
    const recipients = lastSentRecipients(bob);
    expect(recipients).toContain(keyId(after.publicKeyPem));
    expect(recipients).not.toContain(keyId(before.publicKeyPem));
    await syncUntilSent(bob);

    // Alice after a restart (keys unsealed again): old, late and new all open, Bob's are from him.
    alice = await alice.reopen();
    await alice.ok('session:authenticate', { pin: '0' });
    await alice.ok('sync:now', {});
    const inbox = await texts(alice);
    expect(inbox).toEqual(
      expect.arrayContaining([
        { text: 'from alice, before', sender: 'self', direction: 'out' },
        { text: 'from bob, before', sender: 'unverified', direction: 'in' },
        { text: 'from bob, late, to the old key', sender: 'unverified', direction: 'in' },
        { text: 'from bob, after', sender: 'unverified', direction: 'in' },
      ]),
    );
    expect(inbox.filter((m) => m.sender === 'rejected')).toEqual([]);
    const [plain] = await alice.ok('vault:decrypt', { data: container });
    expect(Buffer.from(plain, 'base64').toString()).toBe('kept in the vault');

    // Alice writes with her new key; Bob reads it as verified (same identity, signed rotation).
    await alice.ok('messages:send', { to: ['bob'], text: 'from alice, after' });
    await syncUntilSent(alice);
    await bob.ok('sync:now', {});
    expect(await texts(bob)).toEqual(expect.arrayContaining([{ text: 'from alice, after', sender: 'verified', direction: 'in' }, { text: 'from alice, before', sender: 'verified', direction: 'in' }]));
  });

  it('a second rotation chains; the identity file carries every key', async () => {
    const second = await alice.ok('keys:rotate', { pin: '0' });
    expect(second.previousKeys).toBe(2);
    const exported = await alice.ok('identity:export', { passphrase: 'correct horse battery' });
    const copy = await openProfile(path.join(root, 'alice-copy'));
    try {
      await copy.ok('identity:import', { file: exported.file, passphrase: 'correct horse battery', pin: '0' });
      expect((await copy.ok('identity:get', {})).fingerprint).toBe(second.fingerprint);
      // Bob, still on the first rotated key, follows the chain without an alarm.
      const c = await bob.ok('contacts:lookup', { username: 'alice' });
      expect(c).toMatchObject({ fingerprint: second.fingerprint, verified: true, keyChanged: false });
    } finally {
      copy.close();
    }
  });

  it('a desktop set up from an identity file older than the last rotation is told so when it registers', async () => {
    const register = { server: ks.url, appId: ks.app.appId, serverKey: ks.app.serverKey, username: 'alice' };
    const older = await alice.ok('identity:export', { passphrase: 'correct horse battery' });
    const third = await alice.ok('keys:rotate', { pin: '0' });
    // The desktop that rotated holds the newest key: nothing to say.
    expect((await alice.ok('device:register', register)).newerKey).toBeNull();
    const stale = await openProfile(path.join(root, 'alice-stale'));
    try {
      await stale.ok('identity:import', { file: older.file, passphrase: 'correct horse battery', pin: '0' });
      expect((await stale.ok('identity:get', {})).fingerprint).not.toBe(third.fingerprint);
      const registered = await stale.ok('device:register', register);
      expect(registered.newerKey).toEqual({ fingerprint: third.fingerprint, changedAt: expect.any(String) });
      expect(Date.parse(registered.newerKey!.changedAt)).toBeGreaterThan(0);
      // Its registration did not move the directory back: contacts still seal to the newest key.
      const c = await bob.ok('contacts:lookup', { username: 'alice' });
      expect(c).toMatchObject({ fingerprint: third.fingerprint, verified: true, keyChanged: false });
    } finally {
      stale.close();
    }
  });
});

/**
 * Rotating while the key service cannot be reached: the new key is made and kept
 * (old messages still open), the signed change waits, and the next rotation (or
 * the next sync that reaches the key service) publishes that change instead of
 * making another key. Nothing sent meanwhile to the old key is lost.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultCode } from '../../../shared/codes.js';
import { readPublicIdentity, writePublicIdentity } from '../../../electron/engine/service/profile.js';
import { openVault } from '../../../electron/engine/vault/db.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { cleanup, newUser, openProfile, type Profile, syncUntilSent, tmp } from './helpers.js';

describe('rotation while offline', () => {
  const root = tmp('sealpost-rotate-offline-');
  const db = path.join(root, 'ks.db');
  let ks: KeyService;
  let alice: Profile;
  let bob: Profile;

  beforeAll(async () => {
    ks = await startKeyService({ db, jwtSecret: 'rotation-offline-test-secret-0123456789abcdef' });
    alice = await newUser(root, 'alice', ks);
    bob = await newUser(root, 'bob', ks);
    await bob.ok('contacts:lookup', { username: 'alice' });
  });

  afterAll(async () => {
    alice?.close();
    bob?.close();
    await ks?.close();
    cleanup(root);
  });

  it('keeps the change pending, then publishes it without making another key', async () => {
    const before = await alice.ok('identity:get', {});
    const port = Number(new URL(ks.url).port);
    const app = ks.app;
    await ks.close();

    const offline = await alice.ok('keys:rotate', { pin: '0' });
    expect(offline).toMatchObject({ published: false, previousFingerprint: before.fingerprint, previousKeys: 1 });
    expect((await alice.ok('identity:get', {})).fingerprint).toBe(offline.fingerprint);

    // Back online (same database, same address).
    const again = await startKeyService({ db, port, jwtSecret: 'rotation-offline-test-secret-0123456789abcdef' });
    ks = { ...again, app };
    // Bob still seals to the old key: delivered to the old inbox, which Alice still reads.
    await bob.ok('messages:send', { to: ['alice'], text: 'while alice was offline' });
    await syncUntilSent(bob);

    const online = await alice.ok('keys:rotate', { pin: '0' });
    expect(online).toMatchObject({ published: true, fingerprint: offline.fingerprint, previousKeys: 1 });
    const contact = await bob.ok('contacts:lookup', { username: 'alice' });
    expect(contact).toMatchObject({ fingerprint: offline.fingerprint, keyChanged: false });

    await alice.ok('sync:now', {});
    expect((await alice.ok('messages:list', {})).map((m) => [m.text, m.sender])).toContainEqual(['while alice was offline', 'unverified']);

    // Offline again: this time the first sync that reaches the key service publishes it.
    await ks.close();
    const second = await alice.ok('keys:rotate', { pin: '0' });
    expect(second).toMatchObject({ published: false, previousFingerprint: offline.fingerprint, previousKeys: 2 });
    ks = { ...(await startKeyService({ db, port, jwtSecret: 'rotation-offline-test-secret-0123456789abcdef' })), app };
    await alice.ok('sync:now', {});
    expect(await bob.ok('contacts:lookup', { username: 'alice' })).toMatchObject({ fingerprint: second.fingerprint, keyChanged: false });
    expect((await alice.ok('audit:list', { action: 'key.rotate' })).map((e) => e.details)).toContainEqual({ published: true });

    // A wrong PIN changes nothing; a profile without a registration is told to register.
    expect((await alice.call('keys:rotate', { pin: '9999' })).code).toBe(ResultCode.WrongPin);
    const lone = await openProfile(path.join(root, 'lone'));
    try {
      await lone.ok('identity:create', { pin: '0', rsaBits: 2048 });
      expect((await lone.call('keys:rotate', { pin: '0' })).code).toBe(ResultCode.DeviceUnregistered);
    } finally {
      lone.close();
    }
  });

  it('a crash between sealing the new key and writing the public identity is repaired and published by the next sync', async () => {
    let carol = await newUser(root, 'carol', ks);
    // Bob knows carol's first key, so the later lookup is a key change he must accept as signed.
    expect((await bob.ok('contacts:lookup', { username: 'carol' })).keyChanged).toBe(false);
    const vaultOf = (dir: string) => openVault(dir);
    let v = vaultOf(carol.dir);
    const before = readPublicIdentity(v.db)!;
    v.close();
    const port = Number(new URL(ks.url).port);
    const app = ks.app;
    await ks.close();
    const rotated = await carol.ok('keys:rotate', { pin: '0' });
    expect(rotated.published).toBe(false);

    // The crash: the keychain holds the new key, the public identity is the one from before.
    carol.close();
    v = vaultOf(carol.dir);
    writePublicIdentity(v.db, before, Date.now());
    v.close();
    carol = await openProfile(carol.dir);
    try {
      await carol.ok('session:authenticate', { pin: '0' });
      expect((await carol.ok('identity:get', {})).fingerprint).toBe(before.fingerprint);

      ks = { ...(await startKeyService({ db, port, jwtSecret: 'rotation-offline-test-secret-0123456789abcdef' })), app };
      await carol.ok('sync:now', {});
      expect((await carol.ok('identity:get', {})).fingerprint).toBe(rotated.fingerprint);
      expect(await bob.ok('contacts:lookup', { username: 'carol' })).toMatchObject({ fingerprint: rotated.fingerprint, keyChanged: false });
    } finally {
      carol.close();
    }
  });
});

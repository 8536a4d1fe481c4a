/**
 * Key rotation and recovery: after a rotation the full backup on the key service
 * is deposited again with every key, so restoring with the recovery words gives
 * the new key and still opens what was sealed to the old one. A restored device,
 * once registered, also reads the inbox of the rotated-out key: a message sent
 * there before the rotation, never pulled by the old device, arrives.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealEnvelope } from '../../../electron/engine/crypto/envelope.js';
import { identityFromSeed } from '../../../electron/engine/crypto/identity.js';
import { newSeed } from '../../../electron/engine/crypto/seed.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { cleanup, openProfile, type Profile, tmp } from '../sync/helpers.js';

describe('rotation and recovery', () => {
  const root = tmp('sealpost-rotate-recovery-');
  let ks: KeyService;
  let escrow: KeyService;
  let alice: Profile;
  let bob: Profile;
  const PIN = '731904';

  beforeAll(async () => {
    ks = await startKeyService({ db: path.join(root, 'ks.db') });
    escrow = await startKeyService({ db: path.join(root, 'escrow.db') });
    alice = await openProfile(path.join(root, 'alice'));
    await alice.ok('identity:create', { pin: PIN, rsaBits: 2048 });
    await alice.ok('device:register', { server: ks.url, appId: ks.app.appId, serverKey: ks.app.serverKey, clientKey: ks.app.clientKey, username: 'alice' });
    bob = await openProfile(path.join(root, 'bob'));
    await bob.ok('identity:create', { pin: PIN, rsaBits: 2048 });
    await bob.ok('device:register', { server: ks.url, appId: ks.app.appId, serverKey: ks.app.serverKey, clientKey: ks.app.clientKey, username: 'bob' });
  });

  afterAll(async () => {
    alice?.close();
    bob?.close();
    await ks?.close();
    await escrow?.close();
    cleanup(root);
  });

  it('the backup is renewed with both keys; the words restore the new key and old sealed data still opens', async () => {
    const { words } = await alice.ok('recovery:words', { pin: PIN });
    await alice.ok('recovery:backup', { pin: PIN, escrow: { url: escrow.url, appId: escrow.app.appId, clientKey: escrow.app.clientKey } });
    const backedUp = (await alice.ok('recovery:status', {})).backedUpAt!;
    const old = await alice.ok('identity:get', {});
    // Someone seals a note to the key that is about to be rotated out.
    const stranger = identityFromSeed(newSeed());
    const note = sealEnvelope({ body: 'sealed to the old key', sender: { secretKey: stranger.secretKey, publicKey: stranger.publicKey, fingerprint: 'a'.repeat(64) }, recipients: [old.publicKeyPem] });

    // Bob writes to the old key's inbox; alice rotates before she ever pulls it.
    await bob.ok('contacts:lookup', { username: 'alice' });
    await bob.ok('messages:send', { to: ['alice'], text: 'sent before the rotation' });
    await bob.ok('sync:now', {});

    const rotated = await alice.ok('keys:rotate', { pin: PIN });
    expect(rotated.published).toBe(true);
    expect((await alice.ok('recovery:status', {})).backedUpAt).toBeGreaterThanOrEqual(backedUp);

    const restored = await openProfile(path.join(root, 'restored'));
    try {
      await restored.ok('recovery:restore', { server: ks.url, appId: ks.app.appId, clientKey: ks.app.clientKey, username: 'alice', pin: '2580', words: words.join(' ') });
      expect((await restored.ok('identity:get', {})).fingerprint).toBe(rotated.fingerprint);
      const opened = await restored.service.files.openBytes(note);
      expect(Buffer.from(opened.body).toString()).toBe('sealed to the old key');

      await restored.ok('device:register', { server: ks.url, appId: ks.app.appId, serverKey: ks.app.serverKey, clientKey: ks.app.clientKey, username: 'alice' });
      await restored.ok('contacts:lookup', { username: 'bob' });
      await restored.ok('sync:now', {});
      const texts = (await restored.ok('messages:list', {})).map((m) => m.text);
      expect(texts).toContain('sent before the rotation');
    } finally {
      restored.close();
    }
  });
});

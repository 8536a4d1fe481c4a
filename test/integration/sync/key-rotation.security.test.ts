/**
 * Forged encryption-key changes (issue 7): the key service refuses a change its
 * user's identity did not sign; a lying directory that serves one anyway (or a
 * current key no readable change leads to) raises the changed-key alarm on the
 * client: the contact loses "verified" and is not shown as rotated.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signKeyChange } from '../../../electron/engine/crypto/key-change.js';
import type { Directory } from '../../../electron/engine/sync/client.js';
import { newerKeyThanOurs } from '../../../electron/engine/sync/registration.js';
import { makeIdentity, startKeyService, type KeyService, type RegisteredDevice } from '../../helpers/key-service.js';
import { cleanup, newUser, type Profile, tmp } from './helpers.js';

describe('forged key changes', () => {
  const root = tmp('sealpost-rotate-forged-');
  let ks: KeyService;
  let bob: Profile;

  afterAll(async () => {
    bob?.close();
    await ks?.close();
    cleanup(root);
  });

  let carol: RegisteredDevice;

  beforeAll(async () => {
    ks = await startKeyService({ db: path.join(root, 'ks.db') });
    bob = await newUser(root, 'bob', ks);
    carol = await ks.registerDevice('carol');
    const k = await ks.request('POST', '/v1/keys', { jwt: carol.jwt, body: { publickey: carol.rsaPublicPem, privatekeyhash: carol.privateKeyHash, publish: true } });
    expect(k.status, k.text).toBe(200);
    const c = await bob.ok('contacts:lookup', { username: 'carol' });
    await bob.ok('contacts:verify', { userId: c.userId, fingerprint: c.fingerprint });
  });

  function forgedKey() {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return {
      pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      privateKeyHash: createHash('sha256').update(privateKey.export({ type: 'pkcs8', format: 'der' })).digest('hex'),
    };
  }

  it('the key service refuses a change not signed by the user\'s identity', async () => {
    const key = forgedKey();
    await ks.request('POST', '/v1/keys', { jwt: carol.jwt, body: { publickey: key.pem, privatekeyhash: key.privateKeyHash, publish: true } });
    const good = signKeyChange(carol.signingSecretKey, { oldFingerprint: carol.pkg.fingerprint, newPublicKey: key.pem, changedAt: Date.now() });
    const forged = { ...good, signature: signKeyChange(makeIdentity().signingSecretKey, { oldFingerprint: carol.pkg.fingerprint, newPublicKey: key.pem, changedAt: Date.now() }).signature };
    const r = await ks.request<{ code: string }>('POST', '/v1/users/me/key-changes', { jwt: carol.jwt, body: { keyChange: forged } });
    expect(r.status, r.text).toBe(403);
    expect(r.json.code).toBe('key_change_not_signed');
  });

  it('a forged change served by the directory raises the changed-key alarm on the client', async () => {
    // A lying directory: a change Carol's identity never signed, stored behind the route's back.
    const key = forgedKey();
    const stranger = makeIdentity();
    const unsigned = signKeyChange(stranger.signingSecretKey, { oldFingerprint: carol.pkg.fingerprint, newPublicKey: key.pem, changedAt: Date.now() });
    const forged = { ...unsigned, did: carol.pkg.did };
    await ks.request('POST', '/v1/keys', { jwt: carol.jwt, body: { publickey: key.pem, privatekeyhash: key.privateKeyHash, publish: true } });
    const stored = await ks.server.store.insertKeyChange(ks.app.appId, carol.userid, {
      oldFingerprint: forged.oldFingerprint,
      newFingerprint: forged.newFingerprint,
      statementJson: JSON.stringify(forged),
      createdAt: Date.now(),
    });
    expect(stored).toBe(true);
    const c = await bob.ok('contacts:lookup', { username: 'carol' });
    expect(c).toMatchObject({ keyChanged: true, verified: false, previousFingerprint: carol.pkg.fingerprint, rotatedAt: null });
    expect(c.fingerprint).not.toBe(carol.pkg.fingerprint);
  });

  it("a change the identity did not sign never tells a desktop that its key is out of date", () => {
    const key = forgedKey();
    const changedAt = Date.now();
    const signed = signKeyChange(carol.signingSecretKey, { oldFingerprint: carol.pkg.fingerprint, newPublicKey: key.pem, changedAt });
    const forged = { ...signKeyChange(makeIdentity().signingSecretKey, { oldFingerprint: carol.pkg.fingerprint, newPublicKey: key.pem, changedAt }), did: carol.pkg.did };
    const entry = (keyChanges: unknown[]) => ({ keyChanges }) as unknown as Directory;
    expect(newerKeyThanOurs(entry([signed]), carol.pkg)).toEqual({ fingerprint: signed.newFingerprint, changedAt: signed.changedAt });
    expect(newerKeyThanOurs(entry([forged]), carol.pkg)).toBeNull();
    expect(newerKeyThanOurs(entry([]), carol.pkg)).toBeNull();
  });

  it('a current key that no change the client can read leads to raises the alarm too', async () => {
    const dave = await ks.registerDevice('dave');
    await ks.request('POST', '/v1/keys', { jwt: dave.jwt, body: { publickey: dave.rsaPublicPem, privatekeyhash: dave.privateKeyHash, publish: true } });
    const known = await bob.ok('contacts:lookup', { username: 'dave' });
    await bob.ok('contacts:verify', { userId: known.userId, fingerprint: known.fingerprint });
    // Unsigned: the client drops it as malformed, but the directory's currentKey follows it.
    const key = forgedKey();
    await ks.request('POST', '/v1/keys', { jwt: dave.jwt, body: { publickey: key.pem, privatekeyhash: key.privateKeyHash, publish: true } });
    const { signature: _dropped, ...unsigned } = signKeyChange(dave.signingSecretKey, { oldFingerprint: dave.pkg.fingerprint, newPublicKey: key.pem, changedAt: Date.now() });
    expect(await ks.server.store.insertKeyChange(ks.app.appId, dave.userid, { oldFingerprint: unsigned.oldFingerprint, newFingerprint: unsigned.newFingerprint, statementJson: JSON.stringify(unsigned), createdAt: Date.now() })).toBe(true);
    const c = await bob.ok('contacts:lookup', { username: 'dave' });
    expect(c).toMatchObject({ keyChanged: true, verified: false, previousFingerprint: dave.pkg.fingerprint, fingerprint: unsigned.newFingerprint });
  });
});

/**
 * Key changes on the key service (POST /v1/users/me/key-changes and the
 * directory's currentKey / keyChanges), part of the API suite run against
 * SQLite and PostgreSQL (api-suite.ts).
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DirectoryResponse } from '../../../shared/wire.js';
import { signKeyChange } from '../../../electron/engine/crypto/key-change.js';
import { makeIdentity, type KeyService, type RegisteredDevice } from '../../helpers/key-service.js';
import { expectError } from './api-shared.js';

function newRsa() {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const privateKeyHash = createHash('sha256').update(privateKey.export({ type: 'pkcs8', format: 'der' })).digest('hex');
  return { pem, privateKeyHash };
}

export function defineKeyChangeTests(service: () => KeyService): void {
  describe('encryption-key changes', () => {
    let ks: KeyService;
    let erin: RegisteredDevice;
    let firstInbox: string;

    /** Publishes a key as an inbox of the device's user. */
    const publish = async (device: RegisteredDevice, key: { pem: string; privateKeyHash: string }) => {
      const r = await ks.request<{ token: string }>('POST', '/v1/keys', { jwt: device.jwt, body: { publickey: key.pem, privatekeyhash: key.privateKeyHash, publish: true } });
      expect(r.status, r.text).toBe(200);
      return r.json.token;
    };
    const post = (device: RegisteredDevice, keyChange: unknown) => ks.request('POST', '/v1/users/me/key-changes', { jwt: device.jwt, body: { keyChange } });

    beforeAll(async () => {
      ks = service();
      erin = await ks.registerDevice('erin-rotates');
      firstInbox = await publish(erin, { pem: erin.rsaPublicPem, privateKeyHash: erin.privateKeyHash });
    });

    it('a device publishes a signed key change; the directory lists the chain and the new current key with its inbox', async () => {
      const before = DirectoryResponse.parse((await ks.request('GET', '/v1/users/erin-rotates', { clientKey: ks.app.clientKey })).json);
      expect(before.keyChanges).toEqual([]);
      expect(before.currentKey).toMatchObject({ fingerprint: erin.pkg.fingerprint, inbox: firstInbox, changedAt: null });

      const next = newRsa();
      const inbox = await publish(erin, next);
      const change = signKeyChange(erin.signingSecretKey, { oldFingerprint: erin.pkg.fingerprint, newPublicKey: next.pem, changedAt: Date.now() });
      const r = await post(erin, change);
      expect(r.status, r.text).toBe(200);
      expect(r.json).toEqual({ did: erin.pkg.did, fingerprint: change.newFingerprint, changes: 1 });

      const doc = DirectoryResponse.parse((await ks.request('GET', `/v1/users/${erin.userid}`, { jwt: erin.jwt })).json);
      expect(doc.keyChanges).toEqual([change]);
      expect(doc.currentKey).toMatchObject({ fingerprint: change.newFingerprint, inbox, publicKeyPem: change.newPublicKey });
      expect(doc.currentKey!.changedAt).not.toBeNull();
      // The old key and its inbox stay listed: messages sealed to it still arrive.
      expect(doc.encryptionKeys.map((k) => k.inbox)).toEqual(expect.arrayContaining([firstInbox, inbox]));

      // A second rotation chains from the new key; the same old key cannot be rotated twice.
      const third = newRsa();
      await publish(erin, third);
      expectError(await post(erin, signKeyChange(erin.signingSecretKey, { oldFingerprint: erin.pkg.fingerprint, newPublicKey: third.pem, changedAt: Date.now() })), 409, 'stale_key_change');
      const chained = signKeyChange(erin.signingSecretKey, { oldFingerprint: change.newFingerprint, newPublicKey: third.pem, changedAt: Date.now() });
      expect((await post(erin, chained)).status).toBe(200);
      const after = DirectoryResponse.parse((await ks.request('GET', '/v1/users/erin-rotates', { clientKey: ks.app.clientKey })).json);
      expect(after.keyChanges).toEqual([change, chained]);
      expect(after.currentKey!.fingerprint).toBe(chained.newFingerprint);
      const xml = await ks.request('GET', '/v1/users/erin-rotates?format=xml', { clientKey: ks.app.clientKey });
      expect(xml.status, xml.text).toBe(200);
      expect(xml.text).toContain(chained.newFingerprint);
      // Back to a key used before: refused.
      expectError(await post(erin, signKeyChange(erin.signingSecretKey, { oldFingerprint: chained.newFingerprint, newPublicKey: erin.rsaPublicPem, changedAt: Date.now() })), 409, 'key_reused');
    });

    it('refuses a change not signed by the user\'s identity (403), malformed or inconsistent (400), unpublished (409), without a device JWT (401)', async () => {
      const frank = await ks.registerDevice('frank-rotates');
      const next = newRsa();
      await publish(frank, next);
      const fields = { oldFingerprint: frank.pkg.fingerprint, newPublicKey: next.pem, changedAt: Date.now() };

      // Signed by another identity: names another did.
      expectError(await post(frank, signKeyChange(makeIdentity().signingSecretKey, fields)), 403, 'key_change_not_signed');
      // Frank's did but a signature by someone else.
      const good = signKeyChange(frank.signingSecretKey, fields);
      const forged = { ...good, signature: signKeyChange(makeIdentity().signingSecretKey, fields).signature };
      expectError(await post(frank, forged), 403, 'key_change_not_signed');
      // Changed after signing: the time, or the new key (fingerprint no longer matches).
      expectError(await post(frank, { ...good, changedAt: new Date(0).toISOString() }), 403, 'key_change_not_signed');
      expectError(await post(frank, { ...good, newPublicKey: newRsa().pem }), 400, 'invalid_key_change');
      expectError(await post(frank, { ...good, extra: 1 }), 400, 'invalid_key_change');
      expectError(await post(frank, 'not a statement'), 400, 'invalid_key_change');
      // Signed, but the key has no inbox yet.
      const unpublished = signKeyChange(frank.signingSecretKey, { ...fields, newPublicKey: newRsa().pem });
      expectError(await post(frank, unpublished), 409, 'key_not_published');
      // Another user's device cannot post Frank's change (it names another identity than its user's).
      expectError(await post(erin, good), 403, 'key_change_not_signed');
      expect((await ks.request('POST', '/v1/users/me/key-changes', { clientKey: ks.app.clientKey, body: { keyChange: good } })).status).toBe(401);

      const doc = DirectoryResponse.parse((await ks.request('GET', '/v1/users/frank-rotates', { clientKey: ks.app.clientKey })).json);
      expect(doc.keyChanges).toEqual([]);
      expect(doc.currentKey!.fingerprint).toBe(frank.pkg.fingerprint);
      expect((await post(frank, good)).status).toBe(200);
    });
  });
}

/**
 * API suite part: the directory (DID documents) and devices (delegations, agent
 * tokens, listing and revoking one's own devices). Together because delegations are what the directory serves.
 */
import { createPublicKey } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DirectoryResponse } from '../../../shared/wire.js';
import { OwnDevicesResponse } from '../../../shared/devices-wire.js';
import { makeAgentToken, newDeviceKey, signDelegation, type DeviceKey } from '../../../electron/engine/crypto/delegation.js';
import { apiRequest, makeDevice, makeIdentity, type RegisteredDevice } from '../../helpers/key-service.js';
import { expectError, type ApiState } from './api-shared.js';

/**
 * For the several-instances tests of each store: `dev` publishes a delegation
 * through instance A; an agent token used on A is a replay on B (the used jtis
 * are in the shared database), and a fresh one is accepted on B.
 */
export async function expectAgentReplayRefusedAcross(aUrl: string, bUrl: string, appId: string, dev: RegisteredDevice): Promise<void> {
  const key = newDeviceKey();
  const delegation = signDelegation(dev.signingSecretKey, { did: dev.pkg.did, deviceId: dev.deviceId, deviceDid: key.did, issuedAt: new Date().toISOString() });
  const published = await apiRequest(aUrl, 'POST', `/v1/devices/${dev.deviceId}/delegation`, { jwt: dev.jwt, body: { delegation } });
  expect(published.status, published.text).toBe(200);
  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
  const token = makeAgentToken(key, { sub: dev.pkg.did, aud: appId });
  expect((await apiRequest(aUrl, 'GET', `/v1/users/${dev.userid}`, bearer(token))).status).toBe(200);
  expectError(await apiRequest(bUrl, 'GET', `/v1/users/${dev.userid}`, bearer(token)), 401, 'token_replayed');
  expect((await apiRequest(bUrl, 'GET', `/v1/users/${dev.userid}`, bearer(makeAgentToken(key, { sub: dev.pkg.did, aud: appId })))).status).toBe(200);
}

export function defineDirectoryTests(state: () => ApiState): void {
  describe('directory', () => {
    let { ks, alice, inbox } = {} as ApiState;
    beforeAll(() => void ({ ks, alice, inbox } = state()));

    it('serves a DID document by username or user id: identity key, encryption keys, inbox, devices', async () => {
      for (const who of ['alice', alice.userid]) {
        const r = await ks.request('GET', `/v1/users/${who}`, { clientKey: ks.app.clientKey });
        const doc = DirectoryResponse.parse(r.json);
        expect(doc.id).toBe(alice.pkg.did);
        expect(doc.userid).toBe(alice.userid);
        expect(doc.verificationMethod[0]!.publicKeyMultibase).toBe(alice.pkg.did.slice('did:key:'.length));
        expect(doc.devices).toEqual([expect.objectContaining({ deviceId: alice.deviceId, fingerprint: alice.pkg.fingerprint, revoked: false, package: alice.pkg })]);
        expect(doc.encryptionKeys).toEqual([expect.objectContaining({ fingerprint: alice.pkg.fingerprint, inbox })]);
        expect(createPublicKey(doc.encryptionKeys[0]!.publicKeyPem).export({ type: 'spki', format: 'pem' })).toBe(createPublicKey(alice.rsaPublicPem).export({ type: 'spki', format: 'pem' }));
      }
      expectError(await ks.request('GET', '/v1/users/nobody-here', { jwt: alice.jwt }), 404, 'unknown_user');
      expect((await ks.request('GET', '/v1/users/alice', { serverKey: ks.app.serverKey })).status).toBe(200);
    });
  });
}

export function defineDeviceTests(state: () => ApiState): void {
  describe('device delegation (IOTICS)', () => {
    let { ks, alice, bob, inbox } = {} as ApiState;
    beforeAll(() => void ({ ks, alice, bob, inbox } = state()));

    let dana: RegisteredDevice;
    let danaKey: DeviceKey;
    const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    const delegate = (device: RegisteredDevice, key: DeviceKey, identitySecretKey = device.signingSecretKey) =>
      signDelegation(identitySecretKey, { did: device.pkg.did, deviceId: device.deviceId, deviceDid: key.did, issuedAt: new Date().toISOString() });

    beforeAll(async () => {
      dana = await ks.registerDevice('dana');
      danaKey = newDeviceKey();
    });

    it('a device publishes the delegation its identity key signed; the directory serves it', async () => {
      const delegation = delegate(dana, danaKey);
      const r = await ks.request('POST', `/v1/devices/${dana.deviceId}/delegation`, { jwt: dana.jwt, body: { delegation } });
      expect(r.status, r.text).toBe(200);
      expect(r.json).toEqual({ deviceId: dana.deviceId, deviceDid: danaKey.did });
      const doc = DirectoryResponse.parse((await ks.request('GET', '/v1/users/dana', { clientKey: ks.app.clientKey })).json);
      expect(doc.id).toBe(dana.pkg.did);
      expect(doc.verificationMethod[0]!.publicKeyMultibase).toBe(dana.pkg.did.slice('did:key:'.length));
      expect(doc.encryptionKeys).toHaveLength(1);
      expect(doc.devices).toEqual([expect.objectContaining({ deviceId: dana.deviceId, deviceDid: danaKey.did, delegation, revoked: false })]);
    });

    it('refuses a delegation not signed by the identity, for another device, or by another device', async () => {
      const key = newDeviceKey();
      const forged = delegate(dana, key, makeIdentity().signingSecretKey);
      expectError(await ks.request('POST', `/v1/devices/${dana.deviceId}/delegation`, { jwt: dana.jwt, body: { delegation: forged } }), 400, 'invalid_delegation');
      const tampered = { ...delegate(dana, key), deviceDid: newDeviceKey().did };
      expectError(await ks.request('POST', `/v1/devices/${dana.deviceId}/delegation`, { jwt: dana.jwt, body: { delegation: tampered } }), 400, 'invalid_delegation');
      const second = await ks.registerDevice('dana', makeDevice({ signingSecretKey: dana.signingSecretKey, signingPublicKey: dana.signingPublicKey, rsaPublicPem: dana.rsaPublicPem, rsaPrivateKey: dana.rsaPrivateKey }));
      const forFirst = delegate(dana, key);
      expectError(await ks.request('POST', `/v1/devices/${dana.deviceId}/delegation`, { jwt: second.jwt, body: { delegation: forFirst } }), 403, 'not_this_device');
      expectError(await ks.request('POST', `/v1/devices/${second.deviceId}/delegation`, { jwt: second.jwt, body: { delegation: forFirst } }), 400, 'invalid_delegation');
      expectError(await ks.request('POST', `/v1/devices/${bob.deviceId}/delegation`, { jwt: bob.jwt, body: { delegation: { ...forFirst, deviceId: bob.deviceId } } }), 400, 'invalid_delegation');
      expectError(await ks.request('POST', `/v1/devices/${second.deviceId}/delegation`, { jwt: second.jwt, body: { delegation: delegate(second, danaKey) } }), 409, 'device_key_taken');
      expectError(await ks.request('POST', `/v1/devices/${dana.deviceId}/delegation`, { clientKey: ks.app.clientKey, body: { delegation: forFirst } }), 401, 'wrong_credential');
    });

    it('an agent token signed by the delegated device key is accepted on key routes, once', async () => {
      const token = makeAgentToken(danaKey, { sub: dana.pkg.did, aud: ks.app.appId, ttlSeconds: 60 });
      const r = await ks.request('GET', `/v1/keys/${inbox}`, bearer(token));
      expect(r.status, r.text).toBe(200);
      expectError(await ks.request('GET', `/v1/keys/${inbox}`, bearer(token)), 401, 'token_replayed');
      const own = await ks.request('GET', '/v1/users/dana', bearer(makeAgentToken(danaKey, { sub: dana.pkg.did, aud: ks.app.appId })));
      expect(own.status, own.text).toBe(200);
    });

    it('refuses expired, forged, wrong-audience, wrong-subject and undelegated agent tokens with 401 and a code', async () => {
      const expired = makeAgentToken(danaKey, { sub: dana.pkg.did, aud: ks.app.appId, ttlSeconds: 60, now: Date.now() - 3_600_000 });
      expectError(await ks.request('GET', `/v1/keys/${inbox}`, bearer(expired)), 401, 'token_expired');
      const valid = makeAgentToken(danaKey, { sub: dana.pkg.did, aud: ks.app.appId });
      const [h, p] = valid.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
      const otherSig = makeAgentToken(newDeviceKey(), { sub: dana.pkg.did, aud: ks.app.appId }).split('.')[2]!;
      expectError(await ks.request('GET', `/v1/keys/${inbox}`, bearer(`${h}.${p}.${otherSig}`)), 401, 'invalid_token');
      const longer = Buffer.from(JSON.stringify({ ...claims, exp: Number(claims.exp) + 60 })).toString('base64url');
      expectError(await ks.request('GET', `/v1/keys/${inbox}`, bearer(`${h}.${longer}.${valid.split('.')[2]!}`)), 401, 'invalid_token');
      expectError(await ks.request('GET', `/v1/keys/${inbox}`, bearer(makeAgentToken(danaKey, { sub: dana.pkg.did, aud: 'another-app' }))), 401, 'invalid_token');
      expectError(await ks.request('GET', `/v1/keys/${inbox}`, bearer(makeAgentToken(danaKey, { sub: alice.pkg.did, aud: ks.app.appId }))), 401, 'invalid_token');
      expectError(await ks.request('GET', `/v1/keys/${inbox}`, bearer(makeAgentToken(newDeviceKey(), { sub: dana.pkg.did, aud: ks.app.appId }))), 401, 'invalid_token');
      const none = `${Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'JWT', kid: 'x' })).toString('base64url')}.${p}.${valid.split('.')[2]!}`;
      expectError(await ks.request('GET', `/v1/keys/${inbox}`, bearer(none)), 401, 'invalid_token');
      // None of the refused tokens used up the valid one's jti.
      expect((await ks.request('GET', `/v1/keys/${inbox}`, bearer(valid))).status).toBe(200);
    });

    it('after the device is revoked its agent tokens are refused; the directory shows it revoked', async () => {
      const erin = await ks.registerDevice('erin');
      const key = newDeviceKey();
      expect((await ks.request('POST', `/v1/devices/${erin.deviceId}/delegation`, { jwt: erin.jwt, body: { delegation: delegate(erin, key) } })).status).toBe(200);
      expect((await ks.request('GET', `/v1/keys/${inbox}`, bearer(makeAgentToken(key, { sub: erin.pkg.did, aud: ks.app.appId })))).status).toBe(200);
      await ks.server.admin.revokeDevice(ks.app.appId, erin.deviceId);
      expectError(await ks.request('GET', `/v1/keys/${inbox}`, bearer(makeAgentToken(key, { sub: erin.pkg.did, aud: ks.app.appId }))), 403, 'device_revoked');
      const doc = DirectoryResponse.parse((await ks.request('GET', '/v1/users/erin', { clientKey: ks.app.clientKey })).json);
      expect(doc.devices).toEqual([expect.objectContaining({ deviceId: erin.deviceId, deviceDid: key.did, revoked: true, delegation: null })]);
    });

    it("a user lists their own devices and revokes one from another device; the revoked one is refused from then on", async () => {
      const frank = await ks.registerDevice('frank');
      const laptop = await ks.registerDevice('frank', makeDevice({ signingSecretKey: frank.signingSecretKey, signingPublicKey: frank.signingPublicKey, rsaPublicPem: frank.rsaPublicPem, rsaPrivateKey: frank.rsaPrivateKey }));
      const laptopKey = newDeviceKey();
      expect((await ks.request('POST', `/v1/devices/${laptop.deviceId}/delegation`, { jwt: laptop.jwt, body: { delegation: delegate(laptop, laptopKey) } })).status).toBe(200);

      const listed = OwnDevicesResponse.parse((await ks.request('GET', '/v1/devices', { jwt: frank.jwt })).json);
      expect(listed.devices).toHaveLength(2);
      expect(listed.devices.find((d) => d.deviceId === frank.deviceId)).toMatchObject({ current: true, revokedAt: null, deviceDid: null });
      expect(listed.devices.find((d) => d.deviceId === laptop.deviceId)).toMatchObject({ current: false, revokedAt: null, deviceDid: laptopKey.did });
      // An agent token is a user credential here too.
      const viaAgent = await ks.request('GET', '/v1/devices', bearer(makeAgentToken(laptopKey, { sub: laptop.pkg.did, aud: ks.app.appId })));
      expect(OwnDevicesResponse.parse(viaAgent.json).devices.find((d) => d.current)?.deviceId).toBe(laptop.deviceId);

      // Nobody else's devices: another user's id answers like an unknown one; a client key names no user.
      expectError(await ks.request('POST', `/v1/devices/${laptop.deviceId}/revoke`, { jwt: alice.jwt }), 404, 'unknown_device');
      expectError(await ks.request('POST', `/v1/devices/${'0'.repeat(32)}/revoke`, { jwt: frank.jwt }), 404, 'unknown_device');
      expectError(await ks.request('POST', '/v1/devices/not-hex/revoke', { jwt: frank.jwt }), 400);
      expectError(await ks.request('GET', '/v1/devices', { clientKey: ks.app.clientKey }), 401, 'wrong_credential');

      const revoked = await ks.request<{ deviceId: string; revokedAt: string }>('POST', `/v1/devices/${laptop.deviceId}/revoke`, { jwt: frank.jwt });
      expect(revoked.status, revoked.text).toBe(200);
      expect(revoked.json.deviceId).toBe(laptop.deviceId);
      const again = await ks.request<{ revokedAt: string }>('POST', `/v1/devices/${laptop.deviceId}/revoke`, { jwt: frank.jwt });
      expect(again.json.revokedAt).toBe(revoked.json.revokedAt);

      expectError(await ks.request('GET', `/v1/keys/${inbox}`, { jwt: laptop.jwt }), 403, 'device_revoked');
      expectError(await ks.request('GET', `/v1/keys/${inbox}`, bearer(makeAgentToken(laptopKey, { sub: laptop.pkg.did, aud: ks.app.appId }))), 403, 'device_revoked');
      expectError(await ks.request('POST', `/v1/devices/${frank.deviceId}/revoke`, { jwt: laptop.jwt }), 403, 'device_revoked');
      const after = OwnDevicesResponse.parse((await ks.request('GET', '/v1/devices', { jwt: frank.jwt })).json);
      expect(after.devices.find((d) => d.deviceId === laptop.deviceId)?.revokedAt).toBe(revoked.json.revokedAt);
      const doc = DirectoryResponse.parse((await ks.request('GET', '/v1/users/frank', { clientKey: ks.app.clientKey })).json);
      expect(doc.devices.find((d) => d.deviceId === laptop.deviceId)?.revoked).toBe(true);
      const audit = await ks.server.store.listAudit(ks.app.appId, null, 0, 100_000);
      expect(audit.some((e) => e.action === 'devices.revoke' && e.deviceId === frank.deviceId && e.target === `device:${laptop.deviceId}`)).toBe(true);
    });
  });
}

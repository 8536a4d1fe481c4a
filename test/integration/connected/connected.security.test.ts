/**
 * Connected apps, security (issue 17): every way around the user's decision is
 * refused with a clear error, and the key service never holds a personal key in
 * the clear (its database file and its logs are searched for the key's bytes).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { challengeBytes, type ApprovalChallenge, type SealedKey } from '../../../shared/connected-wire.js';
import { sealedKeyHash, sealForApp } from '../../../electron/engine/crypto/connected-app-key.js';
import { didKeyOf } from '../../../server/crypto/device-package.js';
import { ConnectedAdmin } from '../../../server/connected/admin.js';
import { makeDevice, makeIdentity, startKeyService, type KeyService, type RegisteredDevice } from '../../helpers/key-service.js';
import { cleanup, newUser, type Profile, tmp } from '../sync/helpers.js';
import { addApp, transitKeyPair, waitPending, type TestApp } from './helpers.js';

describe('connected apps: security', () => {
  let ks: KeyService;
  let root: string;
  let crm: TestApp;
  let other: TestApp;
  let dave: RegisteredDevice;
  const logs: string[] = [];

  beforeAll(async () => {
    root = tmp('sealpost-connected-sec-');
    const stream = new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk));
        done();
      },
    });
    ks = await startKeyService({ db: path.join(root, 'ks.db'), logger: { level: 'debug', stream } });
    crm = await addApp(ks, { mode: 'always' });
    other = await addApp(ks, { name: 'Other', mode: 'api' });
    dave = await ks.registerDevice('dave');
  }, 60_000);

  afterAll(async () => {
    await ks?.close();
    if (root) cleanup(root);
  });

  const asApp = (app: { secret: string }) => ({ headers: { 'x-connected-app-key': app.secret } });

  async function keyRequest(app: TestApp, username = 'dave') {
    const r = await ks.request<{ id: string; nonce: string }>('POST', '/v1/connected/requests', { ...asApp(app), body: { username, reason: 'test' } });
    expect(r.status, r.text).toBe(200);
    return r.json;
  }

  function challenge(req: { id: string; nonce: string }, app: TestApp, sealed: SealedKey | null, kind: ApprovalChallenge['kind'] = 'key'): ApprovalChallenge {
    return {
      type: 'sealpost/connected-app/approval/v1',
      service: ks.app.appId,
      app: app.id,
      request: req.id,
      nonce: req.nonce,
      kind,
      user: didKeyOf(dave.signingPublicKey),
      username: 'dave',
      key: sealed ? sealedKeyHash(sealed) : null,
      time: new Date().toISOString(),
    };
  }

  const signWith = (c: ApprovalChallenge, secretKey: Uint8Array) => Buffer.from(ed25519.sign(challengeBytes(c), secretKey)).toString('base64url');

  function approval(req: { id: string; nonce: string }, app: TestApp = crm, secretKey: Uint8Array = dave.signingSecretKey, transitPem = app.publicKeyPem) {
    const sealed = sealForApp(randomBytes(32), transitPem);
    const c = challenge(req, app, sealed);
    return { signature: signWith(c, secretKey), time: c.time, sealedKey: sealed };
  }

  const approve = (id: string, body: unknown, jwt = dave.jwt) => ks.request('POST', `/v1/approvals/${id}/approve`, { jwt, body });

  it("another app's secret, a wrong one or a removed app's is refused", async () => {
    const req = await keyRequest(crm);
    const read = await ks.request('GET', `/v1/connected/requests/${req.id}`, asApp(other));
    expect(read.status).toBe(404);
    expect(read.json.code).toBe('unknown_request');
    const bad = await ks.request('GET', `/v1/connected/requests/${req.id}`, asApp({ secret: `cas_${randomBytes(32).toString('base64url')}` }));
    expect(bad.status).toBe(401);
    expect(bad.json.code).toBe('invalid_connected_app_key');
    const none = await ks.request('POST', '/v1/connected/requests', { body: { username: 'dave', reason: 'x' } });
    expect(none.status).toBe(401);
    // A device route does not take an app's secret, and an app route no device token.
    expect((await ks.request('GET', '/v1/approvals', asApp(crm))).status).toBe(401);
    expect((await ks.request('GET', `/v1/connected/requests/${req.id}`, { jwt: dave.jwt })).status).toBe(401);
    const gone = await addApp(ks, { name: 'Gone' });
    await (await ConnectedAdmin.open(ks.server.store)).remove(gone.id);
    const removed = await ks.request('POST', '/v1/connected/requests', { ...asApp(gone), body: { username: 'dave', reason: 'x' } });
    expect(removed.status).toBe(403);
    expect(removed.json.code).toBe('connected_app_removed');
  });

  it('a forged approval (signed by another key) is refused', async () => {
    const req = await keyRequest(crm);
    const r = await approve(req.id, approval(req, crm, makeIdentity().signingSecretKey));
    expect(r.status).toBe(400);
    expect(r.json.code).toBe('bad_signature');
    expect(r.json.message).toMatch(/identity key/);
  });

  it('a replayed approval is refused: a request is decided once', async () => {
    const req = await keyRequest(crm);
    const body = approval(req);
    expect((await approve(req.id, body)).status).toBe(200);
    const again = await approve(req.id, body);
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('request_decided');
  });

  it('a signature over another request is refused', async () => {
    const a = await keyRequest(crm);
    const b = await keyRequest(crm);
    const r = await approve(b.id, approval(a));
    expect(r.status).toBe(400);
    expect(r.json.code).toBe('bad_signature');
    // A sign-in's challenge presented for a key request is another request too.
    const sealed = sealForApp(randomBytes(32), crm.publicKeyPem);
    const asSignIn = challenge(b, crm, sealed, 'sign-in+key');
    const r2 = await approve(b.id, { signature: signWith(asSignIn, dave.signingSecretKey), time: asSignIn.time, sealedKey: sealed });
    expect(r2.json.code).toBe('bad_signature');
  });

  it('an approval from a revoked device is refused', async () => {
    const second = await ks.registerDevice('dave', makeDevice({ signingSecretKey: dave.signingSecretKey, signingPublicKey: dave.signingPublicKey, rsaPublicPem: dave.rsaPublicPem, rsaPrivateKey: dave.rsaPrivateKey }));
    await ks.server.admin.revokeDevice(ks.app.appId, second.deviceId);
    const req = await keyRequest(crm);
    const r = await approve(req.id, approval(req), second.jwt);
    expect(r.status).toBe(403);
    expect(r.json.code).toBe('device_revoked');
    expect((await ks.request('GET', '/v1/approvals', { jwt: second.jwt })).status).toBe(403);
  });

  it("a request for a user of another organisation's app is refused, and its requests are not another user's", async () => {
    const tenant = await ks.server.admin.createApp({ name: 'another org' });
    const erin = makeDevice();
    const reg = await ks.request('POST', '/v1/user/register', { body: { appid: tenant.appId, serverkey: tenant.serverKey, username: 'erin', devicePackage: erin.pkg } });
    expect(reg.status).toBe(200);
    const r = await ks.request('POST', '/v1/connected/requests', { ...asApp(crm), body: { username: 'erin', reason: 'x' } });
    expect(r.status).toBe(404);
    expect(r.json.code).toBe('unknown_user');
    // Nor does another user of the same organisation see or decide dave's requests.
    const frank = await ks.registerDevice('frank');
    const req = await keyRequest(crm);
    const list = await ks.request<{ requests: unknown[] }>('GET', '/v1/approvals', { jwt: frank.jwt });
    expect(list.json.requests).toHaveLength(0);
    const deny = await ks.request('POST', `/v1/approvals/${req.id}/deny`, { jwt: frank.jwt, body: {} });
    expect(deny.status).toBe(404);
    expect(deny.json.code).toBe('unknown_request');
  });

  it("a key sealed to another key than the app's is refused", async () => {
    const req = await keyRequest(crm);
    const wrong = await approve(req.id, approval(req, crm, dave.signingSecretKey, transitKeyPair().publicKeyPem));
    expect(wrong.status).toBe(400);
    expect(wrong.json.code).toBe('wrong_transit_key');
    // The app's kid on a ciphertext made for another key size.
    const { generateKeyPairSync } = await import('node:crypto');
    const big = generateKeyPairSync('rsa', { modulusLength: 3072 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const sealed = { ...sealForApp(randomBytes(32), big), kid: crm.rp.transitKeyId };
    const c = challenge(req, crm, sealed);
    const r = await approve(req.id, { signature: signWith(c, dave.signingSecretKey), time: c.time, sealedKey: sealed });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe('bad_sealed_key');
    // A key request approved without the key.
    const c2 = challenge(req, crm, null);
    const r2 = await approve(req.id, { signature: signWith(c2, dave.signingSecretKey), time: c2.time, sealedKey: null });
    expect(r2.json.code).toBe('sealed_key_required');
  });

  it('a request lives 2 minutes unless it asks for 30 to 600 seconds', async () => {
    const before = Date.now();
    const plain = await ks.request<{ expiresAt: string }>('POST', '/v1/connected/requests', { ...asApp(crm), body: { username: 'dave', reason: 'x' } });
    expect(Date.parse(plain.json.expiresAt) - before).toBeGreaterThanOrEqual(120_000 - 1000);
    const short = await ks.request<{ expiresAt: string }>('POST', '/v1/connected/requests', { ...asApp(crm), body: { username: 'dave', reason: 'x', expiresIn: 30 } });
    expect(Date.parse(short.json.expiresAt) - before).toBeLessThanOrEqual(31_000 + (Date.now() - before));
    const tooShort = await ks.request('POST', '/v1/connected/requests', { ...asApp(crm), body: { username: 'dave', reason: 'x', expiresIn: 5 } });
    expect(tooShort.status).toBe(400);
    expect(tooShort.text).toMatch(/expiresIn/);
  });

  it('requests are rate-limited per user', async () => {
    const fred = await ks.registerDevice('fred');
    let status = 0;
    for (let i = 0; i < 25 && status !== 429; i++) {
      status = (await ks.request('POST', '/v1/connected/requests', { ...asApp(other), body: { username: fred.username, reason: 'spam', publicKey: other.publicKeyPem } })).status;
    }
    expect(status).toBe(429);
  });

  it('the key service never holds a plaintext personal key: not in its database, not in its logs', async () => {
    let alice: Profile | undefined;
    try {
      alice = await newUser(root, 'alice', ks);
      const created = await crm.rp.signIn('alice', 'http://127.0.0.1/after');
      await waitPending(alice, created.id);
      await alice.ok('approvals:approve', { id: created.id });
      const created2 = await crm.rp.requestKey('alice', 'again');
      await waitPending(alice, created2.id);
      await alice.ok('approvals:approve', { id: created2.id });
      const verified = await crm.rp.verify((await crm.rp.read(created.id)).result!, created);
      const key = verified.key!;
      expect(key).toHaveLength(32);
      await ks.close();
      const needles = [key.toString('hex'), key.toString('base64'), key.toString('base64url'), key.toString('hex').toUpperCase()];
      const files = readdirSync(root).filter((f) => f.startsWith('ks.db'));
      expect(files.length).toBeGreaterThan(0);
      const haystacks = [...files.map((f) => readFileSync(path.join(root, f))), Buffer.from(logs.join(''))];
      expect(logs.join('')).toContain('/v1/approvals');
      for (const hay of haystacks) {
        expect(hay.includes(key)).toBe(false);
        for (const n of needles) expect(hay.includes(n)).toBe(false);
      }
    } finally {
      alice?.close();
    }
  });
});

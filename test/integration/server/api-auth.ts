/**
 * API suite part: authentication (client keys, device JWTs, gen-jwt, revoked
 * devices and apps) and user/register. Kept together as the credentials a caller gets and shows.
 */
import { execFile as execFileCb } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { DirectoryResponse } from '../../../shared/wire.js';
import { signDeviceJwt } from '../../../server/auth/jwt.js';
import { makeDevice, makeIdentity, signDevicePackage } from '../../helpers/key-service.js';
import { expectError, JWT_SECRET, type ApiState } from './api-shared.js';

const execFile = promisify(execFileCb);

export function defineAuthTests(state: () => ApiState): void {
  describe('authentication', () => {
    let { ks, alice, bob, inbox } = {} as ApiState;
    beforeAll(() => void ({ ks, alice, bob, inbox } = state()));

    it('key routes need a client key or a device JWT', async () => {
      const r = await ks.request('GET', `/v1/keys/${inbox}`);
      expectError(r, 401, 'unauthorized');
      expect(r.headers.get('www-authenticate')).toContain('Bearer');
      expectError(await ks.request('GET', `/v1/keys/${inbox}`, { clientKey: 'ck_wrong' }), 401, 'invalid_client_key');
      expectError(await ks.request('GET', `/v1/keys/${inbox}`, { headers: { authorization: 'Basic Zm9vOmJhcg==' } }), 401, 'invalid_token');
      expect((await ks.request('GET', `/v1/keys/${inbox}`, { clientKey: ks.app.clientKey })).status).toBe(200);
    });

    it('refuses expired, forged, alg:none and foreign-app tokens', async () => {
      const secret = Buffer.from(JWT_SECRET);
      const expired = signDeviceJwt({ appId: ks.app.appId, deviceId: alice.deviceId, userId: alice.userid, ttlSeconds: 60, now: Date.now() - 3_600_000 }, secret).jwt;
      expectError(await ks.request('GET', `/v1/keys/${inbox}`, { jwt: expired }), 401, 'token_expired');
      const forged = signDeviceJwt({ appId: ks.app.appId, deviceId: alice.deviceId, userId: alice.userid, ttlSeconds: 600 }, Buffer.from('another-secret-another-secret-another')).jwt;
      expectError(await ks.request('GET', `/v1/keys/${inbox}`, { jwt: forged }), 401, 'invalid_token');
      const [, payload] = alice.jwt.split('.');
      const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;
      expectError(await ks.request('GET', `/v1/keys/${inbox}`, { jwt: none }), 401, 'invalid_token');
      const tampered = alice.jwt.replace(/\.([^.]+)\./, (_m, p: string) => `.${Buffer.from(Buffer.from(p, 'base64url').toString().replace(alice.userid, bob.userid)).toString('base64url')}.`);
      expectError(await ks.request('GET', `/v1/keys/${inbox}`, { jwt: tampered }), 401, 'invalid_token');
      const wrongUser = signDeviceJwt({ appId: ks.app.appId, deviceId: alice.deviceId, userId: bob.userid, ttlSeconds: 600 }, secret).jwt;
      expectError(await ks.request('GET', `/v1/keys/${inbox}`, { jwt: wrongUser }), 401, 'invalid_token');
    });

    it('gen-jwt needs the server key and a registered device; its token expires as asked', async () => {
      expectError(await ks.request('POST', '/v1/gen-jwt', { body: { instance_id: alice.deviceId } }), 401);
      expectError(await ks.request('POST', '/v1/gen-jwt', { serverKey: 'sk_wrong_wrong', body: { instance_id: alice.deviceId } }), 401, 'invalid_server_key');
      expectError(await ks.request('POST', '/v1/gen-jwt', { serverKey: ks.app.clientKey, body: { instance_id: alice.deviceId } }), 401, 'invalid_server_key');
      expectError(await ks.request('POST', '/v1/gen-jwt', { serverKey: ks.app.serverKey, body: { instance_id: 'ab'.repeat(16) } }), 404, 'device_unregistered');
      const viaBody = await ks.request<{ jwt: string; expiresAt: string }>('POST', '/v1/gen-jwt', {
        body: { appid: ks.app.appId, serverkey: ks.app.serverKey, instance_id: alice.deviceId, expires_in: 60 },
      });
      expect(viaBody.status).toBe(200);
      const exp = Date.parse(viaBody.json.expiresAt);
      expect(exp - Date.now()).toBeGreaterThan(50_000);
      expect(exp - Date.now()).toBeLessThan(70_000);
      const claims = JSON.parse(Buffer.from(viaBody.json.jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
      expect(claims).toMatchObject({ aud: ks.app.appId, sub: alice.deviceId, uid: alice.userid });
      expectError(await ks.request('POST', '/v1/gen-jwt', { body: { appid: 'other-app', serverkey: ks.app.serverKey, instance_id: alice.deviceId } }), 401, 'invalid_server_key');
    });

    it('a revoked device is refused at once, its tokens and new ones; other devices carry on', async () => {
      const carol = await ks.registerDevice('carol');
      expect((await ks.request('GET', `/v1/keys/${inbox}`, { jwt: carol.jwt })).status).toBe(200);
      await ks.server.admin.revokeDevice(ks.app.appId, carol.deviceId);
      expectError(await ks.request('GET', `/v1/keys/${inbox}`, { jwt: carol.jwt }), 403, 'device_revoked');
      expectError(await ks.request('POST', '/v1/gen-jwt', { serverKey: ks.app.serverKey, body: { instance_id: carol.deviceId } }), 403, 'device_revoked');
      expectError(
        await ks.request('POST', '/v1/user/register', { serverKey: ks.app.serverKey, body: { appid: ks.app.appId, username: 'carol', devicePackage: carol.pkg } }),
        403,
        'device_revoked',
      );
      expect((await ks.request('GET', `/v1/keys/${inbox}`, { jwt: alice.jwt })).status).toBe(200);
    });

    it('a revoked app is refused with every credential', async () => {
      const other = await ks.server.admin.createApp({ name: 'doomed' });
      expect((await ks.request('POST', '/v1/keys', { clientKey: other.clientKey, body: { passphrase: 'doomed app key' } })).status).toBe(200);
      await ks.server.admin.revokeApp(other.appId);
      expectError(await ks.request('POST', '/v1/keys', { clientKey: other.clientKey, body: { passphrase: 'doomed app key' } }), 403, 'app_revoked');
      expectError(await ks.request('POST', '/v1/user/register', { body: { appid: other.appId, serverkey: other.serverKey, username: 'x' } }), 403, 'app_revoked');
    });

    it('key tokens are scoped to their app', async () => {
      const other = await ks.server.admin.createApp({ name: 'neighbour' });
      expectError(await ks.request('GET', `/v1/keys/${inbox}`, { clientKey: other.clientKey }), 404, 'unknown_key');
    });
  });

  describe('user/register (IDENTOS)', () => {
    let { ks, alice } = {} as ApiState;
    beforeAll(() => void ({ ks, alice } = state()));

    it("the documentation's curl example works as written, endpoint filled in", async () => {
      // The example uses appid "appid" and serverkey "servicekey": an app with exactly those (imported) keys.
      await ks.server.admin.createApp({ name: 'curl example', appId: 'appid', serverKey: 'servicekey', clientKey: 'clientkey-for-curl-example' }).catch(() => undefined);
      const { stdout } = await execFile('curl', [
        '-s',
        '-X',
        'POST',
        '-H',
        'Content-Type: application/json',
        '-d',
        '{\n"appid": "appid",\n"serverkey": "servicekey",\n"username": "username-uniqueidentifier",\n}',
        `${ks.url}/v1/user/register`,
      ]);
      const first = JSON.parse(stdout) as { userid: string };
      expect(first.userid).toMatch(/^u_[0-9a-f]{24}$/);
      const again = await execFile('curl', ['-s', '-X', 'POST', '-H', 'Content-Type: application/json', '-d', '{"appid":"appid","serverkey":"servicekey","username":"username-uniqueidentifier"}', `${ks.url}/v1/user/register`]);
      expect(JSON.parse(again.stdout)).toEqual(first);
    });

    it('a known username gets another device; usernames are unique per app regardless of case', async () => {
      const identity = makeIdentity();
      const d1 = makeDevice(identity);
      const d2 = makeDevice(identity);
      const r1 = await ks.registerDevice('Dora', d1);
      const r2 = await ks.registerDevice('dora', d2);
      expect(r2.userid).toBe(r1.userid);
      const dir = await ks.request('GET', '/v1/users/DORA', { jwt: r1.jwt });
      const doc = DirectoryResponse.parse(dir.json);
      expect(doc.devices.map((d) => d.deviceId).sort()).toEqual([d1.deviceId, d2.deviceId].sort());
      expect(doc.username).toBe('Dora');
    });

    it('registering the same device again is idempotent; another identity for a username is a 409', async () => {
      const again = await ks.request('POST', '/v1/user/register', { body: { appid: ks.app.appId, serverkey: ks.app.serverKey, username: 'alice', devicePackage: alice.pkg } });
      expect(again.json).toEqual({ userid: alice.userid });
      expectError(
        await ks.request('POST', '/v1/user/register', { body: { appid: ks.app.appId, serverkey: ks.app.serverKey, username: 'alice', devicePackage: makeDevice().pkg } }),
        409,
        'identity_mismatch',
      );
      expectError(
        await ks.request('POST', '/v1/user/register', { body: { appid: ks.app.appId, serverkey: ks.app.serverKey, username: 'someone-else', devicePackage: alice.pkg } }),
        409,
        'device_taken',
      );
    });

    it('checks the device package signature, did and fingerprint', async () => {
      const d = makeDevice();
      const base = { appid: ks.app.appId, serverkey: ks.app.serverKey, username: 'mallory' };
      const badSig = { ...d.pkg, signature: d.pkg.signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) };
      expectError(await ks.request('POST', '/v1/user/register', { body: { ...base, devicePackage: badSig } }), 400, 'invalid_device_package');
      const changed = { ...d.pkg, createdAt: new Date(0).toISOString() };
      expectError(await ks.request('POST', '/v1/user/register', { body: { ...base, devicePackage: changed } }), 400, 'invalid_device_package');
      const { signature: _s, ...fields } = d.pkg;
      const otherDid = makeDevice().pkg.did;
      expectError(await ks.request('POST', '/v1/user/register', { body: { ...base, devicePackage: signDevicePackage({ ...fields, did: otherDid }, d.signingSecretKey) } }), 400, 'invalid_device_package');
      const wrongFp = signDevicePackage({ ...fields, fingerprint: 'ab'.repeat(32) }, d.signingSecretKey);
      expectError(await ks.request('POST', '/v1/user/register', { body: { ...base, devicePackage: wrongFp } }), 400, 'invalid_device_package');
      expect((await ks.request('POST', '/v1/user/register', { body: { ...base, devicePackage: d.pkg } })).status).toBe(200);
    });

    it('accepts XML and form bodies (device package as JSON text)', async () => {
      const d = makeDevice();
      const xml = `<?xml version="1.0"?><request><appid>${ks.app.appId}</appid><serverkey>${ks.app.serverKey}</serverkey><username>xavier</username><devicePackage>${JSON.stringify(d.pkg).replace(/&/g, '&amp;').replace(/</g, '&lt;')}</devicePackage></request>`;
      const r = await ks.request('POST', '/v1/user/register', { body: xml, contentType: 'application/xml', headers: { accept: 'application/xml' } });
      expect(r.status, r.text).toBe(200);
      expect(r.text).toMatch(/<response><userid>u_[0-9a-f]{24}<\/userid><\/response>/);
      const form = new URLSearchParams({ appid: ks.app.appId, serverkey: ks.app.serverKey, username: 'fiona' }).toString();
      const f = await ks.request('POST', '/v1/user/register', { body: form, contentType: 'application/x-www-form-urlencoded' });
      expect(f.status, f.text).toBe(200);
    });
  });
}

/**
 * The key service's API suite, run unchanged against SQLite (sqlite.test.ts)
 * and PostgreSQL (postgres.test.ts). Everything goes over real HTTP to a
 * server listening on 127.0.0.1 with a free port.
 */
import { execFile as execFileCb } from 'node:child_process';
import { constants, createHash, createPublicKey, generateKeyPairSync, privateDecrypt, createDecipheriv } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessagesResponse, DirectoryResponse, ErrorBody } from '../../../shared/wire.js';
import { signDeviceJwt } from '../../../server/auth/jwt.js';
import type { RunningServer, ServerOptions } from '../../../server/index.js';
import { OwnDevicesResponse } from '../../../shared/devices-wire.js';
import { makeAgentToken, newDeviceKey, signDelegation, type DeviceKey } from '../../../electron/engine/crypto/delegation.js';
import { defineKeyChangeTests } from './key-change-suite.js';
import { apiRequest, makeDevice, makeIdentity, signDevicePackage, startKeyService, type KeyService, type RegisteredDevice } from '../../helpers/key-service.js';

const execFile = promisify(execFileCb);

export interface SuiteEnv {
  /** Store options for a server (a database every server of the suite may share). */
  store(): ServerOptions;
  /** Store options for an empty database of its own (e.g. rate-limit counters nobody else touches). */
  freshStore(): Promise<ServerOptions>;
}

const JWT_SECRET = 'test-jwt-secret-0123456789abcdef-0123456789';

/** Runs raw SQL on a running server's store (tamper tests only). */
export async function rawSql(server: RunningServer, sql: string): Promise<void> {
  const store = server.store as unknown as { db?: { exec(s: string): void }; pool?: { query(s: string): Promise<unknown> } };
  if (store.db) store.db.exec(sql);
  else if (store.pool) await store.pool.query(sql);
  else throw new Error('unknown store');
}

function expectError(res: { status: number; json: unknown; text: string }, status: number, code?: string) {
  expect(res.status, res.text).toBe(status);
  const body = ErrorBody.parse(res.json);
  expect(body.message.length).toBeGreaterThan(0);
  if (code) expect(body.code).toBe(code);
}

function decryptOnlineFormat(encryptedmessage: string, encryptionkey: string, privateKey: import('node:crypto').KeyObject): Buffer {
  const key = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(encryptionkey, 'base64'));
  const sealed = Buffer.from(encryptedmessage, 'base64');
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  return gunzipSync(Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]));
}

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

export function defineApiSuite(label: string, env: () => SuiteEnv): void {
  describe(`key service API (${label})`, () => {
    let ks: KeyService;
    let alice: RegisteredDevice;
    let bob: RegisteredDevice;
    /** Alice's published offline inbox. */
    let inbox: string;

    beforeAll(async () => {
      ks = await startKeyService({ ...env().store(), jwtSecret: JWT_SECRET });
      alice = await ks.registerDevice('alice');
      bob = await ks.registerDevice('bob');
      const k = await ks.request<{ token: string }>('POST', '/v1/keys', {
        jwt: alice.jwt,
        body: { publickey: alice.rsaPublicPem, privatekeyhash: alice.privateKeyHash, publish: true },
      });
      expect(k.status, k.text).toBe(200);
      inbox = k.json.token;
    });
    afterAll(async () => {
      await ks?.close();
    });

    describe('service basics', () => {
      it('GET /health reports liveness and the store', async () => {
        const r = await ks.request<{ status: string; store: { kind: string; ok: boolean } }>('GET', '/health');
        expect(r.status).toBe(200);
        expect(r.json.status).toBe('ok');
        expect(r.json.store).toMatchObject({ kind: label, ok: true });
      });

      it('answers in XML with Accept or ?format=xml, well-formed and with the same fields as JSON', async () => {
        await ks.request('PUT', `/v1/keys/${inbox}/messages`, { clientKey: ks.app.clientKey, body: { encryptedmessage: 'AAECAw==', encryptionkey: 'BAUG', clientId: 'xml-1' } });
        const headers = { 'x-private-key-hash': alice.privateKeyHash };
        const json = await ks.request('GET', `/v1/keys/${inbox}/messages`, { jwt: alice.jwt, headers });
        const viaAccept = await ks.request('GET', `/v1/keys/${inbox}/messages`, { jwt: alice.jwt, headers: { ...headers, accept: 'application/xml' } });
        const viaQuery = await ks.request('GET', `/v1/keys/${inbox}/messages?format=xml&v=1`, { jwt: alice.jwt, headers });
        expect(viaAccept.status).toBe(200);
        expect(viaAccept.headers.get('content-type')).toMatch(/^application\/xml/);
        expect(viaQuery.text).toBe(viaAccept.text);
        const parsed = new XMLParser({ parseTagValue: false, isArray: (n) => n === 'item' }).parse(viaAccept.text) as {
          response: { Messages: { item: Array<Record<string, string>> }; Cursor: string; HasMore: string };
        };
        const fromJson = MessagesResponse.parse(json.json);
        expect(parsed.response.Cursor).toBe(String(fromJson.Cursor));
        expect(parsed.response.HasMore).toBe(String(fromJson.HasMore));
        const xmlMessages = parsed.response.Messages.item;
        expect(xmlMessages).toHaveLength(fromJson.Messages.length);
        fromJson.Messages.forEach((m, i) => {
          for (const [k, v] of Object.entries(m)) expect(xmlMessages[i]![k], k).toBe(String(v));
        });
      });

      it('XML errors are well-formed with code and message; hostile text is escaped', async () => {
        const r = await ks.request('GET', `/v1/keys/${inbox}?v=9&format=xml`, { jwt: alice.jwt });
        expect(r.status).toBe(400);
        const doc = new XMLParser({ parseTagValue: false }).parse(r.text) as { error: { code: string; message: string } };
        expect(doc.error.code).toBe('unsupported_version');
        const online = await ks.request<{ token: string }>('POST', '/v1/keys?format=json', { clientKey: ks.app.clientKey, body: { passphrase: 'xml escaping test' } });
        const hostile = 'a < b && c > d ]]> <![CDATA[x]]> "q" \u0001 end';
        await ks.request('PUT', `/v1/keys/${online.json.token}/messages`, { clientKey: ks.app.clientKey, body: { message: hostile } });
        const x = await ks.request('GET', `/v1/keys/${online.json.token}/messages?format=xml`, { clientKey: ks.app.clientKey, headers: { 'x-passphrase': 'xml escaping test' } });
        const parsed = new XMLParser({ parseTagValue: false, isArray: (n) => n === 'item' }).parse(x.text) as { response: { Messages: { item: Array<{ Message: string }> } } };
        expect(parsed.response.Messages.item[0]!.Message).toBe(hostile.replace('\u0001', '\uFFFD'));
      });

      it('?v=1 is accepted, another version is a 400 with a message', async () => {
        expect((await ks.request('GET', `/v1/keys/${inbox}?v=1`, { jwt: alice.jwt })).status).toBe(200);
        expectError(await ks.request('GET', `/v1/keys/${inbox}?v=2`, { jwt: alice.jwt }), 400, 'unsupported_version');
      });

      it('CORS: preflight allows any origin and the credential headers', async () => {
        const res = await fetch(`${ks.url}/v1/keys`, {
          method: 'OPTIONS',
          headers: { origin: 'https://example.org', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-client-key,content-type' },
        });
        expect(res.status).toBeLessThan(300);
        expect(res.headers.get('access-control-allow-origin')).toBe('*');
        expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-client-key');
        const get = await fetch(`${ks.url}/health`, { headers: { origin: 'https://example.org' } });
        expect(get.headers.get('access-control-allow-origin')).toBe('*');
      });

      it('unknown routes are a 404 with code and message', async () => {
        expectError(await ks.request('GET', '/v1/nothing-here'), 404, 'no_such_route');
      });
    });

    describe('authentication', () => {
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

    describe('keys and messages (seed key service)', () => {
      it('online: create with a passphrase, send text and files, read them decrypted', async () => {
        const passphrase = 'correct horse battery staple';
        const created = await ks.request<{ token: string }>('POST', '/v1/keys', { clientKey: ks.app.clientKey, body: { passphrase } });
        expect(created.status).toBe(200);
        const token = created.json.token;
        expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
        const info = await ks.request<{ publickey: string; fingerprint: string; bits: number; mode: string }>('GET', `/v1/keys/${token}`, { clientKey: ks.app.clientKey });
        expect(info.json.mode).toBe('online');
        expect(info.json.bits).toBe(2048);
        expect(info.json.fingerprint).toBe(createHash('sha256').update(createPublicKey(info.json.publickey).export({ type: 'spki', format: 'der' })).digest('hex'));

        expect((await ks.request('GET', `/v1/keys/${token}/messages`, { clientKey: ks.app.clientKey, headers: { 'x-passphrase': passphrase } })).status).toBe(304);
        const text = await ks.request<{ MessageId: number }>('PUT', `/v1/keys/${token}/messages`, { clientKey: ks.app.clientKey, body: { message: 'héllo wörld ✓' } });
        expect(text.json.MessageId).toBe(1);
        const form = new FormData();
        form.append('message', 'with attachments');
        form.append('files', new Blob([Buffer.from('first file')], { type: 'text/plain' }), 'a.txt');
        form.append('files', new Blob([Buffer.from([0, 1, 2, 255])], { type: 'application/octet-stream' }), '../../etc/b.bin');
        const multi = await ks.request<{ MessageId: number; MessageIds: number[] }>('PUT', `/v1/keys/${token}/messages`, { clientKey: ks.app.clientKey, body: form });
        expect(multi.status, multi.text).toBe(200);
        expect(multi.json.MessageIds).toEqual([2, 3, 4]);

        const read = await ks.request('GET', `/v1/keys/${token}/messages?passphrase=${encodeURIComponent(passphrase)}`, { clientKey: ks.app.clientKey });
        const msgs = MessagesResponse.parse(read.json).Messages;
        expect(msgs.map((m) => [m.MessageId, m.Message, m.IsFile, m.size, m.Encrypted])).toEqual([
          [1, 'héllo wörld ✓', false, Buffer.byteLength('héllo wörld ✓'), false],
          [2, 'with attachments', false, 16, false],
          [3, Buffer.from('first file').toString('base64'), true, 10, false],
          [4, Buffer.from([0, 1, 2, 255]).toString('base64'), true, 4, false],
        ]);
        expect(msgs[2]!.FileName).toBe('a.txt');
        expect(msgs[3]!.FileName).toBe('b.bin');
        expect(Date.parse(msgs[0]!.SentOn)).toBeGreaterThan(Date.now() - 60_000);

        expectError(await ks.request('GET', `/v1/keys/${token}/messages`, { clientKey: ks.app.clientKey, headers: { 'x-passphrase': 'wrong passphrase' } }), 403, 'wrong_secret');
        expectError(await ks.request('DELETE', `/v1/keys/${token}`, { clientKey: ks.app.clientKey, body: { passphrase: 'wrong passphrase' } }), 403, 'wrong_secret');
        expect((await ks.request('DELETE', `/v1/keys/${token}`, { clientKey: ks.app.clientKey, body: { passphrase } })).json).toEqual({ deleted: true });
        expectError(await ks.request('GET', `/v1/keys/${token}`, { clientKey: ks.app.clientKey }), 404, 'unknown_key');
      });

      it('offline: messages are stored exactly as sent and read with the privatekeyhash', async () => {
        const cipher = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256)).toString('base64');
        const wrapped = Buffer.alloc(256, 9).toString('base64');
        const sent = await ks.request<{ MessageId: number }>('PUT', `/v1/keys/${inbox}/messages`, { jwt: bob.jwt, body: { encryptedmessage: cipher, encryptionkey: wrapped, isfile: true } });
        expect(sent.status).toBe(200);
        const read = await ks.request('GET', `/v1/keys/${inbox}/messages?privatekeyhash=${alice.privateKeyHash}&after=${sent.json.MessageId - 1}`, { jwt: alice.jwt });
        const [m] = MessagesResponse.parse(read.json).Messages;
        expect(m).toMatchObject({ MessageId: sent.json.MessageId, Message: cipher, EncryptionKey: wrapped, IsFile: true, size: 3000, Encrypted: true });
        expectError(await ks.request('GET', `/v1/keys/${inbox}/messages`, { jwt: alice.jwt, headers: { 'x-private-key-hash': 'f'.repeat(64) } }), 403, 'wrong_secret');
        expect((await ks.request('GET', `/v1/keys/${inbox}/messages?after=${sent.json.MessageId}`, { jwt: alice.jwt, headers: { 'x-private-key-hash': alice.privateKeyHash } })).status).toBe(304);
      });

      it('online sends to an uploaded key use the documented format (gzip, AES-256-GCM, RSA-OAEP-SHA256)', async () => {
        const up = await ks.request<{ token: string }>('POST', '/v1/keys', { clientKey: ks.app.clientKey, body: { publickey: alice.rsaPublicPem, privatekeyhash: 'any string at all' } });
        await ks.request('PUT', `/v1/keys/${up.json.token}/messages`, { clientKey: ks.app.clientKey, body: { message: 'server-encrypted' } });
        const read = await ks.request('GET', `/v1/keys/${up.json.token}/messages`, { clientKey: ks.app.clientKey, headers: { 'x-private-key-hash': 'any string at all' } });
        const [m] = MessagesResponse.parse(read.json).Messages;
        expect(decryptOnlineFormat(m!.Message, m!.EncryptionKey!, alice.rsaPrivateKey).toString()).toBe('server-encrypted');
        expectError(await ks.request('GET', `/v1/keys/${up.json.token}/messages`, { clientKey: ks.app.clientKey, headers: { 'x-passphrase': 'no private key here' } }), 400, 'no_private_key');
      });

      it('an uploaded key with a passphrase-encrypted privatekey can be read online', async () => {
        const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        const encrypted = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'upload passphrase' }).toString();
        const pkh = createHash('sha256').update(privateKey.export({ type: 'pkcs8', format: 'der' })).digest('hex');
        const up = await ks.request<{ token: string }>('POST', '/v1/keys', {
          clientKey: ks.app.clientKey,
          body: { publickey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privatekey: encrypted, privatekeyhash: pkh },
        });
        expect(up.status, up.text).toBe(200);
        await ks.request('PUT', `/v1/keys/${up.json.token}/messages`, { clientKey: ks.app.clientKey, body: { message: 'read me online' } });
        const read = await ks.request('GET', `/v1/keys/${up.json.token}/messages`, { clientKey: ks.app.clientKey, headers: { 'x-passphrase': 'upload passphrase' } });
        expect(MessagesResponse.parse(read.json).Messages[0]!.Message).toBe('read me online');
        expectError(await ks.request('GET', `/v1/keys/${up.json.token}/messages`, { clientKey: ks.app.clientKey, headers: { 'x-passphrase': 'not it' } }), 403, 'wrong_secret');
        const plain = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
        expectError(
          await ks.request('POST', '/v1/keys', { clientKey: ks.app.clientKey, body: { publickey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privatekey: plain, privatekeyhash: pkh } }),
          400,
          'invalid_key',
        );
      });

      it('pages through messages with after + limit, in order, none skipped', async () => {
        const up = await ks.request<{ token: string }>('POST', '/v1/keys', { jwt: bob.jwt, body: { publickey: bob.rsaPublicPem, privatekeyhash: bob.privateKeyHash } });
        const token = up.json.token;
        const ids = [];
        for (let i = 0; i < 25; i++) {
          ids.push((await ks.request<{ MessageId: number }>('PUT', `/v1/keys/${token}/messages`, { jwt: alice.jwt, body: { encryptedmessage: Buffer.from(`m${i}`).toString('base64'), encryptionkey: 'AAAA' } })).json.MessageId);
        }
        expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
        const seen: number[] = [];
        let after = 0;
        const pages: boolean[] = [];
        for (;;) {
          const r = await ks.request('GET', `/v1/keys/${token}/messages?limit=10&after=${after}`, { jwt: bob.jwt, headers: { 'x-private-key-hash': bob.privateKeyHash } });
          if (r.status === 304) break;
          const page = MessagesResponse.parse(r.json);
          seen.push(...page.Messages.map((m) => m.MessageId));
          pages.push(page.HasMore);
          after = page.Cursor;
        }
        expect(seen).toEqual(ids);
        expect(pages).toEqual([true, true, false]);
      });

      it('delivery: a read past a MessageId acknowledges it; the sending device (only) learns which of its messages were delivered', async () => {
        const carol = await ks.registerDevice('carol-delivery');
        const up = await ks.request<{ token: string }>('POST', '/v1/keys', { jwt: carol.jwt, body: { publickey: carol.rsaPublicPem, privatekeyhash: carol.privateKeyHash } });
        const token = up.json.token;
        const send = async (jwt: string, i: number) =>
          (await ks.request<{ MessageId: number }>('PUT', `/v1/keys/${token}/messages`, { jwt, body: { encryptedmessage: Buffer.from(`d${i}`).toString('base64'), encryptionkey: 'AAAA' } })).json.MessageId;
        const a1 = await send(alice.jwt, 1);
        const a2 = await send(alice.jwt, 2);
        const b3 = await send(bob.jwt, 3);
        const a4 = await send(alice.jwt, 4);
        const ask = (jwt: string, ids: number[], t = token) =>
          ks.request<{ delivered: Array<{ token: string; MessageId: number }> }>('POST', '/v1/messages/delivered', { jwt, body: { messages: ids.map((MessageId) => ({ token: t, MessageId })) } });
        const read = (after: number) => ks.request('GET', `/v1/keys/${token}/messages?after=${after}`, { jwt: carol.jwt, headers: { 'x-private-key-hash': carol.privateKeyHash } });

        // Stored, not yet fetched: nothing delivered.
        const none = await ask(alice.jwt, [a1, a2, a4]);
        expect(none.status, none.text).toBe(200);
        expect(none.json.delivered).toEqual([]);
        // The page is returned, but only the next read (after its cursor) acknowledges it.
        const page = MessagesResponse.parse((await read(0)).json);
        expect(page.Messages.map((m) => m.MessageId)).toEqual([a1, a2, b3, a4]);
        expect((await ask(alice.jwt, [a1])).json.delivered).toEqual([]);
        expect((await read(a2)).status).toBe(200);
        expect((await ask(alice.jwt, [a1, a2, a4])).json.delivered).toEqual([{ token, MessageId: a1 }, { token, MessageId: a2 }]);
        // Only the sending device's own messages: bob's is not reported to alice, alice's not to bob.
        expect((await ask(alice.jwt, [b3])).json.delivered).toEqual([]);
        expect((await ask(bob.jwt, [a1, a2])).json.delivered).toEqual([]);
        // A read past the last message (304) acknowledges everything; an ack never moves back.
        expect((await read(a4)).status).toBe(304);
        expect((await read(0)).status).toBe(200);
        expect((await ask(alice.jwt, [a4, a1])).json.delivered).toEqual([{ token, MessageId: a1 }, { token, MessageId: a4 }]);
        expect((await ask(bob.jwt, [b3])).json.delivered).toEqual([{ token, MessageId: b3 }]);
        // A cursor beyond the last message acknowledges only what is stored: a later message is not delivered yet.
        expect((await read(a4 + 1000)).status).toBe(304);
        const a5 = await send(alice.jwt, 5);
        expect((await ask(alice.jwt, [a5])).json.delivered).toEqual([]);
        // Unknown tokens are just not delivered; a wrong secret acknowledges nothing.
        expect((await ask(alice.jwt, [1], 'x'.repeat(43))).json.delivered).toEqual([]);
        expect((await ks.request('GET', `/v1/keys/${token}/messages?after=${a5}`, { jwt: alice.jwt, headers: { 'x-private-key-hash': 'f'.repeat(64) } })).status).toBe(403);
        expect((await ask(alice.jwt, [a5])).json.delivered).toEqual([]);
        // Device JWT only, bounded batches, validated bodies.
        expectError(await ks.request('POST', '/v1/messages/delivered', { clientKey: ks.app.clientKey, body: { messages: [{ token, MessageId: a1 }] } }), 401);
        expectError(await ks.request('POST', '/v1/messages/delivered', { jwt: alice.jwt, body: { messages: [] } }), 400);
        expectError(await ks.request('POST', '/v1/messages/delivered', { jwt: alice.jwt, body: { messages: Array.from({ length: 501 }, () => ({ token, MessageId: 1 })) } }), 400);
        expectError(await ks.request('POST', '/v1/messages/delivered', { jwt: alice.jwt, body: { messages: [{ token, MessageId: 0 }] } }), 400);
      });

      it('dedupes on clientId per key: a retry gets the same MessageId, a different message with it is a 409', async () => {
        const body = { encryptedmessage: 'ZGVkdXBl', encryptionkey: 'a2V5', clientId: 'outbox-42' };
        const sendsAudited = async () => (await ks.server.store.listAudit(ks.app.appId, null, 0, 100_000)).filter((e) => e.action === 'messages.send' && e.deviceId === bob.deviceId);
        const auditedBefore = (await sendsAudited()).length;
        const first = await ks.request<{ MessageId: number; duplicate: boolean }>('PUT', `/v1/keys/${inbox}/messages`, { jwt: bob.jwt, body });
        const retry = await ks.request<{ MessageId: number; duplicate: boolean }>('PUT', `/v1/keys/${inbox}/messages`, { jwt: bob.jwt, body });
        expect(retry.json.MessageId).toBe(first.json.MessageId);
        expect([first.json.duplicate, retry.json.duplicate]).toEqual([false, true]);
        expectError(await ks.request('PUT', `/v1/keys/${inbox}/messages`, { jwt: bob.jwt, body: { ...body, encryptedmessage: 'b3RoZXI=' } }), 409, 'client_id_reused');
        const all = await ks.request('GET', `/v1/keys/${inbox}/messages?limit=1000`, { jwt: alice.jwt, headers: { 'x-private-key-hash': alice.privateKeyHash } });
        expect(MessagesResponse.parse(all.json).Messages.filter((m) => m.clientId === 'outbox-42')).toHaveLength(1);
        const concurrent = await Promise.all(
          Array.from({ length: 8 }, () => ks.request<{ MessageId: number }>('PUT', `/v1/keys/${inbox}/messages`, { jwt: bob.jwt, body: { ...body, clientId: 'outbox-43' } })),
        );
        expect(new Set(concurrent.map((r) => r.json.MessageId)).size).toBe(1);
        // Every send is audited once: stored and deduped ones with the message, the refused one by the hook.
        const audited = (await sendsAudited()).slice(auditedBefore);
        expect(audited.map((e) => e.status).sort()).toEqual([200, 200, ...Array<number>(8).fill(200), 409].sort());
        expect((await ks.server.admin.verifyAudit(ks.app.appId)).ok).toBe(true);
      });

      it('accepts XML and form bodies for keys and messages', async () => {
        const xml = await ks.request('POST', '/v1/keys', { clientKey: ks.app.clientKey, body: '<request><passphrase>xml passphrase</passphrase></request>', contentType: 'application/xml', headers: { accept: 'application/xml' } });
        expect(xml.status, xml.text).toBe(200);
        const token = /<token>([^<]+)<\/token>/.exec(xml.text)![1]!;
        const form = await ks.request('PUT', `/v1/keys/${token}/messages`, { clientKey: ks.app.clientKey, body: 'message=form+posted&clientId=f1', contentType: 'application/x-www-form-urlencoded' });
        expect(form.status, form.text).toBe(200);
        const read = await ks.request('GET', `/v1/keys/${token}/messages`, { clientKey: ks.app.clientKey, headers: { 'x-passphrase': 'xml passphrase' } });
        expect(MessagesResponse.parse(read.json).Messages[0]!.Message).toBe('form posted');
      });

      it('SQL metacharacters are data, not SQL', async () => {
        const passphrase = "'; DROP TABLE keys; --";
        const k = await ks.request<{ token: string }>('POST', '/v1/keys', { clientKey: ks.app.clientKey, body: { passphrase } });
        expect(k.status).toBe(200);
        await ks.request('PUT', `/v1/keys/${k.json.token}/messages`, { clientKey: ks.app.clientKey, body: { message: "Robert'); DROP TABLE messages;--" } });
        const r = await ks.request('GET', `/v1/keys/${k.json.token}/messages`, { clientKey: ks.app.clientKey, headers: { 'x-passphrase': passphrase } });
        expect(MessagesResponse.parse(r.json).Messages[0]!.Message).toBe("Robert'); DROP TABLE messages;--");
        expect((await ks.request('GET', `/v1/keys/${inbox}`, { jwt: alice.jwt })).status).toBe(200);
      });
    });

    describe('directory', () => {
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

    defineKeyChangeTests(() => ks);

    describe('device delegation (IOTICS)', () => {
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

    describe('items and grants', () => {
      const data = (s: string) => Buffer.from(s).toString('base64');

      it('versions: create at 0, update at the current version, a stale version is a 409', async () => {
        const put = (version: number, d: string) => ks.request<{ version: number; currentVersion?: number }>('PUT', '/v1/items/notes.1', { jwt: alice.jwt, body: { data: data(d), version, wrappedKey: data('wk-alice') } });
        expect((await put(0, 'v1')).json.version).toBe(1);
        expect((await put(1, 'v2')).json.version).toBe(2);
        const stale = await put(1, 'v2-from-another-device');
        expectError(stale, 409, 'version_conflict');
        expect(stale.json.currentVersion).toBe(2);
        expectError(await put(0, 'recreate'), 409, 'version_conflict');
        const got = await ks.request<{ data: string; version: number; role: string; wrappedKey: string; owner: string }>('GET', '/v1/items/notes.1', { jwt: alice.jwt });
        expect(got.json).toMatchObject({ data: data('v2'), version: 2, role: 'owner', wrappedKey: data('wk-alice'), owner: alice.userid });
        const racing = await Promise.all([put(2, 'a'), put(2, 'b'), put(2, 'c')]);
        expect(racing.map((r) => r.status).sort()).toEqual([200, 409, 409]);
      });

      it('grantees read exactly what is granted to them; read-only cannot write; owners manage grants', async () => {
        await ks.request('PUT', '/v1/items/shared.doc', { jwt: alice.jwt, body: { data: data('secret doc'), version: 0, wrappedKey: data('wk-a') } });
        await ks.request('PUT', '/v1/items/private.doc', { jwt: alice.jwt, body: { data: data('private'), version: 0 } });
        expectError(await ks.request('GET', '/v1/items/shared.doc', { jwt: bob.jwt }), 404, 'unknown_item');
        expectError(await ks.request('PUT', '/v1/items/shared.doc', { jwt: bob.jwt, body: { data: data('x'), version: 1 } }), 403, 'forbidden');

        const grant = await ks.request<{ grants: Array<{ userid: string; role: string }> }>('PUT', '/v1/items/shared.doc/grants', {
          jwt: alice.jwt,
          body: { grants: [{ userid: bob.userid, role: 'read', wrappedKey: data('wk-bob') }] },
        });
        expect(grant.status, grant.text).toBe(200);
        expect(grant.json.grants).toEqual([expect.objectContaining({ userid: bob.userid, role: 'read' })]);
        const asBob = await ks.request<{ data: string; role: string; wrappedKey: string }>('GET', '/v1/items/shared.doc', { jwt: bob.jwt });
        expect(asBob.json).toMatchObject({ data: data('secret doc'), role: 'read', wrappedKey: data('wk-bob') });
        expectError(await ks.request('PUT', '/v1/items/shared.doc', { jwt: bob.jwt, body: { data: data('bob edit'), version: 1 } }), 403, 'read_only');
        expectError(await ks.request('GET', '/v1/items/private.doc', { jwt: bob.jwt }), 404);
        const shared = await ks.request<{ items: Array<{ identifier: string; role: string }> }>('GET', '/v1/items?shared=1', { jwt: bob.jwt });
        expect(shared.json.items.map((i) => [i.identifier, i.role])).toEqual([['shared.doc', 'read']]);
        expectError(await ks.request('PUT', '/v1/items/shared.doc/grants', { jwt: bob.jwt, body: { grants: [{ userid: bob.userid, role: 'edit', wrappedKey: data('x') }] } }), 403, 'owner_only');
        const bobsView = await ks.request<{ grants: unknown[] }>('GET', '/v1/items/shared.doc/grants', { jwt: bob.jwt });
        expect(bobsView.json.grants).toHaveLength(1);

        await ks.request('PUT', '/v1/items/shared.doc/grants', { jwt: alice.jwt, body: { grants: [{ userid: bob.userid, role: 'edit', wrappedKey: data('wk-bob2') }] } });
        const edited = await ks.request<{ version: number }>('PUT', '/v1/items/shared.doc', { jwt: bob.jwt, body: { data: data('bob edit'), version: 1 } });
        expect(edited.json.version).toBe(2);
        expectError(await ks.request('PUT', '/v1/items/shared.doc', { jwt: bob.jwt, body: { data: data('x'), version: 2, wrappedKey: data('x') } }), 400, 'owner_only');
        expectError(await ks.request('DELETE', '/v1/items/shared.doc', { jwt: bob.jwt }), 403, 'owner_only');

        const removed = await ks.request<{ removed: number }>('DELETE', `/v1/items/shared.doc/grants?userid=${bob.userid}`, { jwt: alice.jwt });
        expect(removed.json.removed).toBe(1);
        expectError(await ks.request('GET', '/v1/items/shared.doc', { jwt: bob.jwt }), 403, 'access_revoked');
        expect((await ks.request<{ items: unknown[] }>('GET', '/v1/items?shared=true', { jwt: bob.jwt })).json.items).toEqual([]);
        const own = await ks.request<{ items: Array<{ identifier: string }> }>('GET', '/v1/items', { jwt: alice.jwt });
        expect(own.json.items.map((i) => i.identifier)).toEqual(expect.arrayContaining(['notes.1', 'private.doc', 'shared.doc']));
      });

      it('grants only to users of the app; items need a device JWT', async () => {
        await ks.request('PUT', '/v1/items/g.test', { jwt: alice.jwt, body: { data: data('g'), version: 0 } });
        expectError(await ks.request('PUT', '/v1/items/g.test/grants', { jwt: alice.jwt, body: { grants: [{ userid: `u_${'0'.repeat(24)}`, role: 'read', wrappedKey: data('w') }] } }), 404, 'unknown_user');
        expectError(await ks.request('PUT', '/v1/items/g.test/grants', { jwt: alice.jwt, body: { grants: [{ userid: alice.userid, role: 'read', wrappedKey: data('w') }] } }), 400, 'self_grant');
        expectError(await ks.request('GET', '/v1/items/g.test', { clientKey: ks.app.clientKey }), 401, 'wrong_credential');
        expect((await ks.request('DELETE', '/v1/items/g.test', { jwt: alice.jwt })).json).toEqual({ deleted: true });
        expectError(await ks.request('GET', '/v1/items/g.test', { jwt: alice.jwt }), 404);
      });

      it('a revoked grantee gets 403 access_revoked (strangers still 404); the owner reads the log about the item', async () => {
        await ks.request('PUT', '/v1/items/rv.doc', { jwt: alice.jwt, body: { data: data('v1'), version: 0, wrappedKey: data('wk-a') } });
        await ks.request('PUT', '/v1/items/rv.doc/grants', { jwt: alice.jwt, body: { grants: [{ userid: bob.userid, role: 'edit', wrappedKey: data('wk-b') }] } });
        expect((await ks.request('GET', '/v1/items/rv.doc', { jwt: bob.jwt })).status).toBe(200);
        const removed = await ks.request<{ removed: number }>('DELETE', '/v1/items/rv.doc/grants', { jwt: alice.jwt, body: { userids: [bob.userid] } });
        expect(removed.json.removed).toBe(1);
        await ks.request('PUT', '/v1/items/rv.doc', { jwt: alice.jwt, body: { data: data('v2 rotated'), version: 1, wrappedKey: data('wk-a2') } });
        expectError(await ks.request('GET', '/v1/items/rv.doc', { jwt: bob.jwt }), 403, 'access_revoked');
        expectError(await ks.request('PUT', '/v1/items/rv.doc', { jwt: bob.jwt, body: { data: data('bob'), version: 2 } }), 403, 'access_revoked');
        expectError(await ks.request('GET', '/v1/items/rv.doc/grants', { jwt: bob.jwt }), 403, 'access_revoked');
        expect((await ks.request<{ items: unknown[] }>('GET', '/v1/items?shared=1', { jwt: bob.jwt })).json.items).toEqual([]);

        const log = await ks.request<{ entries: Array<{ userId: string | null; action: string; result: string; status: number; target: string }> }>('GET', '/v1/audit?identifier=rv.doc&limit=1000', { jwt: alice.jwt });
        expect(log.status, log.text).toBe(200);
        expect(log.json.entries.every((e) => e.target === 'item:rv.doc')).toBe(true);
        expect(log.json.entries).toContainEqual(expect.objectContaining({ userId: bob.userid, action: 'items.get', status: 200 }));
        expect(log.json.entries).toContainEqual(expect.objectContaining({ userId: bob.userid, action: 'items.get', status: 403 }));
        expect(log.json.entries).toContainEqual(expect.objectContaining({ userId: alice.userid, action: 'grants.delete', status: 200 }));
        expectError(await ks.request('GET', '/v1/audit?identifier=rv.doc', { jwt: bob.jwt }), 404, 'unknown_item');
        expect((await ks.request('GET', '/v1/audit?identifier=rv.doc', { serverKey: ks.app.serverKey })).status).toBe(200);

        // The owner's list says when grants moved (a sync fetches grants only then); ?meta=1 leaves out the data.
        type Listed = { items: Array<{ identifier: string; data?: string; version: number; grantsChangedAt: string | null }> };
        const meta = await ks.request<Listed>('GET', '/v1/items?meta=1', { jwt: alice.jwt });
        const rv = meta.json.items.find((i) => i.identifier === 'rv.doc')!;
        expect(rv.data).toBeUndefined();
        expect(rv.version).toBe(2);
        expect(Date.parse(rv.grantsChangedAt!)).toBeGreaterThan(0);
        expect(meta.json.items.find((i) => i.identifier === 'private.doc')?.grantsChangedAt).toBeNull();
        expect((await ks.request<Listed>('GET', '/v1/items', { jwt: alice.jwt })).json.items.find((i) => i.identifier === 'rv.doc')!.data).toBe(data('v2 rotated'));

        // Granted again: the revocation is forgotten.
        await ks.request('PUT', '/v1/items/rv.doc/grants', { jwt: alice.jwt, body: { grants: [{ userid: bob.userid, role: 'read', wrappedKey: data('wk-b2') }] } });
        expect((await ks.request<{ wrappedKey: string }>('GET', '/v1/items/rv.doc', { jwt: bob.jwt })).json.wrappedKey).toBe(data('wk-b2'));
        const again = (await ks.request<Listed>('GET', '/v1/items?meta=true', { jwt: alice.jwt })).json.items.find((i) => i.identifier === 'rv.doc')!;
        expect(Date.parse(again.grantsChangedAt!)).toBeGreaterThanOrEqual(Date.parse(rv.grantsChangedAt!));
      });
    });

    describe('audit', () => {
      it('logs key and data requests with who, what, when and result; users see their own, the app admin all', async () => {
        await ks.request('GET', `/v1/keys/${inbox}/messages`, { jwt: alice.jwt, headers: { 'x-private-key-hash': 'wrong' } });
        const mine = await ks.request<{ entries: Array<Record<string, unknown>> }>('GET', '/v1/audit?limit=1000', { jwt: alice.jwt });
        expect(mine.status).toBe(200);
        expect(mine.json.entries.every((e) => e.userId === alice.userid)).toBe(true);
        expect(mine.json.entries).toContainEqual(expect.objectContaining({ action: 'messages.list', result: 'denied', status: 403, deviceId: alice.deviceId, actor: `device:${alice.deviceId}` }));
        expect(mine.json.entries).toContainEqual(expect.objectContaining({ action: 'keys.create', result: 'ok' }));
        const all = await ks.request<{ entries: Array<Record<string, unknown>>; hasMore: boolean }>('GET', '/v1/audit?limit=1000', { serverKey: ks.app.serverKey });
        const actions = new Set(all.json.entries.map((e) => e.action));
        for (const a of ['users.register', 'jwt.issue', 'keys.create', 'keys.get', 'messages.send', 'messages.list', 'users.lookup']) expect(actions, a).toContain(a);
        expect(all.json.entries.some((e) => e.userId === bob.userid)).toBe(true);
        for (const e of all.json.entries) {
          expect(typeof e.ts).toBe('string');
          expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
        }
        expectError(await ks.request('GET', '/v1/audit', { clientKey: ks.app.clientKey }), 401, 'wrong_credential');
      });

      it('the hash chain verifies, and an edited entry is found', async () => {
        const ok = await ks.request<{ ok: boolean; count: number }>('GET', '/v1/audit/verify', { serverKey: ks.app.serverKey });
        expect(ok.json.ok).toBe(true);
        expect(ok.json.count).toBeGreaterThan(10);
        const other = await startKeyService({ ...env().store(), jwtSecret: JWT_SECRET });
        try {
          const dev = await other.registerDevice('tamper');
          for (let i = 0; i < 3; i++) await other.request('GET', '/v1/users/tamper', { jwt: dev.jwt });
          const chain = other.app.appId;
          expect((await other.server.admin.verifyAudit(chain)).ok).toBe(true);
          await rawSql(other.server, `UPDATE audit_log SET result = 'ok', status = 200 WHERE chain = '${chain}' AND seq = 3`);
          await rawSql(other.server, `UPDATE audit_log SET actor = 'someone-else' WHERE chain = '${chain}' AND seq = 3`);
          const broken = await other.request<{ ok: boolean; firstBadSeq: number }>('GET', '/v1/audit/verify', { serverKey: other.app.serverKey });
          expect(broken.json).toMatchObject({ ok: false, firstBadSeq: 3 });
        } finally {
          await other.close();
        }
      });
    });
  });
}

/** For tests that need another server on the same store. */
export { apiRequest, JWT_SECRET };

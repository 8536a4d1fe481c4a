/**
 * Hostile and careless input, limits and secrets in logs — run against both
 * stores like api-suite.ts. Every bad request must get a 4xx with a machine
 * code and a message, never a 500, and the server must stay up.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBody } from '../../../shared/wire.js';
import { makeDevice, startKeyService, type KeyService, type RegisteredDevice, type RequestOptions } from '../../helpers/key-service.js';
import type { SuiteEnv } from './api-shared.js';

interface BadRequest {
  name: string;
  method: string;
  path: string;
  options?: RequestOptions;
  status: number;
  code?: string;
}

export function defineSafetySuite(label: string, env: () => SuiteEnv): void {
  describe(`key service safety (${label})`, () => {
    let ks: KeyService;
    let alice: RegisteredDevice;
    let token: string;

    beforeAll(async () => {
      ks = await startKeyService({ ...env().store() });
      alice = await ks.registerDevice('alice');
      const k = await ks.request<{ token: string }>('POST', '/v1/keys', { jwt: alice.jwt, body: { publickey: alice.rsaPublicPem, privatekeyhash: alice.privateKeyHash } });
      token = k.json.token;
      await ks.request('PUT', '/v1/items/it.1', { jwt: alice.jwt, body: { data: 'AAAA', version: 0 } });
    });
    afterAll(async () => {
      await ks?.close();
    });

    it('answers at least 40 kinds of bad request with a 4xx, a code and a message, never a 500', async () => {
      const C = { clientKey: ks.app.clientKey };
      const J = { jwt: alice.jwt };
      const pkh = { 'x-private-key-hash': alice.privateKeyHash };
      const json = (body: string): RequestOptions => ({ ...C, body, contentType: 'application/json' });
      const xml = (body: string): RequestOptions => ({ ...C, body, contentType: 'application/xml' });
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
      const rsa1024 = small.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const plainPrivate = small.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const reg = (extra: Record<string, unknown>) => ({ body: { appid: ks.app.appId, serverkey: ks.app.serverKey, username: 'newuser', ...extra } });
      const msgs = `/v1/keys/${token}/messages`;
      const multipart = new FormData();
      multipart.append('passphrase', 'multipart passphrase');
      const billionLaughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><request><passphrase>&lol2;</passphrase></request>';

      const table: BadRequest[] = [
        { name: 'truncated JSON', method: 'POST', path: '/v1/keys', options: json('{"passphrase": "abcdefgh"'), status: 400, code: 'invalid_json' },
        { name: 'JSON missing value', method: 'POST', path: '/v1/keys', options: json('{"passphrase": }'), status: 400, code: 'invalid_json' },
        { name: 'JSON array body', method: 'POST', path: '/v1/keys', options: json('[]'), status: 400, code: 'invalid_body' },
        { name: 'JSON string body', method: 'POST', path: '/v1/keys', options: json('"passphrase"'), status: 400, code: 'invalid_body' },
        { name: 'JSON null body', method: 'POST', path: '/v1/keys', options: json('null'), status: 400, code: 'missing_field' },
        { name: 'passphrase of the wrong type', method: 'POST', path: '/v1/keys', options: { ...C, body: { passphrase: 12345678 } }, status: 400, code: 'invalid_body' },
        { name: 'passphrase as huge number', method: 'POST', path: '/v1/keys', options: json('{"passphrase": 1e999}'), status: 400, code: 'invalid_body' },
        { name: 'short passphrase', method: 'POST', path: '/v1/keys', options: { ...C, body: { passphrase: 'short' } }, status: 400, code: 'weak_passphrase' },
        { name: 'overlong passphrase', method: 'POST', path: '/v1/keys', options: { ...C, body: { passphrase: 'x'.repeat(5000) } }, status: 400, code: 'invalid_body' },
        { name: 'unknown field', method: 'POST', path: '/v1/keys', options: { ...C, body: { passphrase: 'long enough', admin: true } }, status: 400, code: 'invalid_body' },
        { name: '__proto__ key', method: 'POST', path: '/v1/keys', options: json('{"passphrase":"long enough","__proto__":{"admin":true}}'), status: 400, code: 'invalid_json' },
        { name: 'not a PEM', method: 'POST', path: '/v1/keys', options: { ...C, body: { publickey: `-----BEGIN PUBLIC KEY-----${'A'.repeat(80)}`, privatekeyhash: 'h' } }, status: 400, code: 'invalid_key' },
        { name: 'EC instead of RSA', method: 'POST', path: '/v1/keys', options: { ...C, body: { publickey: ec, privatekeyhash: 'h' } }, status: 400, code: 'invalid_key' },
        { name: 'RSA-1024', method: 'POST', path: '/v1/keys', options: { ...C, body: { publickey: rsa1024, privatekeyhash: 'h' } }, status: 400, code: 'invalid_key' },
        { name: 'unencrypted private key upload', method: 'POST', path: '/v1/keys', options: { ...C, body: { publickey: alice.rsaPublicPem, privatekey: plainPrivate, privatekeyhash: 'h' } }, status: 400, code: 'invalid_key' },
        { name: 'upload without privatekeyhash', method: 'POST', path: '/v1/keys', options: { ...C, body: { publickey: alice.rsaPublicPem } }, status: 400, code: 'missing_secret' },
        { name: 'publish with a client key', method: 'POST', path: '/v1/keys', options: { ...C, body: { passphrase: 'long enough', publish: true } }, status: 400, code: 'publish_needs_user' },
        { name: 'publish not a boolean', method: 'POST', path: '/v1/keys', options: { ...C, body: { passphrase: 'long enough', publish: 'maybe' } }, status: 400, code: 'invalid_body' },
        { name: 'malformed XML', method: 'POST', path: '/v1/keys', options: xml('<request><passphrase>abcdefgh</request>'), status: 400, code: 'invalid_xml' },
        { name: 'XML entity expansion', method: 'POST', path: '/v1/keys', options: xml(billionLaughs), status: 400, code: 'invalid_xml' },
        { name: 'XML with two roots', method: 'POST', path: '/v1/keys', options: xml('<a><passphrase>abcdefgh</passphrase></a><b/>'), status: 400, code: 'invalid_xml' },
        { name: 'XML field twice', method: 'POST', path: '/v1/keys', options: xml('<r><passphrase>abcdefghi</passphrase><passphrase>abcdefghj</passphrase></r>'), status: 400, code: 'invalid_xml' },
        { name: 'text/plain body', method: 'POST', path: '/v1/keys', options: { ...C, body: 'passphrase', contentType: 'text/plain' }, status: 415, code: 'unsupported_media_type' },
        { name: 'multipart where not accepted', method: 'POST', path: '/v1/keys', options: { ...C, body: multipart }, status: 415, code: 'unsupported_media_type' },
        { name: 'form field twice', method: 'POST', path: '/v1/keys', options: { ...C, body: 'passphrase=aaaaaaaa&passphrase=bbbbbbbb', contentType: 'application/x-www-form-urlencoded' }, status: 400, code: 'invalid_form' },
        { name: 'deeply nested JSON', method: 'POST', path: '/v1/keys', options: json(`${'['.repeat(50_000)}${']'.repeat(50_000)}`), status: 400, code: 'invalid_json' },
        { name: 'ciphertext not base64', method: 'PUT', path: msgs, options: { ...C, body: { encryptedmessage: 'not base64!', encryptionkey: 'AAAA' } }, status: 400, code: 'invalid_body' },
        { name: 'ciphertext without key', method: 'PUT', path: msgs, options: { ...C, body: { encryptedmessage: 'AAAA' } }, status: 400, code: 'missing_field' },
        { name: 'empty send', method: 'PUT', path: msgs, options: { ...C, body: {} }, status: 400, code: 'missing_field' },
        { name: 'online and offline at once', method: 'PUT', path: msgs, options: { ...C, body: { message: 'x', encryptedmessage: 'AAAA', encryptionkey: 'AAAA' } }, status: 400, code: 'conflicting_fields' },
        { name: 'SQL in clientId', method: 'PUT', path: msgs, options: { ...C, body: { encryptedmessage: 'AAAA', encryptionkey: 'AAAA', clientId: "x'; DROP TABLE messages;--" } }, status: 400, code: 'invalid_body' },
        { name: 'ciphertext of the wrong type', method: 'PUT', path: msgs, options: { ...C, body: { encryptedmessage: 1234, encryptionkey: 'AAAA' } }, status: 400, code: 'invalid_body' },
        { name: 'isfile not a boolean', method: 'PUT', path: msgs, options: { ...C, body: { encryptedmessage: 'AAAA', encryptionkey: 'AAAA', isfile: 'perhaps' } }, status: 400, code: 'invalid_body' },
        { name: 'malformed token', method: 'PUT', path: '/v1/keys/short/messages', options: { ...C, body: { encryptedmessage: 'AAAA', encryptionkey: 'AAAA' } }, status: 400, code: 'invalid_parameter' },
        { name: 'SQL in token', method: 'GET', path: `/v1/keys/${encodeURIComponent("' OR '1'='1")}`, options: C, status: 400, code: 'invalid_parameter' },
        { name: 'unknown token', method: 'PUT', path: `/v1/keys/${'A'.repeat(43)}/messages`, options: { ...C, body: { encryptedmessage: 'AAAA', encryptionkey: 'AAAA' } }, status: 404, code: 'unknown_key' },
        { name: 'limit zero', method: 'GET', path: `${msgs}?limit=0`, options: { ...J, headers: pkh }, status: 400, code: 'invalid_query' },
        { name: 'limit 1e400', method: 'GET', path: `${msgs}?limit=1e400`, options: { ...J, headers: pkh }, status: 400, code: 'invalid_query' },
        { name: 'limit beyond 2^64', method: 'GET', path: `${msgs}?limit=99999999999999999999999`, options: { ...J, headers: pkh }, status: 400, code: 'invalid_query' },
        { name: 'negative cursor', method: 'GET', path: `${msgs}?after=-1`, options: { ...J, headers: pkh }, status: 400, code: 'invalid_query' },
        { name: 'cursor not a number', method: 'GET', path: `${msgs}?after=abc`, options: { ...J, headers: pkh }, status: 400, code: 'invalid_query' },
        { name: 'limit twice', method: 'GET', path: `${msgs}?limit=1&limit=2`, options: { ...J, headers: pkh }, status: 400, code: 'invalid_query' },
        { name: 'unknown query parameter', method: 'GET', path: `${msgs}?debug=1`, options: { ...J, headers: pkh }, status: 400, code: 'invalid_query' },
        { name: 'no secret', method: 'GET', path: msgs, options: J, status: 400, code: 'missing_secret' },
        { name: 'both secrets', method: 'GET', path: `${msgs}?passphrase=abcdefgh`, options: { ...J, headers: pkh }, status: 400, code: 'conflicting_secrets' },
        { name: 'secret twice, different', method: 'GET', path: `${msgs}?privatekeyhash=other`, options: { ...J, headers: pkh }, status: 400, code: 'conflicting_secrets' },
        { name: 'unknown format', method: 'GET', path: `/v1/keys/${token}?format=yaml`, options: C, status: 400, code: 'unsupported_format' },
        { name: 'unknown version', method: 'GET', path: `/v1/keys/${token}?v=2`, options: C, status: 400, code: 'unsupported_version' },
        { name: 'version twice', method: 'GET', path: `/v1/keys/${token}?v=1&v=1`, options: C, status: 400, code: 'unsupported_version' },
        { name: 'register: empty body', method: 'POST', path: '/v1/user/register', options: { body: {} }, status: 400, code: 'invalid_body' },
        { name: 'register: SQL in username', method: 'POST', path: '/v1/user/register', options: reg({ username: "bob'; DROP TABLE users;--" }), status: 400, code: 'invalid_body' },
        { name: 'register: overlong username', method: 'POST', path: '/v1/user/register', options: reg({ username: 'u'.repeat(500) }), status: 400, code: 'invalid_body' },
        { name: 'register: package of another version', method: 'POST', path: '/v1/user/register', options: reg({ devicePackage: { ...makeDevice().pkg, version: 2 } }), status: 400, code: 'invalid_body' },
        { name: 'register: package with extra field', method: 'POST', path: '/v1/user/register', options: reg({ devicePackage: { ...makeDevice().pkg, admin: true } }), status: 400, code: 'invalid_body' },
        { name: 'register: wrong server key', method: 'POST', path: '/v1/user/register', options: reg({ serverkey: 'sk_not_the_key' }), status: 401, code: 'invalid_server_key' },
        { name: 'gen-jwt: bad instance_id', method: 'POST', path: '/v1/gen-jwt', options: { serverKey: ks.app.serverKey, body: { instance_id: 'zz' } }, status: 400, code: 'invalid_body' },
        { name: 'gen-jwt: huge expires_in', method: 'POST', path: '/v1/gen-jwt', options: { serverKey: ks.app.serverKey, body: { instance_id: alice.deviceId, expires_in: 99999999999 } }, status: 400, code: 'invalid_body' },
        { name: 'gen-jwt: fractional expires_in', method: 'POST', path: '/v1/gen-jwt', options: { serverKey: ks.app.serverKey, body: { instance_id: alice.deviceId, expires_in: 90.5 } }, status: 400, code: 'invalid_body' },
        { name: 'item: negative version', method: 'PUT', path: '/v1/items/it.2', options: { ...J, body: { data: 'AAAA', version: -1 } }, status: 400, code: 'invalid_body' },
        { name: 'item: version 1e308', method: 'PUT', path: '/v1/items/it.2', options: { ...J, body: { data: 'AAAA', version: 1e308 } }, status: 400, code: 'invalid_body' },
        { name: 'item with a client key', method: 'PUT', path: '/v1/items/it.2', options: json('{"data":"AAAA","version":0}'), status: 401, code: 'wrong_credential' },
        { name: 'item: version beyond 2^53', method: 'PUT', path: '/v1/items/it.2', options: { ...J, body: '{"data":"AAAA","version":9007199254740993}', contentType: 'application/json' }, status: 400, code: 'invalid_body' },
        { name: 'item: version as text', method: 'PUT', path: '/v1/items/it.2', options: { ...J, body: { data: 'AAAA', version: '12abc' } }, status: 400, code: 'invalid_body' },
        { name: 'item: bad identifier', method: 'PUT', path: '/v1/items/bad%20id', options: { ...J, body: { data: 'AAAA', version: 0 } }, status: 400, code: 'invalid_parameter' },
        { name: 'item: overlong identifier', method: 'GET', path: `/v1/items/${'i'.repeat(300)}`, options: J, status: 414, code: 'uri_too_long' },
        { name: 'item: identifier just too long', method: 'GET', path: `/v1/items/${'i'.repeat(201)}`, options: J, status: 400, code: 'invalid_parameter' },
        { name: 'item: stale version', method: 'PUT', path: '/v1/items/it.1', options: { ...J, body: { data: 'AAAA', version: 7 } }, status: 409, code: 'version_conflict' },
        { name: 'grants: empty list', method: 'PUT', path: '/v1/items/it.1/grants', options: { ...J, body: { grants: [] } }, status: 400, code: 'invalid_body' },
        { name: 'grants: unknown role', method: 'PUT', path: '/v1/items/it.1/grants', options: { ...J, body: { grants: [{ userid: `u_${'1'.repeat(24)}`, role: 'admin', wrappedKey: 'AAAA' }] } }, status: 400, code: 'invalid_body' },
        { name: 'grants: same user twice', method: 'PUT', path: '/v1/items/it.1/grants', options: { ...J, body: { grants: [1, 2].map(() => ({ userid: `u_${'1'.repeat(24)}`, role: 'read', wrappedKey: 'AAAA' })) } }, status: 400, code: 'duplicate_userid' },
        { name: 'items: limit not a number', method: 'GET', path: '/v1/items?limit=abc', options: J, status: 400, code: 'invalid_query' },
        { name: 'Basic auth', method: 'GET', path: `/v1/keys/${token}`, options: { headers: { authorization: 'Basic YTpi' } }, status: 401, code: 'invalid_token' },
        { name: 'garbage bearer token', method: 'GET', path: `/v1/keys/${token}`, options: { jwt: 'a.b.c' }, status: 401, code: 'invalid_token' },
        { name: 'oversized bearer token', method: 'GET', path: `/v1/keys/${token}`, options: { jwt: `${'a'.repeat(5000)}.b.c` }, status: 401, code: 'invalid_token' },
        { name: 'server key where a device is needed', method: 'GET', path: `/v1/keys/${token}`, options: { serverKey: ks.app.serverKey }, status: 401, code: 'wrong_credential' },
        { name: 'NUL in a path parameter', method: 'GET', path: '/v1/users/%00', options: J, status: 400 },
        { name: 'overlong passphrase header', method: 'GET', path: msgs, options: { ...J, headers: { 'x-passphrase': 'p'.repeat(2000) } }, status: 400, code: 'invalid_header' },
      ];
      expect(table.length).toBeGreaterThanOrEqual(40);
      const failures: string[] = [];
      for (const t of table) {
        const r = await ks.request(t.method, t.path, t.options);
        const body = ErrorBody.safeParse(r.json);
        if (r.status !== t.status || !body.success || (t.code && body.data.code !== t.code) || !body.data.message) {
          failures.push(`${t.name}: got ${r.status} ${r.text.slice(0, 200)}`);
        }
      }
      expect(failures).toEqual([]);
      expect((await ks.request('GET', '/health')).status).toBe(200);
    });

    it('refuses oversized bodies and files with 413', async () => {
      const tight = await startKeyService({ ...env().store(), bodyLimitBytes: 64 * 1024, fileLimitBytes: 1024, maxFiles: 2 });
      try {
        const c = { clientKey: tight.app.clientKey };
        const k = await tight.request<{ token: string }>('POST', '/v1/keys', { ...c, body: { passphrase: 'tight limits' } });
        const path = `/v1/keys/${k.json.token}/messages`;
        const big = await tight.request('PUT', path, { ...c, body: { message: 'x'.repeat(100 * 1024) } });
        expect(big.status).toBe(413);
        expect(ErrorBody.parse(big.json).code).toBe('body_too_large');
        const form = new FormData();
        form.append('files', new Blob([Buffer.alloc(4096)]), 'big.bin');
        const file = await tight.request('PUT', path, { ...c, body: form });
        expect(file.status).toBe(413);
        expect(ErrorBody.parse(file.json).code).toBe('file_too_large');
        const many = new FormData();
        for (let i = 0; i < 4; i++) many.append('files', new Blob([Buffer.from('x')]), `f${i}`);
        const tooMany = await tight.request('PUT', path, { ...c, body: many });
        expect(tooMany.status).toBe(413);
        expect((await tight.request('PUT', path, { ...c, body: { message: 'still fine' } })).status).toBe(200);
      } finally {
        await tight.close();
      }
    });

    it('rate-limits per IP and per device with 429 and Retry-After; wrong secrets lock a key', async () => {
      // Day-long windows: with 60 s ones a slow run could straddle a window boundary and see the counts reset.
      const limited = await startKeyService({ ...(await env().freshStore()), rateLimit: { perIp: 30, perDevice: 8, secretFailures: 3, windowSeconds: 86_400 } });
      try {
        const dev = await limited.registerDevice('limited');
        const k = await limited.request<{ token: string }>('POST', '/v1/keys', { jwt: dev.jwt, body: { publickey: dev.rsaPublicPem, privatekeyhash: dev.privateKeyHash } });
        const statuses: number[] = [];
        for (let i = 0; i < 8; i++) statuses.push((await limited.request('GET', `/v1/keys/${k.json.token}`, { jwt: dev.jwt })).status);
        expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
        const refused = await limited.request('GET', `/v1/keys/${k.json.token}`, { jwt: dev.jwt });
        expect(refused.status).toBe(429);
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(ErrorBody.parse(refused.json).code).toBe('rate_limited');
        // The client key is counted per app and address; the IP limit covers everything.
        let ipLimited = false;
        for (let i = 0; i < 40 && !ipLimited; i++) ipLimited = (await limited.request('GET', '/v1/users/limited', { clientKey: limited.app.clientKey })).status === 429;
        expect(ipLimited).toBe(true);
        expect((await limited.request('GET', '/health')).status).toBe(200);
      } finally {
        await limited.close();
      }
      const locking = await startKeyService({ ...(await env().freshStore()), rateLimit: { secretFailures: 3, windowSeconds: 86_400 } });
      try {
        const dev = await locking.registerDevice('locking');
        const k = await locking.request<{ token: string }>('POST', '/v1/keys', { jwt: dev.jwt, body: { publickey: dev.rsaPublicPem, privatekeyhash: dev.privateKeyHash } });
        const path = `/v1/keys/${k.json.token}/messages`;
        const wrong = [];
        for (let i = 0; i < 4; i++) wrong.push((await locking.request('GET', path, { jwt: dev.jwt, headers: { 'x-private-key-hash': `guess-${i}` } })).status);
        expect(wrong).toEqual([403, 403, 403, 429]);
        expect((await locking.request('GET', path, { jwt: dev.jwt, headers: { 'x-private-key-hash': dev.privateKeyHash } })).status).toBe(429);
      } finally {
        await locking.close();
      }
    });

    it('never writes secrets to the log', async () => {
      const lines: string[] = [];
      const logged = await startKeyService({ ...env().store(), logger: { level: 'debug', stream: { write: (line: string) => void lines.push(line) } } });
      try {
        const dev = await logged.registerDevice('logged');
        const passphrase = 'Very-Secret-Passphrase-4711';
        const online = await logged.request<{ token: string }>('POST', '/v1/keys', { clientKey: logged.app.clientKey, body: { passphrase } });
        const t = online.json.token;
        await logged.request('PUT', `/v1/keys/${t}/messages`, { jwt: dev.jwt, body: { message: 'plaintext-secret-message' } });
        await logged.request('GET', `/v1/keys/${t}/messages?passphrase=${passphrase}&limit=5`, { clientKey: logged.app.clientKey });
        await logged.request('GET', `/v1/keys/${t}/messages`, { clientKey: logged.app.clientKey, headers: { 'x-passphrase': passphrase } });
        await logged.request('GET', `/v1/keys/${t}/messages?passphrase=wrong-${passphrase}`, { clientKey: logged.app.clientKey });
        await logged.request('POST', '/v1/keys', { clientKey: logged.app.clientKey, body: `{"passphrase": "${passphrase}"`, contentType: 'application/json' });
        await logged.request('POST', '/v1/keys', { clientKey: logged.app.clientKey, body: `<r><passphrase>${passphrase}</r>`, contentType: 'application/xml' });
        const off = await logged.request<{ token: string }>('POST', '/v1/keys', { jwt: dev.jwt, body: { publickey: dev.rsaPublicPem, privatekeyhash: dev.privateKeyHash } });
        await logged.request('GET', `/v1/keys/${off.json.token}/messages?privatekeyhash=${dev.privateKeyHash}`, { jwt: dev.jwt });
        await logged.request('DELETE', `/v1/keys/${off.json.token}`, { jwt: dev.jwt, headers: { 'x-private-key-hash': dev.privateKeyHash } });
        await logged.request('DELETE', `/v1/keys/${t}?passphrase=${passphrase}`, { clientKey: logged.app.clientKey });
        await logged.request('GET', `/v1/keys/${t}`, { clientKey: 'ck_wrong_but_secret_looking_key_123' });
        await logged.request('POST', '/v1/gen-jwt', { body: { serverkey: logged.app.serverKey, instance_id: dev.deviceId } });
        const log = lines.join('');
        expect(log).toContain('"url":"/v1/keys/[token]/messages?passphrase=[redacted]&limit=5"');
        expect(log).toContain('incoming request');
        for (const secret of [passphrase, t, off.json.token, dev.privateKeyHash, dev.jwt, dev.jwt.split('.')[2]!, logged.app.clientKey, logged.app.serverKey, 'ck_wrong_but_secret_looking_key_123', 'plaintext-secret-message']) {
          expect(log.includes(secret), `log contains ${secret.slice(0, 12)}…`).toBe(false);
        }
      } finally {
        await logged.close();
      }
    });

    it('requests refused before authentication (?v, ?format) are audited as anonymous and log no error', async () => {
      const lines: string[] = [];
      const logged = await startKeyService({ ...env().store(), logger: { level: 'info', stream: { write: (line: string) => void lines.push(line) } } });
      try {
        const dev = await logged.registerDevice('early');
        const key = await logged.request<{ token: string }>('POST', '/v1/keys', { jwt: dev.jwt, body: { publickey: dev.rsaPublicPem, privatekeyhash: dev.privateKeyHash } });
        const anonymous = async () => (await logged.server.store.listAudit('-', null, 0, 10_000)).filter((e) => e.action === 'messages.list' && e.status === 400).length;
        const before = await anonymous();
        for (const query of ['v=2', 'format=yaml', 'v=1&format=csv']) {
          const res = await logged.request('GET', `/v1/keys/${key.json.token}/messages?${query}`, { jwt: dev.jwt, headers: { 'x-private-key-hash': dev.privateKeyHash } });
          expect(res.status).toBe(400);
          expect(ErrorBody.safeParse(res.json).success).toBe(true);
        }
        expect(await anonymous()).toBe(before + 3);
        expect(lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level >= 50)).toEqual([]);
        expect((await logged.server.admin.verifyAudit('-')).ok).toBe(true);
      } finally {
        await logged.close();
      }
    });
  });
}

/**
 * The device-link routes (server/routes/link.ts), run against SQLite
 * (sqlite.test.ts) and PostgreSQL (postgres.test.ts) over real HTTP: the whole
 * relay in order, who may do what, a wrong code, a second claim, a key that
 * does not match the commitment, expiry, claim rate limits, and the audit
 * entries. The protocol's own crypto is in test/unit/crypto/link-protocol.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBody } from '../../../shared/wire.js';
import { ClaimLinkResponse, CreateLinkResponse, LinkSessionResponse } from '../../../shared/link-wire.js';
import { commitment, newLinkKeyPair } from '../../../electron/engine/crypto/link-protocol.js';
import type { ServerOptions } from '../../../server/index.js';
import { makeDevice, makeIdentity, startKeyService, type KeyService, type RegisteredDevice } from '../../helpers/key-service.js';
import { rawSql } from './api-shared.js';

interface LinkSuiteEnv {
  store(): ServerOptions;
  freshStore(): Promise<ServerOptions>;
}

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');

function expectError(res: { status: number; json: unknown; text: string }, status: number, code: string | RegExp) {
  expect(res.status, res.text).toBe(status);
  const body = ErrorBody.parse(res.json);
  if (typeof code === 'string') expect(body.code).toBe(code);
  else expect(body.code).toMatch(code);
  expect(body.message.length).toBeGreaterThan(10);
}

export function defineLinkSuite(label: string, env: () => LinkSuiteEnv): void {
  describe(`device linking routes (${label})`, () => {
    let ks: KeyService;
    let alice: RegisteredDevice;
    let bob: RegisteredDevice;

    beforeAll(async () => {
      ks = await startKeyService(env().store());
      alice = await ks.registerDevice('alice');
      bob = await ks.registerDevice('bob');
    });
    afterAll(async () => {
      await ks?.close();
    });

    async function create(username = 'alice') {
      const pair = newLinkKeyPair();
      const r = await ks.request('POST', '/v1/link', { clientKey: ks.app.clientKey, body: { username, commitment: b64url(commitment(pair.publicKey)) } });
      expect(r.status, r.text).toBe(200);
      return { pair, ...CreateLinkResponse.parse(r.json) };
    }

    it('relays commitment, both keys and the ciphertext in order, then forgets the session', async () => {
      const s = await create('ALICE');
      expect(s.code).toMatch(/^\d{8}$/);
      const get = async () => LinkSessionResponse.parse((await ks.request('GET', `/v1/link/${s.linkId}`, { clientKey: ks.app.clientKey })).json);
      expect(await get()).toMatchObject({ state: 'waiting', claimKey: null, revealKey: null, sealed: null });

      const old = newLinkKeyPair();
      const claim = await ks.request('POST', '/v1/link/claim', { jwt: alice.jwt, body: { code: `${s.code.slice(0, 4)}-${s.code.slice(4)}`, publicKey: b64url(old.publicKey) } });
      expect(claim.status, claim.text).toBe(200);
      expect(ClaimLinkResponse.parse(claim.json)).toMatchObject({ linkId: s.linkId, commitment: b64url(commitment(s.pair.publicKey)) });
      expect(await get()).toMatchObject({ state: 'claimed', claimKey: b64url(old.publicKey) });

      // Sealing before the reveal is refused: the existing device has nothing to check yet.
      expectError(await ks.request('POST', `/v1/link/${s.linkId}/seal`, { jwt: alice.jwt, body: { sealed: Buffer.alloc(64, 1).toString('base64') } }), 409, 'link_not_revealed');
      const reveal = await ks.request('POST', `/v1/link/${s.linkId}/reveal`, { clientKey: ks.app.clientKey, body: { publicKey: b64url(s.pair.publicKey) } });
      expect(reveal.status, reveal.text).toBe(200);
      expectError(await ks.request('POST', `/v1/link/${s.linkId}/reveal`, { clientKey: ks.app.clientKey, body: { publicKey: b64url(s.pair.publicKey) } }), 409, 'link_revealed');

      const sealed = Buffer.alloc(300, 7).toString('base64');
      expect((await ks.request('POST', `/v1/link/${s.linkId}/seal`, { jwt: alice.jwt, body: { sealed } })).status).toBe(200);
      expectError(await ks.request('POST', `/v1/link/${s.linkId}/seal`, { jwt: alice.jwt, body: { sealed } }), 409, 'link_sealed');
      expect(await get()).toMatchObject({ state: 'sealed', revealKey: b64url(s.pair.publicKey), sealed });

      expect((await ks.request('DELETE', `/v1/link/${s.linkId}`, { clientKey: ks.app.clientKey })).status).toBe(200);
      expectError(await ks.request('GET', `/v1/link/${s.linkId}`, { clientKey: ks.app.clientKey }), 404, 'unknown_link');

      // Every step is in the app's audit log, with the session as target.
      const audit = await ks.request<{ entries: Array<{ action: string; target: string | null; result: string }> }>('GET', '/v1/audit?limit=1000', { serverKey: ks.app.serverKey });
      const actions = audit.json.entries.filter((e) => e.target === `link:${s.linkId}`).map((e) => `${e.action}:${e.result}`);
      expect(actions).toEqual(expect.arrayContaining(['link.create:ok', 'link.claim:ok', 'link.reveal:ok', 'link.seal:ok', 'link.read:ok', 'link.delete:ok', 'link.seal:conflict']));
      // Polls that handed out nothing new are not logged; the read of the sealed secrets and the refused read are.
      expect(actions.filter((a) => a === 'link.read:ok')).toHaveLength(1);
      expect(actions).toContain('link.read:not_found');
    });

    it('a wrong code is a 404; another user\'s code is the same 404; a code is claimed once', async () => {
      const s = await create();
      const key = b64url(newLinkKeyPair().publicKey);
      const wrong = s.code === '00000000' ? '00000001' : '00000000';
      expectError(await ks.request('POST', '/v1/link/claim', { jwt: alice.jwt, body: { code: wrong, publicKey: key } }), 404, 'unknown_link_code');
      expectError(await ks.request('POST', '/v1/link/claim', { jwt: bob.jwt, body: { code: s.code, publicKey: key } }), 404, 'unknown_link_code');
      // Bob cannot read or cancel alice's session with his device either.
      expectError(await ks.request('GET', `/v1/link/${s.linkId}`, { jwt: bob.jwt }), 404, 'unknown_link');
      expectError(await ks.request('DELETE', `/v1/link/${s.linkId}`, { jwt: bob.jwt }), 404, 'unknown_link');

      const second = await ks.registerDevice('alice', makeDevice(aliceIdentity(alice)));
      const [a, b] = await Promise.all([
        ks.request('POST', '/v1/link/claim', { jwt: alice.jwt, body: { code: s.code, publicKey: key } }),
        ks.request('POST', '/v1/link/claim', { jwt: second.jwt, body: { code: s.code, publicKey: key } }),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      const loser = a.status === 409 ? a : b;
      expect(ErrorBody.parse(loser.json).code).toBe('link_claimed');
      // Only the claiming device may seal.
      const claimer = a.status === 200 ? alice : second;
      const other = a.status === 200 ? second : alice;
      const pair = s.pair;
      await ks.request('POST', `/v1/link/${s.linkId}/reveal`, { clientKey: ks.app.clientKey, body: { publicKey: b64url(pair.publicKey) } });
      expectError(await ks.request('POST', `/v1/link/${s.linkId}/seal`, { jwt: other.jwt, body: { sealed: Buffer.alloc(64).toString('base64') } }), 403, 'not_claimer');
      expect((await ks.request('POST', `/v1/link/${s.linkId}/seal`, { jwt: claimer.jwt, body: { sealed: Buffer.alloc(64).toString('base64') } })).status).toBe(200);
    });

    it('refuses a revealed key that does not match the commitment, and a reveal before the claim', async () => {
      const s = await create();
      expectError(await ks.request('POST', `/v1/link/${s.linkId}/reveal`, { clientKey: ks.app.clientKey, body: { publicKey: b64url(s.pair.publicKey) } }), 409, 'link_not_claimed');
      await ks.request('POST', '/v1/link/claim', { jwt: alice.jwt, body: { code: s.code, publicKey: b64url(newLinkKeyPair().publicKey) } });
      const swapped = newLinkKeyPair();
      expectError(await ks.request('POST', `/v1/link/${s.linkId}/reveal`, { clientKey: ks.app.clientKey, body: { publicKey: b64url(swapped.publicKey) } }), 400, 'commitment_mismatch');
    });

    it('bad input is a 400; an unknown user a 404; a client key cannot claim', async () => {
      expectError(await ks.request('POST', '/v1/link', { clientKey: ks.app.clientKey, body: { username: 'alice', commitment: 'short' } }), 400, /^invalid_/);
      expectError(await ks.request('POST', '/v1/link', { clientKey: ks.app.clientKey, body: { username: 'nobody', commitment: b64url(new Uint8Array(32)) } }), 404, 'unknown_user');
      expectError(await ks.request('POST', '/v1/link', { body: { username: 'alice', commitment: b64url(new Uint8Array(32)) } }), 401, 'unauthorized');
      expectError(await ks.request('POST', '/v1/link/claim', { jwt: alice.jwt, body: { code: '12-34', publicKey: b64url(new Uint8Array(32)) } }), 400, /^invalid_/);
      expectError(await ks.request('POST', '/v1/link/claim', { clientKey: ks.app.clientKey, body: { code: '12345678', publicKey: b64url(new Uint8Array(32)) } }), 401, 'wrong_credential');
      expectError(await ks.request('GET', '/v1/link/not-an-id', { clientKey: ks.app.clientKey }), 400, /^invalid_/);
    });

    it('an expired session is gone: not readable, not claimable', async () => {
      const s = await create();
      await rawSql(ks.server, `UPDATE link_sessions SET expires_at = 1 WHERE link_id = '${s.linkId}'`);
      expectError(await ks.request('GET', `/v1/link/${s.linkId}`, { clientKey: ks.app.clientKey }), 404, 'unknown_link');
      expectError(await ks.request('POST', '/v1/link/claim', { jwt: alice.jwt, body: { code: s.code, publicKey: b64url(newLinkKeyPair().publicKey) } }), 404, 'unknown_link_code');
    });

    it('claims are rate-limited per device', async () => {
      const limited = await startKeyService({ ...(await env().freshStore()), rateLimit: { perIp: 10_000, perDevice: 10_000, secretFailures: 1000, windowSeconds: 86_400 } });
      try {
        const dev = await limited.registerDevice('carol');
        const statuses: number[] = [];
        for (let i = 0; i < 12; i++) {
          const r = await limited.request('POST', '/v1/link/claim', { jwt: dev.jwt, body: { code: String(10_000_000 + i), publicKey: b64url(new Uint8Array(32)) } });
          statuses.push(r.status);
        }
        expect(statuses.slice(0, 10).every((s) => s === 404)).toBe(true);
        expect(statuses.at(-1)).toBe(429);
      } finally {
        await limited.close();
      }
    });
  });
}

/** A second device of alice's identity: same keys, new device id. */
function aliceIdentity(d: RegisteredDevice) {
  const identity = makeIdentity();
  return { ...identity, signingSecretKey: d.signingSecretKey, signingPublicKey: d.signingPublicKey, rsaPublicPem: d.rsaPublicPem, rsaPrivateKey: d.rsaPrivateKey };
}

/**
 * The TOTP second factor against the real key service (SQLite and PostgreSQL,
 * see enroll-sqlite.test.ts / enroll-postgres.test.ts), with real RFC 6238 codes
 * computed from the secret the service hands out: turning it on, each protected
 * action with no code, a wrong one, a replayed one and the right one, recovery
 * codes used once, the wrong-code limit, turning it off, the secret sealed at rest.
 */
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TotpConfirmResponse, TotpSetupResponse, TotpStatusResponse } from '../../../shared/enroll-wire.js';
import { ErrorBody } from '../../../shared/wire.js';
import { EnrollmentIssuer } from '../../../server/enrollment/codes.js';
import type { ServerOptions } from '../../../server/index.js';
import { makeDevice, makeIdentity, startKeyService, type KeyService, type RegisteredDevice } from '../../helpers/key-service.js';

export interface TotpSuiteEnv {
  freshStore(): Promise<ServerOptions>;
}

function expectError(res: { status: number; json: unknown; text: string }, status: number, code: string) {
  expect(res.status, res.text).toBe(status);
  expect(ErrorBody.parse(res.json).code).toBe(code);
}

const stepOf = (ms: number) => Math.floor(ms / 30_000);

/** The user's authenticator app: each code for a newer 30 s step than the last (waiting for the clock when needed). */
export class Authenticator {
  private last = -1;
  private readonly secret: Secret;

  constructor(base32: string) {
    this.secret = Secret.fromBase32(base32);
  }

  codeFor(step: number): string {
    return TOTP.generate({ secret: this.secret, algorithm: 'SHA1', digits: 6, period: 30, timestamp: step * 30_000 });
  }

  /** A code the service has not seen: the current step, or the next one if the current was used. */
  async next(): Promise<string> {
    const deadline = Date.now() + 90_000;
    while (this.last + 1 > stepOf(Date.now()) + 1) {
      if (Date.now() > deadline) throw new Error('the clock did not move on');
      await new Promise((r) => setTimeout(r, 250));
    }
    this.last = Math.max(stepOf(Date.now()), this.last + 1);
    return this.codeFor(this.last);
  }

  /** The code already used last. */
  replay(): string {
    return this.codeFor(this.last);
  }

  /** A 6-digit code that is none of the acceptable ones right now. */
  wrong(): string {
    const now = stepOf(Date.now());
    const valid = new Set([now - 1, now, now + 1, now + 2].map((s) => this.codeFor(s)));
    for (let n = 0; ; n++) {
      const c = String(n * 7919 % 1_000_000).padStart(6, '0');
      if (!valid.has(c)) return c;
    }
  }
}

export function defineTotpSuite(label: string, env: () => TotpSuiteEnv): void {
  describe(`TOTP second factor (${label})`, () => {
    let ks: KeyService;

    beforeAll(async () => {
      ks = await startKeyService(await env().freshStore());
    });
    afterAll(() => ks.close());

    /** Turns TOTP on for a device's user; returns its authenticator and recovery codes. */
    async function turnOn(device: RegisteredDevice): Promise<{ auth: Authenticator; recoveryCodes: string[] }> {
      const setup = await ks.request('POST', '/v1/totp/setup', { jwt: device.jwt });
      expect(setup.status, setup.text).toBe(200);
      const { secret } = TotpSetupResponse.parse(setup.json);
      const auth = new Authenticator(secret);
      const confirmed = await ks.request('POST', '/v1/totp/confirm', { jwt: device.jwt, body: { code: await auth.next() } });
      expect(confirmed.status, confirmed.text).toBe(200);
      return { auth, recoveryCodes: TotpConfirmResponse.parse(confirmed.json).recoveryCodes };
    }

    const totpHeader = (code: string) => ({ 'x-sealpost-totp': code });

    it('is turned on by a first code, gives ten recovery codes, and keeps the secret sealed', async () => {
      const alice = await ks.registerDevice('alice');
      expect(TotpStatusResponse.parse((await ks.request('GET', '/v1/totp', { jwt: alice.jwt })).json)).toEqual({ enabled: false, pending: false, confirmedAt: null, recoveryCodesLeft: 0 });
      const setup = TotpSetupResponse.parse((await ks.request('POST', '/v1/totp/setup', { jwt: alice.jwt })).json);
      expect(setup.uri).toMatch(/^otpauth:\/\/totp\/.*secret=[A-Z2-7]+/);
      expect(setup.uri).toContain(`secret=${setup.secret}`);
      expect(TotpStatusResponse.parse((await ks.request('GET', '/v1/totp', { jwt: alice.jwt })).json).pending).toBe(true);

      const auth = new Authenticator(setup.secret);
      expectError(await ks.request('POST', '/v1/totp/confirm', { jwt: alice.jwt, body: { code: auth.wrong() } }), 403, 'totp_invalid');
      expectError(await ks.request('POST', '/v1/totp/confirm', { jwt: alice.jwt, body: { code: 'not a code' } }), 400, 'invalid_body');
      const confirmed = await ks.request('POST', '/v1/totp/confirm', { jwt: alice.jwt, body: { code: await auth.next() } });
      expect(confirmed.status, confirmed.text).toBe(200);
      const { recoveryCodes } = TotpConfirmResponse.parse(confirmed.json);
      expect(new Set(recoveryCodes).size).toBe(10);
      for (const c of recoveryCodes) expect(c).toMatch(/^[A-Z2-7]{5}-[A-Z2-7]{5}$/);

      const status = TotpStatusResponse.parse((await ks.request('GET', '/v1/totp', { jwt: alice.jwt })).json);
      expect(status).toMatchObject({ enabled: true, pending: false, recoveryCodesLeft: 10 });
      expectError(await ks.request('POST', '/v1/totp/setup', { jwt: alice.jwt }), 409, 'totp_enabled');

      // At rest: neither the secret's bytes nor its base32 form, nor a recovery code.
      const rows = await ks.server.store.sql().all('SELECT * FROM totp_factors WHERE user_id = $1', [alice.userid]);
      const sealed = Buffer.from(rows[0]!.secret as Uint8Array);
      expect(sealed.includes(Buffer.from(Secret.fromBase32(setup.secret).bytes))).toBe(false);
      expect(sealed.toString('latin1')).not.toContain(setup.secret);
      const stored = JSON.stringify(await ks.server.store.sql().all('SELECT * FROM totp_recovery_codes WHERE user_id = $1', [alice.userid]));
      for (const c of recoveryCodes) expect(stored).not.toContain(c.replace('-', ''));
    });

    it('asks for a code before another device registers with an enrollment code: none, wrong, replayed, right', async () => {
      const identity = makeIdentity();
      const bob = await ks.registerDevice('bob', makeDevice(identity));
      const { auth } = await turnOn(bob);
      const issued = await (await EnrollmentIssuer.open(ks.server.store, ks.url)).issue({ appId: ks.app.appId, username: 'bob' });
      const laptop = makeDevice(identity);
      const enroll = (totp?: string) => ks.request('POST', '/v1/enroll', { body: { appid: ks.app.appId, username: 'bob', code: issued.code, devicePackage: laptop.pkg, ...(totp !== undefined && { totp }) } });
      expectError(await enroll(), 403, 'totp_required');
      expectError(await enroll(auth.wrong()), 403, 'totp_invalid');
      expectError(await enroll(auth.replay()), 403, 'totp_invalid');
      // None of those used the enrollment code up.
      const ok = await enroll(await auth.next());
      expect(ok.status, ok.text).toBe(200);
    });

    it('asks for a code before revoking a device and approving a link; a recovery code works once', async () => {
      const identity = makeIdentity();
      const carol = await ks.registerDevice('carol', makeDevice(identity));
      const old = await ks.registerDevice('carol', makeDevice(identity));
      const { auth, recoveryCodes } = await turnOn(carol);
      const revoke = (headers?: Record<string, string>) => ks.request('POST', `/v1/devices/${old.deviceId}/revoke`, { jwt: carol.jwt, ...(headers && { headers }) });
      expectError(await revoke(), 403, 'totp_required');
      expectError(await revoke(totpHeader(auth.wrong())), 403, 'totp_invalid');
      expectError(await revoke(totpHeader(auth.replay())), 403, 'totp_invalid');
      expectError(await revoke(totpHeader('12')), 400, 'invalid_totp_header');
      const revoked = await revoke(totpHeader(recoveryCodes[0]!.toLowerCase()));
      expect(revoked.status, revoked.text).toBe(200);

      const claim = (headers?: Record<string, string>) => ks.request('POST', '/v1/link/claim', { jwt: carol.jwt, body: { code: '12345678', publicKey: 'A'.repeat(43) }, ...(headers && { headers }) });
      expectError(await claim(), 403, 'totp_required');
      expectError(await claim(totpHeader(recoveryCodes[0]!)), 403, 'totp_invalid');
      // Past the second factor, the link route answers for itself (no such session).
      const past = await claim(totpHeader(await auth.next()));
      expect(past.status).not.toBe(403);
      expect(TotpStatusResponse.parse((await ks.request('GET', '/v1/totp', { jwt: carol.jwt })).json).recoveryCodesLeft).toBe(9);
    });

    it('locks the factor after 5 wrong codes, even for the right one', async () => {
      const dave = await ks.registerDevice('dave');
      const { auth } = await turnOn(dave);
      const answers: number[] = [];
      for (let i = 0; i < 5; i++) answers.push((await ks.request('POST', '/v1/totp/disable', { jwt: dave.jwt, body: { code: auth.wrong() } })).status);
      expect(answers).toEqual([403, 403, 403, 403, 429]);
      const locked = await ks.request('POST', '/v1/totp/disable', { jwt: dave.jwt, body: { code: await auth.next() } });
      expectError(locked, 429, 'rate_limited');
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    });

    it('is turned off with a code; then protected actions need none', async () => {
      const identity = makeIdentity();
      const erin = await ks.registerDevice('erin', makeDevice(identity));
      const old = await ks.registerDevice('erin', makeDevice(identity));
      const { auth } = await turnOn(erin);
      expectError(await ks.request('POST', '/v1/totp/disable', { jwt: erin.jwt, body: { code: auth.replay() } }), 403, 'totp_invalid');
      const off = await ks.request('POST', '/v1/totp/disable', { jwt: erin.jwt, body: { code: await auth.next() } });
      expect(off.status, off.text).toBe(200);
      expect(TotpStatusResponse.parse((await ks.request('GET', '/v1/totp', { jwt: erin.jwt })).json)).toMatchObject({ enabled: false, pending: false });
      expect((await ks.request('POST', `/v1/devices/${old.deviceId}/revoke`, { jwt: erin.jwt })).status).toBe(200);
    });
  });
}

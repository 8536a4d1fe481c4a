/**
 * The TOTP second factor on the recovery routes, against the real key service
 * (SQLite and PostgreSQL, see enroll-sqlite.test.ts / enroll-postgres.test.ts)
 * with real RFC 6238 codes computed from the secret it hands out: storing or
 * replacing a deposit and releasing a share each with no code, a wrong one, a
 * replayed one and the right one; the code is checked before a release's proof
 * (a guess without it is not looked at, nor counted), and after a deposit's
 * signature (a forged deposit cannot spend the user's wrong-code allowance);
 * users without TOTP, and records of users this instance does not know (the
 * escrow service's), need no code. A user who lost the authenticator and every
 * recovery code gets back in through the admin's totp-reset (audited).
 */
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../shared/canonical-json.js';
import { TotpConfirmResponse, TotpSetupResponse } from '../../../shared/enroll-wire.js';
import { depositStatement, type DepositBody, type DepositFields } from '../../../shared/recovery-wire.js';
import { ErrorBody } from '../../../shared/wire.js';
import type { ServerOptions } from '../../../server/index.js';
import { totpResetCommand } from '../../../server/totp/reset-command.js';
import { makeIdentity, makeDevice, startKeyService, type Identity, type KeyService, type RegisteredDevice } from '../../helpers/key-service.js';
import { Authenticator } from './totp-suite.js';

export interface TotpRecoverySuiteEnv {
  freshStore(): Promise<ServerOptions>;
}

function expectError(res: { status: number; json: unknown; text: string }, status: number, code: string) {
  expect(res.status, res.text).toBe(status);
  expect(ErrorBody.parse(res.json).code).toBe(code);
}

const hex32 = () => randomBytes(32).toString('hex');
const totpHeader = (code: string) => ({ 'x-sealpost-totp': code });

export function defineTotpRecoverySuite(label: string, env: () => TotpRecoverySuiteEnv): void {
  describe(`TOTP on the recovery routes (${label})`, () => {
    let ks: KeyService;
    // Each deposit must be newer than the stored one: signedAt steps by 1 ms.
    let clock = Date.now();

    beforeAll(async () => {
      ks = await startKeyService(await env().freshStore());
    });
    afterAll(() => ks.close());

    async function turnOn(device: RegisteredDevice): Promise<{ auth: Authenticator; recoveryCodes: string[] }> {
      const { secret } = TotpSetupResponse.parse((await ks.request('POST', '/v1/totp/setup', { jwt: device.jwt })).json);
      const auth = new Authenticator(secret);
      const confirmed = await ks.request('POST', '/v1/totp/confirm', { jwt: device.jwt, body: { code: await auth.next() } });
      expect(confirmed.status, confirmed.text).toBe(200);
      return { auth, recoveryCodes: TotpConfirmResponse.parse(confirmed.json).recoveryCodes };
    }

    /** A deposit signed by `identity` (gated by a words check), as the desktop makes it. */
    function deposit(identity: Identity, username: string, wordsCheck = hex32(), signer = identity.signingSecretKey): DepositBody {
      clock = Math.max(clock + 1, Date.now());
      const fields: DepositFields = {
        identityKey: Buffer.from(identity.signingPublicKey).toString('base64url'),
        share: randomBytes(32).toString('base64'),
        backup: randomBytes(64).toString('base64'),
        wordsCheck,
        signedAt: new Date(clock).toISOString(),
      };
      const message = new TextEncoder().encode(canonicalJson(depositStatement(ks.app.appId, username, fields)));
      return { ...fields, signature: Buffer.from(ed25519.sign(message, signer)).toString('base64url') };
    }

    const put = (username: string, body: DepositBody, headers?: Record<string, string>) =>
      ks.request('PUT', `/v1/recovery/${username}`, { clientKey: ks.app.clientKey, body, ...(headers && { headers }) });
    const release = (username: string, words: string, headers?: Record<string, string>) =>
      ks.request<{ share: string; backup: string | null }>('POST', `/v1/recovery/${username}/release`, {
        clientKey: ks.app.clientKey,
        body: { deviceId: randomBytes(16).toString('hex'), proof: { kind: 'words', value: words } },
        ...(headers && { headers }),
      });
    const stored = async (username: string) => (await ks.server.store.getRecovery(ks.app.appId, username))!;

    it('asks for a code before a deposit is replaced: none, wrong, replayed, right; refusals change nothing', async () => {
      const identity = makeIdentity();
      const frank = await ks.registerDevice('frank', makeDevice(identity));
      const first = deposit(identity, 'frank');
      expect((await put('frank', first)).status).toBe(200);
      const { auth } = await turnOn(frank);

      const next = deposit(identity, 'frank');
      expectError(await put('frank', next), 403, 'totp_required');
      expectError(await put('frank', next, totpHeader(auth.wrong())), 403, 'totp_invalid');
      expectError(await put('frank', next, totpHeader(auth.replay())), 403, 'totp_invalid');
      expectError(await put('frank', next, totpHeader('not a code')), 400, 'invalid_totp_header');
      expect((await stored('frank')).share.toString('base64')).toBe(first.share);

      const ok = await put('frank', next, totpHeader(await auth.next()));
      expect(ok.status, ok.text).toBe(200);
      expect((await stored('frank')).share.toString('base64')).toBe(next.share);
    });

    it('looks at a deposit\'s code only after its signature: forged deposits cannot lock the factor', async () => {
      const identity = makeIdentity();
      const gina = await ks.registerDevice('gina', makeDevice(identity));
      const { auth } = await turnOn(gina);
      const forger = makeIdentity();
      for (let i = 0; i < 6; i++) {
        // Signed by another key: refused for that, whatever the code.
        expectError(await put('gina', deposit(identity, 'gina', hex32(), forger.signingSecretKey), totpHeader(auth.wrong())), 403, 'bad_signature');
      }
      const ok = await put('gina', deposit(identity, 'gina'), totpHeader(await auth.next()));
      expect(ok.status, ok.text).toBe(200);
    });

    it('asks for a code before a share is released, before the proof is looked at; a recovery code works once', async () => {
      const identity = makeIdentity();
      const hana = await ks.registerDevice('hana', makeDevice(identity));
      const words = hex32();
      expect((await put('hana', deposit(identity, 'hana', words))).status).toBe(200);
      const { auth, recoveryCodes } = await turnOn(hana);

      // A wrong guess without a code is not looked at: the record's count stays at 0.
      expectError(await release('hana', hex32()), 403, 'totp_required');
      expectError(await release('hana', words), 403, 'totp_required');
      expectError(await release('hana', words, totpHeader(auth.wrong())), 403, 'totp_invalid');
      expectError(await release('hana', words, totpHeader(auth.replay())), 403, 'totp_invalid');
      expect((await stored('hana')).failures).toBe(0);

      // Past the code, the proof answers for itself (and a wrong one is counted).
      expectError(await release('hana', hex32(), totpHeader(await auth.next())), 403, 'wrong_check');
      expect((await stored('hana')).failures).toBe(1);
      const released = await release('hana', words, totpHeader(await auth.next()));
      expect(released.status, released.text).toBe(200);
      expect(released.json.backup).not.toBeNull();
      expect((await stored('hana')).failures).toBe(0);

      // The restoring user without the phone: a recovery code, once.
      const code = recoveryCodes[0]!.replace('-', '');
      expect((await release('hana', words, totpHeader(code))).status).toBe(200);
      expectError(await release('hana', words, totpHeader(code)), 403, 'totp_invalid');
    });

    it('lets the admin turn TOTP off for a user who lost the phone and the recovery codes (audited); then the release needs no code', async () => {
      const identity = makeIdentity();
      const jack = await ks.registerDevice('jack', makeDevice(identity));
      const words = hex32();
      expect((await put('jack', deposit(identity, 'jack', words))).status).toBe(200);
      await turnOn(jack);
      expectError(await release('jack', words), 403, 'totp_required');

      const out: string[] = [];
      expect(await totpResetCommand(ks.server.store, { app: ks.app.appId, username: 'JACK', json: true }, { stdout: (t) => out.push(t) })).toBe(0);
      expect(JSON.parse(out.join(''))).toEqual({ username: 'jack', userId: jack.userid, was: 'on' });
      expect((await release('jack', words)).status).toBe(200);
      const audit = await ks.server.store.listAudit(ks.app.appId, null, 0, 100_000);
      expect(audit.some((e) => e.action === 'totp.reset' && e.actor === 'admin' && e.target === `user:${jack.userid}` && e.result === 'ok')).toBe(true);

      await expect(totpResetCommand(ks.server.store, { app: ks.app.appId, username: 'nobody' }, { stdout: () => undefined })).rejects.toThrow(/no user "nobody"/);
      await expect(totpResetCommand(ks.server.store, { app: ks.app.appId }, { stdout: () => undefined })).rejects.toThrow(/--username is required/);
    });

    it('needs no code for a user without TOTP, nor for a record of a user this instance does not know (an escrow)', async () => {
      const identity = makeIdentity();
      await ks.registerDevice('ivan', makeDevice(identity));
      const words = hex32();
      expect((await put('ivan', deposit(identity, 'ivan', words))).status).toBe(200);
      expect((await release('ivan', words)).status).toBe(200);

      const stranger = makeIdentity();
      const escrowWords = hex32();
      expect((await put('nobody-here', deposit(stranger, 'nobody-here', escrowWords))).status).toBe(200);
      expect((await release('nobody-here', escrowWords)).status).toBe(200);
    });
  });
}

/**
 * Recovery for an account with two-step verification on, through the real engine
 * against a key service and an escrow service (two real servers), with real
 * RFC 6238 codes computed from the secret: the share backup and the restore on a
 * new device each refused without a code or with a wrong one and nothing changed
 * (no share stored, no identity installed, no wrong-PIN counted), then done with
 * the right code; a restore with the words and a recovery code, which works once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ResultCode, type Result } from '../../../shared/codes.js';
import type { KeyService } from '../../helpers/key-service.js';
import { Authenticator } from '../server/totp-suite.js';
import { PIN, useRecoveryServers } from './recovery-setup.js';

function expectServer(r: Result<unknown>, server: string): void {
  expect(r.code, r.code === 0 ? 'succeeded' : r.message).not.toBe(0);
  if (r.code !== 0) expect(r.details?.server).toBe(server);
}

describe('recovery with two-step verification on', () => {
  const env = useRecoveryServers('sealpost-totp-recovery-');
  const { escrowInput, restoreInput } = env;
  let auth: Authenticator;
  let recoveryCodes: string[] = [];
  let words: string[] = [];

  // After the shared setup's beforeAll (hooks run in the order they are registered).
  beforeAll(async () => {
    const { alice } = env;
    words = (await alice.ok('recovery:words', { pin: PIN })).words;
    const { secret } = await alice.ok('totp:enable', {});
    auth = new Authenticator(secret);
    recoveryCodes = (await alice.ok('totp:confirm', { code: await auth.next() })).recoveryCodes;
  });

  const stored = async (service: KeyService) => (await service.request('GET', '/v1/recovery/alice', { clientKey: service.app.clientKey })).status;

  it('backs up the shares only with a code; a refusal stores nothing on either service', async () => {
    expectServer(await env.alice.call('recovery:backup', { pin: PIN, escrow: escrowInput() }), 'totp_required');
    expectServer(await env.alice.call('recovery:backup', { pin: PIN, escrow: escrowInput(), totp: auth.wrong() }), 'totp_invalid');
    expect(await stored(env.ks)).toBe(404);
    expect(await stored(env.escrow)).toBe(404);
    expect((await env.alice.ok('recovery:status', {})).backedUpAt).toBeNull();

    // Typed as people type it: with a space in the middle.
    const code = await auth.next();
    const status = await env.alice.ok('recovery:backup', { pin: PIN, escrow: escrowInput(), totp: `${code.slice(0, 3)} ${code.slice(3)}` });
    expect(status.backedUpAt).not.toBeNull();
    expect(await stored(env.ks)).toBe(200);
    expect(await stored(env.escrow)).toBe(200);
  });

  it('restores with the shares on a new device only with a code; without one nothing is installed or counted', async () => {
    const p = await env.openDevice('new-device-shares');
    try {
      expectServer(await p.call('recovery:restore', restoreInput({ escrowClientKey: env.escrow.app.clientKey })), 'totp_required');
      // A wrong PIN without a code is not even looked at.
      expectServer(await p.call('recovery:restore', restoreInput({ escrowClientKey: env.escrow.app.clientKey, pin: '000000' })), 'totp_required');
      expectServer(await p.call('recovery:restore', restoreInput({ escrowClientKey: env.escrow.app.clientKey, totp: auth.replay() })), 'totp_invalid');
      expect((await p.ok('engine:status', {})).hasIdentity).toBe(false);
      expect((await env.ks.server.store.getRecovery(env.ks.app.appId, 'alice'))!.failures).toBe(0);

      const r = await p.ok('recovery:restore', restoreInput({ escrowClientKey: env.escrow.app.clientKey, totp: await auth.next() }));
      expect(r).toMatchObject({ did: env.did, method: 'shares' });
    } finally {
      p.close();
    }
  });

  it('restores with the words and a recovery code (the phone is lost too); the recovery code works once', async () => {
    const code = recoveryCodes[0]!.toLowerCase();
    const p = await env.openDevice('new-device-words');
    try {
      const r = await p.ok('recovery:restore', restoreInput({ words: words.join(' '), pin: '1357', totp: code }));
      expect(r).toMatchObject({ did: env.did, method: 'words' });
    } finally {
      p.close();
    }
    const again = await env.openDevice('new-device-words-again');
    try {
      const r = await again.call('recovery:restore', restoreInput({ words: words.join(' '), pin: '1357', totp: code }));
      expectServer(r, 'totp_invalid');
      expect(r.code).toBe(ResultCode.Failed);
      expect((await again.ok('engine:status', {})).hasIdentity).toBe(false);
    } finally {
      again.close();
    }
  });
});

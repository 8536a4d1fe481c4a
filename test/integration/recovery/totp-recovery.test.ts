/**
 * Recovery for an account with two-step verification on, through the real engine
 * against a key service and an escrow service (two real servers), with real
 * RFC 6238 codes computed from the secret: the share backup and the restore on a
 * new device each refused without a code or with a wrong one and nothing changed
 * (no share stored, no identity installed, no wrong-PIN counted), then done with
 * the right code; a restore with the words and a recovery code, which works once.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultCode, type Result } from '../../../shared/codes.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { Authenticator } from '../server/totp-suite.js';
import { cleanup, openProfile, type Profile, tmp } from '../sync/helpers.js';

function expectServer(r: Result<unknown>, server: string): void {
  expect(r.code, r.code === 0 ? 'succeeded' : r.message).not.toBe(0);
  if (r.code !== 0) expect(r.details?.server).toBe(server);
}

describe('recovery with two-step verification on', () => {
  const root = tmp('sealpost-totp-recovery-');
  const PIN = '482913';
  let ks: KeyService;
  let escrow: KeyService;
  let alice: Profile;
  let auth: Authenticator;
  let recoveryCodes: string[] = [];
  let words: string[] = [];
  let did = '';

  beforeAll(async () => {
    ks = await startKeyService({ db: path.join(root, 'ks.db') });
    escrow = await startKeyService({ db: path.join(root, 'escrow.db') });
    alice = await openProfile(path.join(root, 'alice'));
    did = (await alice.ok('identity:create', { pin: PIN, rsaBits: 2048 })).did;
    await alice.ok('device:register', { server: ks.url, appId: ks.app.appId, serverKey: ks.app.serverKey, clientKey: ks.app.clientKey, username: 'alice' });
    words = (await alice.ok('recovery:words', { pin: PIN })).words;
    const { secret } = await alice.ok('totp:enable', {});
    auth = new Authenticator(secret);
    recoveryCodes = (await alice.ok('totp:confirm', { code: await auth.next() })).recoveryCodes;
  });

  afterAll(async () => {
    alice?.close();
    await ks?.close();
    await escrow?.close();
    cleanup(root);
  });

  const escrowIn = () => ({ url: escrow.url, appId: escrow.app.appId, clientKey: escrow.app.clientKey });
  const restoreInput = (extra: Record<string, string>) => ({ server: ks.url, appId: ks.app.appId, clientKey: ks.app.clientKey, username: 'alice', pin: PIN, ...extra });
  const stored = async (service: KeyService) => (await service.request('GET', '/v1/recovery/alice', { clientKey: service.app.clientKey })).status;

  it('backs up the shares only with a code; a refusal stores nothing on either service', async () => {
    expectServer(await alice.call('recovery:backup', { pin: PIN, escrow: escrowIn() }), 'totp_required');
    expectServer(await alice.call('recovery:backup', { pin: PIN, escrow: escrowIn(), totp: auth.wrong() }), 'totp_invalid');
    expect(await stored(ks)).toBe(404);
    expect(await stored(escrow)).toBe(404);
    expect((await alice.ok('recovery:status', {})).backedUpAt).toBeNull();

    // Typed as people type it: with a space in the middle.
    const code = await auth.next();
    const status = await alice.ok('recovery:backup', { pin: PIN, escrow: escrowIn(), totp: `${code.slice(0, 3)} ${code.slice(3)}` });
    expect(status.backedUpAt).not.toBeNull();
    expect(await stored(ks)).toBe(200);
    expect(await stored(escrow)).toBe(200);
  });

  it('restores with the shares on a new device only with a code; without one nothing is installed or counted', async () => {
    const p = await openProfile(path.join(root, 'new-device-shares'));
    try {
      expectServer(await p.call('recovery:restore', restoreInput({ escrowClientKey: escrow.app.clientKey })), 'totp_required');
      // A wrong PIN without a code is not even looked at.
      expectServer(await p.call('recovery:restore', restoreInput({ escrowClientKey: escrow.app.clientKey, pin: '000000' })), 'totp_required');
      expectServer(await p.call('recovery:restore', restoreInput({ escrowClientKey: escrow.app.clientKey, totp: auth.replay() })), 'totp_invalid');
      expect((await p.ok('engine:status', {})).hasIdentity).toBe(false);
      expect((await ks.server.store.getRecovery(ks.app.appId, 'alice'))!.failures).toBe(0);

      const r = await p.ok('recovery:restore', restoreInput({ escrowClientKey: escrow.app.clientKey, totp: await auth.next() }));
      expect(r).toMatchObject({ did, method: 'shares' });
    } finally {
      p.close();
    }
  });

  it('restores with the words and a recovery code (the phone is lost too); the recovery code works once', async () => {
    const code = recoveryCodes[0]!.toLowerCase();
    const p = await openProfile(path.join(root, 'new-device-words'));
    try {
      const r = await p.ok('recovery:restore', restoreInput({ words: words.join(' '), pin: '1357', totp: code }));
      expect(r).toMatchObject({ did, method: 'words' });
    } finally {
      p.close();
    }
    const again = await openProfile(path.join(root, 'new-device-words-again'));
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

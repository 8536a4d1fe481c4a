/**
 * Recovery against two real servers: the key service and an escrow service
 * (the same server code, another instance with its own database). The words
 * alone restore; the three shares (key service, escrow, PIN) restore; two
 * shares do not; wrong PINs are counted and limited on the key service.
 */
import { describe, expect, it } from 'vitest';
import { ResultCode } from '../../../shared/codes.js';
import { FREE_FAILURES } from '../../../server/routes/recovery.js';
import { PIN, useRecoveryServers } from './recovery-setup.js';

describe('recovery words and three-share backup against a key service and an escrow service', () => {
  const env = useRecoveryServers('sealpost-recovery-');
  const { restoreInput } = env;
  let words: string[] = [];

  it('shows the words after the PIN, can be postponed (nag), and confirms with the asked words', async () => {
    expect((await env.alice.ok('recovery:status', {})).nag).toBe(true);
    expect((await env.alice.call('recovery:words', { pin: '000000' })).code).toBe(ResultCode.WrongPin);
    const shown = await env.alice.ok('recovery:words', { pin: PIN });
    words = shown.words;
    expect(words).toHaveLength(24);
    const later = await env.alice.ok('recovery:postpone', {});
    expect(later.postponedAt).not.toBeNull();
    expect(later.nag).toBe(true);
    const wrong = shown.ask.map((position) => ({ position, word: words[position - 1] === 'abandon' ? 'zoo' : 'abandon' }));
    expect((await env.alice.call('recovery:confirm', { answers: wrong })).code).toBe(ResultCode.InvalidParameter);
    const status = await env.alice.ok('recovery:confirm', { answers: shown.ask.map((position) => ({ position, word: words[position - 1]! })) });
    expect(status.wordsConfirmed).toBe(true);
    expect(status.nag).toBe(true); // no share backup yet
    expect((await env.alice.call('recovery:words', { pin: PIN })).code).toBe(ResultCode.InvalidState);
  });

  it('stores one share on each service; the key service never gets the escrow share or the PIN', async () => {
    const { ks, escrow } = env;
    const status = await env.alice.ok('recovery:backup', { pin: PIN, escrow: env.escrowInput() });
    expect(status).toMatchObject({ nag: false, escrow: { url: escrow.url, appId: escrow.app.appId } });
    const info = await ks.request('GET', '/v1/recovery/alice', { clientKey: ks.app.clientKey });
    expect(info.status).toBe(200);
    expect(info.json).toMatchObject({ gated: true, hasBackup: true, escrow: { url: escrow.url } });
    const escInfo = await escrow.request('GET', '/v1/recovery/alice', { clientKey: escrow.app.clientKey });
    expect(escInfo.json).toMatchObject({ gated: false, hasBackup: false, pinParams: null });
    // Released without any check, the key service's share comes with nothing.
    const bare = await ks.request('POST', '/v1/recovery/alice/release', { clientKey: ks.app.clientKey, body: { deviceId: 'a'.repeat(32) } });
    expect(bare.status).toBe(401);
  });

  it('restores with the words alone on a new device', async () => {
    const bob = await env.openDevice('new-device-words');
    try {
      const r = await bob.ok('recovery:restore', restoreInput({ words: words.join(' '), pin: '1357' }));
      expect(r).toMatchObject({ did: env.did, method: 'words' });
      expect((await bob.ok('identity:get', {})).fingerprint).toBe((await env.alice.ok('identity:get', {})).fingerprint);
      // The restored device is unlocked with its own new PIN.
      await bob.ok('session:lock', {});
      expect((await bob.call('session:authenticate', { pin: PIN })).code).toBe(ResultCode.WrongPin);
      await bob.ok('session:authenticate', { pin: '1357' });
    } finally {
      bob.close();
    }
  });

  it('restores with the three shares: key service + escrow + PIN', async () => {
    const p = await env.openDevice('new-device-shares');
    try {
      const r = await p.ok('recovery:restore', restoreInput({ escrowClientKey: env.escrow.app.clientKey }));
      expect(r).toMatchObject({ did: env.did, method: 'shares' });
    } finally {
      p.close();
    }
  });

  it('two shares do not restore: without the escrow share nothing is released; without the PIN the check fails', async () => {
    const p = await env.openDevice('new-device-two');
    try {
      // Key service + PIN, no escrow share: the escrow refuses a wrong client key, so no release.
      const noEscrow = await p.call('recovery:restore', restoreInput({ escrowClientKey: 'wrong-client-key-000' }));
      expect(noEscrow.code).not.toBe(0);
      // Escrow + key service share without the PIN: a guessed PIN fails the check.
      const noPin = await p.call('recovery:restore', restoreInput({ escrowClientKey: env.escrow.app.clientKey, pin: '000000' }));
      expect(noPin.code).toBe(ResultCode.WrongPin);
      expect((await p.ok('engine:status', {})).hasIdentity).toBe(false);
    } finally {
      p.close();
    }
  });

  it('counts wrong PINs on the key service and locks, then the right PIN is refused until the lock ends', async () => {
    const p = await env.openDevice('new-device-guess');
    try {
      // One wrong attempt was made in the previous test.
      for (let i = 1; i < FREE_FAILURES; i++) {
        expect((await p.call('recovery:restore', restoreInput({ escrowClientKey: env.escrow.app.clientKey, pin: `99999${i}` }))).code).toBe(ResultCode.WrongPin);
      }
      const locked = await p.call('recovery:restore', restoreInput({ escrowClientKey: env.escrow.app.clientKey }));
      expect(locked.code).toBe(ResultCode.LockedOut);
      const words = await p.call('recovery:restore', restoreInput({ words: 'abandon '.repeat(23) + 'art' }));
      expect(words.code).toBe(ResultCode.LockedOut);
      // Every failed attempt and release is in the key service's audit log.
      const log = await env.ks.request<{ entries: Array<{ action: string; result: string }> }>('GET', '/v1/audit?limit=1000', { serverKey: env.ks.app.serverKey });
      const releases = log.json.entries.filter((e) => e.action === 'recovery.release');
      expect(releases.filter((e) => e.result === 'denied').length).toBeGreaterThanOrEqual(FREE_FAILURES);
      expect(releases.some((e) => e.result === 'ok')).toBe(true);
    } finally {
      p.close();
    }
  });
});

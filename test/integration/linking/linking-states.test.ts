/**
 * The linking handlers' refusals, engine against a real key service: each
 * wrong state is a clear result code and message, and a refused step leaves
 * nothing half-done (no identity on the new profile, nothing sent).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../../electron/engine/dispatch.js';
import { TEST_KDF_PARAMS } from '../../../electron/engine/crypto/pin-kdf.js';
import { openService } from '../../../electron/engine/service/index.js';
import { ResultCode } from '../../../shared/codes.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { cleanup, newUser, openProfile, type Profile, tmp } from '../sync/helpers.js';

describe('device linking: refusals and expiry', () => {
  const root = tmp('sealpost-link-states-');
  let ks: KeyService;
  let alice: Profile;
  const opened: Profile[] = [];
  const request = (p: Profile, extra: Record<string, string> = {}) =>
    p.call('link:request', { server: ks.url, appId: ks.app.appId, clientKey: ks.app.clientKey, username: 'alice', pin: '2468', ...extra });

  beforeAll(async () => {
    ks = await startKeyService({ db: path.join(root, 'ks.db') });
    alice = await newUser(root, 'alice', ks);
  });

  afterAll(async () => {
    for (const p of [alice, ...opened]) p?.close();
    await ks?.close();
    cleanup(root);
  });

  async function fresh(name: string): Promise<Profile> {
    const p = await openProfile(path.join(root, name));
    opened.push(p);
    return p;
  }

  it('the new device: a profile with an identity, a bad PIN, an unknown user, no pending request', async () => {
    expect(await request(alice)).toMatchObject({ code: ResultCode.InvalidState, message: expect.stringMatching(/already has an identity/) });
    const p = await fresh('new-1');
    expect((await request(p, { pin: '12' })).code).toBe(ResultCode.InvalidPin);
    expect(await request(p, { username: 'nobody' })).toMatchObject({ code: ResultCode.NotFound, message: expect.stringMatching(/no user with that name/) });
    expect((await p.call('link:progress', {})).code).toBe(ResultCode.InvalidState);
    expect((await p.call('link:request', { server: 'not a url', appId: ks.app.appId, clientKey: ks.app.clientKey, username: 'alice', pin: '2468' } as never)).code).toBe(ResultCode.InvalidParameter);
  });

  it('the existing device: locked, unregistered, a malformed code, a confirm without a claim', async () => {
    const p = await fresh('new-2');
    const { code } = await p.ok('link:request', { server: ks.url, appId: ks.app.appId, clientKey: ks.app.clientKey, username: 'alice', pin: '2468' });
    await alice.ok('session:lock', {});
    expect((await alice.call('link:claim', { code })).code).toBe(ResultCode.Locked);
    await alice.ok('session:authenticate', { pin: '0' });
    const lonely = await fresh('lonely');
    await lonely.ok('identity:create', { pin: '0', rsaBits: 2048 });
    expect((await lonely.call('link:claim', { code })).code).toBe(ResultCode.DeviceUnregistered);
    expect((await alice.call('link:claim', { code: '12-34' })).code).toBe(ResultCode.InvalidParameter);
    expect(await alice.call('link:confirm', { verificationCode: '123456' })).toMatchObject({ code: ResultCode.InvalidState, message: expect.stringMatching(/enter the new device's code first/) });
    expect(await p.ok('link:cancel', {})).toEqual({ cancelled: true });
    expect((await alice.call('link:claim', { code })).code).toBe(ResultCode.NotFound);
  });

  it('a request past its 10 minutes is over on the new device, even if the key service still answered', async () => {
    let skew = 0;
    const dir = path.join(root, 'late');
    const service = await openService({ profileDir: dir, keychain: 'file', kdfParams: TEST_KDF_PARAMS, actor: 'test', now: () => Date.now() + skew });
    try {
      const r = await dispatch(service.handlers, 'link:request', { server: ks.url, appId: ks.app.appId, clientKey: ks.app.clientKey, username: 'alice', pin: '2468' });
      expect(r.code).toBe(0);
      skew = 11 * 60_000;
      expect(await dispatch(service.handlers, 'link:progress', {})).toMatchObject({ code: ResultCode.NotFound, message: expect.stringMatching(/expired or was cancelled/) });
      expect(await dispatch(service.handlers, 'engine:status', {})).toMatchObject({ value: { hasIdentity: false } });
    } finally {
      service.close();
    }
  });
});

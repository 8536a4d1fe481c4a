/**
 * Approving needs the user's decision with the PIN when one is set (issue 17):
 * an unlocked profile still asks for it on each approval, a wrong one is refused
 * and counted, a locked profile without it is Locked; nothing is sent meanwhile.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultCode } from '../../../shared/codes.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { cleanup, openProfile, type Profile, tmp } from '../sync/helpers.js';
import { addApp, waitPending, type TestApp } from './helpers.js';

describe('approvals with a PIN', () => {
  let ks: KeyService;
  let root: string;
  let bob: Profile;
  let app: TestApp;

  beforeAll(async () => {
    ks = await startKeyService();
    root = tmp('sealpost-approvals-pin-');
    bob = await openProfile(path.join(root, 'bob'));
    await bob.ok('identity:create', { pin: '2468', rsaBits: 2048 });
    await bob.ok('device:register', { server: ks.url, appId: ks.app.appId, serverKey: ks.app.serverKey, username: 'bob' });
    app = await addApp(ks, { mode: 'api', keyBits: 192 });
  }, 60_000);

  afterAll(async () => {
    bob?.close();
    await ks?.close();
    if (root) cleanup(root);
  });

  it('asks for the PIN, refuses a wrong one, and approves with the right one', async () => {
    const created = await app.rp.requestKey('bob', 'Backup');
    await waitPending(bob, created.id);
    expect((await bob.call('approvals:approve', { id: created.id })).code).toBe(ResultCode.InvalidPin);
    expect((await bob.call('approvals:approve', { id: created.id, pin: '1111' })).code).toBe(ResultCode.WrongPin);
    await bob.ok('session:lock', {});
    expect((await bob.call('approvals:approve', { id: created.id })).code).toBe(ResultCode.Locked);
    expect((await app.rp.read(created.id)).state).toBe('pending');
    await bob.ok('approvals:approve', { id: created.id, pin: '2468' });
    const v = await app.rp.verify((await app.rp.read(created.id)).result!, created);
    expect(v.key).toHaveLength(24);
    const audit = await bob.ok('audit:list', { action: 'approval.approve' });
    expect(audit.map((e) => e.result).sort()).toEqual(['InvalidPin', 'Locked', 'WrongPin', 'ok']);
  });

  it('a sign-in of a mode-api app brings no key, and such an app cannot ask with mode login', async () => {
    const created = await app.rp.signIn('bob', 'http://127.0.0.1/');
    expect(created.kind).toBe('sign-in');
    await waitPending(bob, created.id);
    await bob.ok('approvals:approve', { id: created.id, pin: '2468' });
    const state = await app.rp.read(created.id);
    expect(state.result!.sealedKey).toBeNull();
    expect((await app.rp.verify(state.result!, created)).key).toBeNull();
    const loginOnly = await addApp(ks, { name: 'Login only', mode: 'login' });
    await expect(loginOnly.rp.requestKey('bob', 'x')).rejects.toMatchObject({ code: 'mode_not_allowed' });
  });
});

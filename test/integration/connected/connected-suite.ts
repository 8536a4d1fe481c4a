/**
 * Connected apps end to end (issue 17), against the real key service on the
 * store the caller chooses: two engines of one user, the relying party of the
 * example application, approvals, denials and expiry.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultCode } from '../../../shared/codes.js';
import type { EngineEvent } from '../../../shared/contract-events.js';
import { startKeyService, type KeyService, type StartKeyServiceOptions } from '../../helpers/key-service.js';
import { cleanup, newUser, openProfile, type Profile, tmp } from '../sync/helpers.js';
import { FAR, streamOf } from '../sync/live-helpers.js';
import { addApp, until, waitPending, type TestApp } from './helpers.js';

export function defineConnectedSuite(name: string, storeOptions: () => Promise<StartKeyServiceOptions>): void {
  describe(`connected apps (${name})`, () => {
    let ks: KeyService;
    let root: string;
    let alice: Profile;
    let alice2: Profile;
    let crm: TestApp;

    beforeAll(async () => {
      ks = await startKeyService(await storeOptions());
      root = tmp('sealpost-connected-');
      alice = await newUser(root, 'alice', ks);
      // A second device of alice's: the identity file restored on another profile.
      const file = await alice.ok('identity:export', { passphrase: 'correct horse battery staple' });
      alice2 = await openProfile(path.join(root, 'alice2'));
      await alice2.ok('identity:import', { file: file.file, passphrase: 'correct horse battery staple', pin: '0' });
      await alice2.ok('device:register', { server: ks.url, appId: ks.app.appId, serverKey: ks.app.serverKey, username: 'alice' });
      crm = await addApp(ks, { mode: 'always', keyBits: 256 });
    }, 120_000);

    afterAll(async () => {
      alice?.close();
      alice2?.close();
      await ks?.close();
      if (root) cleanup(root);
    });

    async function approved(p: Profile, created: { id: string; nonce: string }) {
      await waitPending(p, created.id);
      const r = await p.ok('approvals:approve', { id: created.id });
      expect(r.state).toBe('approved');
      const state = await crm.rp.read(created.id);
      expect(state.state).toBe('approved');
      return crm.rp.verify(state.result!, created);
    }

    it('a sign-in approved on the desktop signs the user in and brings the same key on every request and device', async () => {
      const signIn = await crm.rp.signIn('alice', 'http://127.0.0.1/after', 'Sign in to Acme CRM');
      expect(signIn.kind).toBe('sign-in+key');
      const first = await approved(alice, signIn);
      expect(first.username).toBe('alice');
      expect(first.key).toHaveLength(32);

      const again = await approved(alice, await crm.rp.requestKey('alice', 'Open your notes'));
      expect(again.key!.equals(first.key!)).toBe(true);
      // The second device (the identity restored from its file) derives the very same key.
      const other = await approved(alice2, await crm.rp.requestKey('alice', 'Open your notes'));
      expect(other.key!.equals(first.key!)).toBe(true);
      expect(other.did).toBe(first.did);

      // Another application gets another key; a 128-bit app a 16-byte one.
      const hr = await addApp(ks, { name: 'HR', mode: 'api', keyBits: 128 });
      const created = await hr.rp.requestKey('alice', 'Payslips');
      await waitPending(alice, created.id);
      await alice.ok('approvals:approve', { id: created.id });
      const hrKey = await hr.rp.verify((await hr.rp.read(created.id)).result!, created);
      expect(hrKey.key).toHaveLength(16);
      expect(first.key!.subarray(0, 16).equals(hrKey.key!)).toBe(false);
    });

    it('a result is handed out once', async () => {
      const created = await crm.rp.requestKey('alice', 'once');
      await waitPending(alice, created.id);
      await alice.ok('approvals:approve', { id: created.id });
      expect((await crm.rp.read(created.id)).result).not.toBeNull();
      await expect(crm.rp.read(created.id)).rejects.toMatchObject({ code: 'request_used' });
    });

    it('a denied request stays denied', async () => {
      const created = await crm.rp.requestKey('alice', 'deny me');
      await waitPending(alice, created.id);
      await alice.ok('approvals:deny', { id: created.id });
      expect((await crm.rp.read(created.id)).state).toBe('denied');
      const late = await alice2.call('approvals:approve', { id: created.id });
      expect(late.code).toBe(ResultCode.NotFound);
      const again = await alice.call('approvals:deny', { id: created.id });
      expect(again.code).not.toBe(0);
      const state = await crm.rp.read(created.id);
      expect(state.state).toBe('denied');
      expect(state.result).toBeNull();
    });

    it('an expired request cannot be approved', async () => {
      const created = await crm.rp.requestKey('alice', 'too late');
      await waitPending(alice, created.id);
      // The two minutes pass (moved in the database instead of waiting).
      await ks.server.store.sql().run('UPDATE approval_requests SET expires_at = $2 WHERE id = $1', [created.id, Date.now() - 1000]);
      const r = await alice.call('approvals:approve', { id: created.id });
      expect(r.code).toBe(ResultCode.InvalidState);
      expect(r.code !== 0 && r.message).toMatch(/expired/);
      expect((await crm.rp.read(created.id)).state).toBe('expired');
      expect((await alice.ok('approvals:list', {})).requests.some((x) => x.id === created.id)).toBe(false);
    });

    it('a sign-in that names nobody is claimed with the code the application shows', async () => {
      const created = await crm.rp.signIn(null, 'http://127.0.0.1/after');
      expect(created.userCode).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
      const claimed = await alice.ok('approvals:claim', { code: created.userCode!.toLowerCase() });
      expect(claimed.id).toBe(created.id);
      const who = await approved(alice, created);
      expect(who.username).toBe('alice');
      // Claimed once: the code does not work again.
      expect((await alice2.call('approvals:claim', { code: created.userCode! })).code).toBe(ResultCode.NotFound);
    });

    it('the push stream tells the desktop at once ({type:"approvals"})', async () => {
      const events: EngineEvent[] = [];
      const off = alice.service.onEvent((e) => events.push(e));
      alice.service.messaging.sync.start(FAR, FAR);
      try {
        await until(async () => (await streamOf(alice)) === 'live', 'the stream live');
        await crm.rp.requestKey('alice', 'live');
        await until(async () => events.some((e) => e.type === 'approvals'), 'an approvals event');
      } finally {
        off();
        alice.service.messaging.sync.stop();
      }
    });

    it('apps:list says who received what; a blocked app can only be denied', async () => {
      const apps = await alice.ok('apps:list', {});
      const entry = apps.apps.find((a) => a.id === crm.id)!;
      expect(entry.keys).toBeGreaterThanOrEqual(2);
      expect(entry.signIns).toBeGreaterThanOrEqual(1);
      expect(apps.note).toMatch(/cannot be taken back/);
      const blocked = await alice.ok('apps:block', { appId: crm.id });
      expect(blocked.note).toMatch(/cannot be taken back/);
      const created = await crm.rp.requestKey('alice', 'after the block');
      await waitPending(alice, created.id);
      expect((await alice.ok('approvals:list', {})).requests.find((x) => x.id === created.id)!.blocked).toBe(true);
      const r = await alice.call('approvals:approve', { id: created.id });
      expect(r.code).toBe(ResultCode.InvalidState);
      await alice.ok('approvals:deny', { id: created.id });
      // Both sides' audit logs hold the decisions.
      const local = await alice.ok('audit:list', { limit: 500 });
      expect(local.some((e) => e.action === 'approval.approve' && e.result === 'ok')).toBe(true);
      expect(local.some((e) => e.action === 'approval.deny' && e.result === 'ok')).toBe(true);
      expect(local.some((e) => e.action === 'app.block')).toBe(true);
      const remote = await ks.request('GET', '/v1/audit?limit=1000', { serverKey: ks.app.serverKey });
      expect(remote.status).toBe(200);
      for (const action of ['connected.sign-in', 'connected.key-request', 'approvals.approve', 'approvals.deny', 'approvals.claim']) expect(remote.text).toContain(action);
    });
  });
}

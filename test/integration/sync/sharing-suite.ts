/**
 * Issue 6: sharing through the real key service with three users (alice owns,
 * bob reads, carol edits) and a second desktop of alice restored from an
 * exported identity file. Run on SQLite (sharing.test.ts) and PostgreSQL
 * (sharing-postgres.test.ts).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultCode } from '../../../shared/codes.js';
import { ItemOut } from '../../../shared/wire.js';
import { decodeSyncRecord } from '../../../electron/engine/sync/item-sync.js';
import { SyncError } from '../../../electron/engine/sync/errors.js';
import { openVault } from '../../../electron/engine/vault/db.js';
import { applyRemoteItem } from '../../../electron/engine/vault/items.js';
import { startKeyService, type KeyService, type StartKeyServiceOptions } from '../../helpers/key-service.js';
import { cleanup, newUser, openProfile, type Profile, tmp } from './helpers.js';

/** A raw key-service request with the profile's own device JWT (what a modified client could send). */
async function raw(p: Profile, method: string, url: string, body?: unknown): Promise<{ status: number; code?: string; value?: unknown }> {
  const conn = p.service.messaging.sync.connection()!;
  try {
    const value = await conn.call((auth) => conn.client.request(method, url, { auth, ...(body !== undefined && { body }), schema: ItemOut.or(ItemOut.partial()) }));
    return { status: 200, value };
  } catch (e) {
    if (e instanceof SyncError) return { status: e.extra.status ?? 0, ...(e.extra.code && { code: e.extra.code }) };
    throw e;
  }
}

export function defineSharingSuite(name: string, store: () => Promise<StartKeyServiceOptions>): void {
  describe(`sharing with three users and a second device (${name})`, () => {
    const root = tmp('sealpost-share-');
    let ks: KeyService;
    let alice: Profile;
    let bob: Profile;
    let carol: Profile;
    let alice2: Profile | null = null;
    let id = '';
    let bobId = '';
    let carolId = '';

    beforeAll(async () => {
      ks = await startKeyService(await store());
      alice = await newUser(root, 'alice', ks);
      bob = await newUser(root, 'bob', ks);
      carol = await newUser(root, 'carol', ks);
      const b = await alice.ok('contacts:lookup', { username: 'bob' });
      const c = await alice.ok('contacts:lookup', { username: 'carol' });
      bobId = b.userId;
      carolId = c.userId;
      await alice.ok('contacts:verify', { userId: b.userId, fingerprint: b.fingerprint });
      await bob.ok('contacts:lookup', { username: 'alice' });
      await carol.ok('contacts:lookup', { username: 'alice' });
    });

    afterAll(async () => {
      for (const p of [alice, bob, carol, alice2]) p?.close();
      await ks?.close();
      cleanup(root);
    });

    it('grants: an unverified key needs confirmation; the grantee lists, opens and sees who shared it and when', async () => {
      const item = await alice.ok('items:create', { content: { kind: 'note', title: 'Plan', text: 'meet at noon' } });
      id = item.identifier;
      const refused = await alice.call('items:share', { identifier: id, to: ['carol'], role: 'edit' });
      expect(refused.code).toBe(ResultCode.InvalidState);
      expect(refused.code !== 0 && refused.details).toEqual({ unverified: ['carol'] });
      await alice.ok('items:share', { identifier: id, to: ['bob'], role: 'read' });
      const granted = await alice.ok('items:share', { identifier: id, to: ['carol'], role: 'edit', confirmUnverified: true });
      expect(granted.granted).toEqual([expect.objectContaining({ userId: carolId, label: 'carol', role: 'edit', verified: false, synced: false })]);

      // Overlapping syncs (timer, button, a share's push) join one run instead of racing.
      const [pushed, joined] = await Promise.all([alice.ok('items:sync', {}), alice.ok('items:sync', {})]);
      expect(pushed).toMatchObject({ pushed: 1, grantsPushed: 2 });
      expect(joined).toEqual(pushed);
      const sharing = await alice.ok('items:sharing', { identifier: id });
      expect(sharing.grants).toHaveLength(2);
      expect(sharing.grants).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ userId: bobId, label: 'bob', role: 'read', verified: true, synced: true }),
          expect.objectContaining({ userId: carolId, label: 'carol', role: 'edit', verified: false, synced: true }),
        ]),
      );

      expect((await bob.ok('items:sync', {})).pulled).toBe(1);
      const [listed] = await bob.ok('items:list', {});
      expect(listed).toMatchObject({ identifier: id, title: 'Plan', mine: false, role: 'read', sharedBy: 'alice', revoked: false });
      expect(Date.parse(listed!.sharedAt!)).toBeGreaterThan(0);
      const opened = await bob.ok('items:open', { identifier: id });
      expect(opened.content).toEqual({ kind: 'note', title: 'Plan', text: 'meet at noon' });
      expect(await bob.ok('items:sharing', { identifier: id })).toMatchObject({ role: 'read', mine: false, sharedBy: 'alice', revokedAt: null });
    });

    it('roles: read-only is refused here and by the key service (403); an edit with rights syncs back to the owner', async () => {
      const denied = await bob.call('items:update', { identifier: id, expectedVersion: 1, content: { kind: 'note', title: 'Plan', text: 'bob was here' } });
      expect(denied.code).toBe(ResultCode.InvalidState);
      const put = await raw(bob, 'PUT', `/v1/items/${id}`, { data: Buffer.from('forged').toString('base64'), version: 1 });
      expect(put).toMatchObject({ status: 403, code: 'read_only' });

      await carol.ok('items:sync', {});
      const edited = await carol.ok('items:update', { identifier: id, expectedVersion: 1, content: { kind: 'note', title: 'Plan', text: 'meet at one' } });
      expect(edited.dirty).toBe(true);
      expect((await carol.ok('items:sync', {})).pushed).toBe(1);
      expect((await alice.ok('items:sync', {})).pulled).toBe(1);
      expect((await alice.ok('items:open', { identifier: id })).content).toMatchObject({ text: 'meet at one' });
      expect((await bob.ok('items:sync', {})).pulled).toBe(1);
      expect((await bob.ok('items:open', { identifier: id })).content).toMatchObject({ text: 'meet at one' });
    });

    it('concurrent edits: the second writer keeps both revisions and is asked; the choice syncs to everyone', async () => {
      const a = await alice.ok('items:open', { identifier: id });
      const c = await carol.ok('items:open', { identifier: id });
      await alice.ok('items:update', { identifier: id, expectedVersion: a.item.version, content: { kind: 'note', title: 'Plan', text: 'alice: two' } });
      await carol.ok('items:update', { identifier: id, expectedVersion: c.item.version, content: { kind: 'note', title: 'Plan', text: 'carol: three' } });
      expect((await carol.ok('items:sync', {})).pushed).toBe(1);
      const report = await alice.ok('items:sync', {});
      expect(report).toMatchObject({ pushed: 0, conflicts: 1 });
      const [item] = await alice.ok('items:list', {});
      expect(item!.conflicts).toBe(1);
      expect((await alice.ok('items:open', { identifier: id })).content).toMatchObject({ text: 'alice: two' });
      const conflict = (await alice.ok('items:history', { identifier: id })).find((r) => r.kind === 'conflict' && !r.resolved)!;
      // Blocked until the user chooses: a sync does not overwrite carol's version.
      expect((await alice.ok('items:sync', {})).pushed).toBe(0);
      await alice.ok('items:resolve', { identifier: id, revisionId: conflict.id, keep: 'remote' });
      expect((await alice.ok('items:sync', {})).pushed).toBe(1);
      await carol.ok('items:sync', {});
      expect((await carol.ok('items:open', { identifier: id })).content).toMatchObject({ text: 'carol: three' });
    });

    it('revoke: the grant goes, the key rotates; the old key fails on the new version, the key service says 403, bob keeps what he opened', async () => {
      await bob.ok('items:sync', {});
      const before = await bob.ok('items:open', { identifier: id });
      const r = await alice.ok('items:revoke', { identifier: id, userIds: [bobId] });
      expect(r.revoked).toEqual([bobId]);
      const pushed = await alice.ok('items:sync', {});
      expect(pushed).toMatchObject({ grantsRemoved: 1, pushed: 1, grantsPushed: 1 });

      expect(await raw(bob, 'GET', `/v1/items/${id}`)).toMatchObject({ status: 403, code: 'access_revoked' });
      const sync = await bob.ok('items:sync', {});
      expect(sync.revoked).toBe(1);
      const [listed] = await bob.ok('items:list', {});
      expect(listed).toMatchObject({ identifier: id, revoked: true, version: before.item.version });
      expect((await bob.ok('items:open', { identifier: id })).content).toEqual(before.content);
      expect((await bob.call('items:update', { identifier: id, expectedVersion: before.item.version, content: { kind: 'note', title: 'x', text: 'x' } })).code).toBe(ResultCode.InvalidState);

      // The new version, obtained some other way, does not open with bob's old key.
      const current = await raw(alice, 'GET', `/v1/items/${id}`);
      const rec = decodeSyncRecord(Buffer.from((current.value as { data: string }).data, 'base64'));
      const vault = openVault(bob.dir);
      try {
        expect(applyRemoteItem(vault.db, { identifier: id, version: rec.version, ciphertext: rec.ciphertext, owner: listed!.owner }, Date.now())).toBe('updated');
      } finally {
        vault.close();
      }
      expect((await bob.call('items:open', { identifier: id })).code).toBe(ResultCode.Tampered);

      // carol keeps access under the new key.
      await carol.ok('items:sync', {});
      const c = await carol.ok('items:open', { identifier: id });
      expect(c.item.version).toBe(rec.version);
      expect(c.content).toMatchObject({ text: 'carol: three' });
    });

    it('a revoke meeting unsynced edits: both revisions stay openable under the one new key, on the editor and on the owner', async () => {
      const doc = await alice.ok('items:create', { content: { kind: 'note', title: 'Budget', text: 'v1' } });
      await alice.ok('items:share', { identifier: doc.identifier, to: ['bob'], role: 'read' });
      await alice.ok('items:share', { identifier: doc.identifier, to: ['carol'], role: 'edit', confirmUnverified: true });
      await alice.ok('items:sync', {});
      await carol.ok('items:sync', {});

      // Editor side: carol edits offline while alice revokes bob (rotation).
      await carol.ok('items:update', { identifier: doc.identifier, expectedVersion: 1, content: { kind: 'note', title: 'Budget', text: 'carol offline' } });
      await alice.ok('items:revoke', { identifier: doc.identifier, userIds: [bobId] });
      await alice.ok('items:sync', {});
      expect((await carol.ok('items:sync', {})).conflicts).toBe(1);
      expect((await carol.ok('items:open', { identifier: doc.identifier })).content).toMatchObject({ text: 'carol offline' });
      const carolConflict = (await carol.ok('items:history', { identifier: doc.identifier })).find((r) => r.kind === 'conflict' && !r.resolved)!;
      expect(carolConflict.title).toBe('Budget'); // opens with the new key
      await carol.ok('items:resolve', { identifier: doc.identifier, revisionId: carolConflict.id, keep: 'local' });
      expect((await carol.ok('items:sync', {})).pushed).toBe(1);
      await alice.ok('items:sync', {});
      expect((await alice.ok('items:open', { identifier: doc.identifier })).content).toMatchObject({ text: 'carol offline' });

      // Owner side: carol's edit is on the key service before alice, who has not pulled it, revokes again.
      await alice.ok('items:share', { identifier: doc.identifier, to: ['bob'], role: 'read' });
      await alice.ok('items:sync', {});
      await carol.ok('items:sync', {});
      const c = await carol.ok('items:open', { identifier: doc.identifier });
      await carol.ok('items:update', { identifier: doc.identifier, expectedVersion: c.item.version, content: { kind: 'note', title: 'Budget', text: 'carol online' } });
      await carol.ok('items:sync', {});
      await alice.ok('items:revoke', { identifier: doc.identifier, userIds: [bobId] });
      const report = await alice.ok('items:sync', {});
      expect(report).toMatchObject({ grantsRemoved: 1, conflicts: 1, grantsPushed: 0 });
      expect(await raw(bob, 'GET', `/v1/items/${doc.identifier}`)).toMatchObject({ status: 403, code: 'access_revoked' });
      const aliceConflict = (await alice.ok('items:history', { identifier: doc.identifier })).find((r) => r.kind === 'conflict' && !r.resolved)!;
      expect(aliceConflict.title).toBe('Budget');
      await alice.ok('items:resolve', { identifier: doc.identifier, revisionId: aliceConflict.id, keep: 'remote' });
      expect(await alice.ok('items:sync', {})).toMatchObject({ pushed: 1, grantsPushed: 1 });
      await carol.ok('items:sync', {});
      expect((await carol.ok('items:open', { identifier: doc.identifier })).content).toMatchObject({ text: 'carol online' });
    });

    it('second device: restored from the exported identity file, alice sees her items and grants after sync', async () => {
      const exported = await alice.ok('identity:export', { passphrase: 'correct horse battery staple' });
      alice2 = await openProfile(path.join(root, 'alice-laptop'));
      const wrong = await alice2.call('identity:import', { file: exported.file, passphrase: 'not the passphrase', pin: '0' });
      expect(wrong.code).not.toBe(0);
      const restored = await alice2.ok('identity:import', { file: exported.file, passphrase: 'correct horse battery staple', pin: '0' });
      expect(restored).toMatchObject({ did: exported.did, fingerprint: exported.fingerprint });
      await alice2.ok('device:register', { server: ks.url, appId: ks.app.appId, serverKey: ks.app.serverKey, username: 'alice' });
      const report = await alice2.ok('items:sync', {});
      expect(report.pulled).toBe(2);
      const item = (await alice2.ok('items:list', {})).find((i) => i.identifier === id);
      expect(item).toMatchObject({ identifier: id, mine: true, role: 'owner', sharedWith: 1 });
      expect((await alice2.ok('items:open', { identifier: id })).content).toMatchObject({ text: 'carol: three' });
      const sharing = await alice2.ok('items:sharing', { identifier: id });
      expect(sharing.grants).toEqual([expect.objectContaining({ userId: carolId, role: 'edit', synced: true })]);
    });

    it('audit: grant, revoke, open and refused access on the devices and on the key service; all chains verify', async () => {
      const mine = await alice.ok('audit:list', { limit: 1000 });
      const has = (entries: typeof mine, action: string, result = 'ok') => entries.some((e) => e.action === action && e.result === result && (e.target === id || e.target === null));
      expect(has(mine, 'grant')).toBe(true);
      expect(has(mine, 'revoke')).toBe(true);
      expect(has(mine, 'decrypt')).toBe(true);
      expect(mine.some((e) => e.action === 'grant' && e.details?.on === 'key-service')).toBe(true);
      expect(mine.some((e) => e.action === 'revoke' && e.details?.on === 'key-service')).toBe(true);
      const bobs = await bob.ok('audit:list', { limit: 1000 });
      expect(bobs.some((e) => e.action === 'decrypt' && e.target === id && e.result === 'ok')).toBe(true);
      expect(bobs.some((e) => e.target === id && e.result === 'Denied')).toBe(true);
      expect(bobs.some((e) => e.action === 'decrypt' && e.target === id && e.result === 'Tampered')).toBe(true);
      for (const p of [alice, bob, carol, alice2!]) expect((await p.ok('audit:verify', {})).ok).toBe(true);
      // No content or keys in the log.
      expect(JSON.stringify(mine)).not.toMatch(/meet at|carol: three|alice: two/);

      const log = await alice.ok('items:serviceLog', { identifier: id });
      expect(log.chainOk).toBe(true);
      expect(log.entries).toContainEqual(expect.objectContaining({ who: 'bob', action: 'items.get', status: 200 }));
      expect(log.entries).toContainEqual(expect.objectContaining({ who: 'bob', action: 'items.get', status: 403 }));
      expect(log.entries).toContainEqual(expect.objectContaining({ who: 'bob', action: 'items.put', status: 403 }));
      expect(log.entries).toContainEqual(expect.objectContaining({ who: 'carol', action: 'items.put', status: 200 }));
      expect(log.entries).toContainEqual(expect.objectContaining({ who: 'you', action: 'grants.delete', status: 200 }));
      expect((await bob.call('items:serviceLog', { identifier: id })).code).not.toBe(0);
    });
  });
}

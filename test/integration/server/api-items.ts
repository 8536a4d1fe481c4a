/**
 * API suite part: items and grants (versioned writes, sharing, revoked grantees,
 * the owner's view of an item's log). Its own area of the API, with its own routes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { expectError, type ApiState } from './api-shared.js';

export function defineItemsTests(state: () => ApiState): void {
  describe('items and grants', () => {
    let { ks, alice, bob } = {} as ApiState;
    beforeAll(() => void ({ ks, alice, bob } = state()));

    const data = (s: string) => Buffer.from(s).toString('base64');

    it('versions: create at 0, update at the current version, a stale version is a 409', async () => {
      const put = (version: number, d: string) => ks.request<{ version: number; currentVersion?: number }>('PUT', '/v1/items/notes.1', { jwt: alice.jwt, body: { data: data(d), version, wrappedKey: data('wk-alice') } });
      expect((await put(0, 'v1')).json.version).toBe(1);
      expect((await put(1, 'v2')).json.version).toBe(2);
      const stale = await put(1, 'v2-from-another-device');
      expectError(stale, 409, 'version_conflict');
      expect(stale.json.currentVersion).toBe(2);
      expectError(await put(0, 'recreate'), 409, 'version_conflict');
      const got = await ks.request<{ data: string; version: number; role: string; wrappedKey: string; owner: string }>('GET', '/v1/items/notes.1', { jwt: alice.jwt });
      expect(got.json).toMatchObject({ data: data('v2'), version: 2, role: 'owner', wrappedKey: data('wk-alice'), owner: alice.userid });
      const racing = await Promise.all([put(2, 'a'), put(2, 'b'), put(2, 'c')]);
      expect(racing.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    });

    it('grantees read exactly what is granted to them; read-only cannot write; owners manage grants', async () => {
      await ks.request('PUT', '/v1/items/shared.doc', { jwt: alice.jwt, body: { data: data('secret doc'), version: 0, wrappedKey: data('wk-a') } });
      await ks.request('PUT', '/v1/items/private.doc', { jwt: alice.jwt, body: { data: data('private'), version: 0 } });
      expectError(await ks.request('GET', '/v1/items/shared.doc', { jwt: bob.jwt }), 404, 'unknown_item');
      expectError(await ks.request('PUT', '/v1/items/shared.doc', { jwt: bob.jwt, body: { data: data('x'), version: 1 } }), 403, 'forbidden');

      const grant = await ks.request<{ grants: Array<{ userid: string; role: string }> }>('PUT', '/v1/items/shared.doc/grants', {
        jwt: alice.jwt,
        body: { grants: [{ userid: bob.userid, role: 'read', wrappedKey: data('wk-bob') }] },
      });
      expect(grant.status, grant.text).toBe(200);
      expect(grant.json.grants).toEqual([expect.objectContaining({ userid: bob.userid, role: 'read' })]);
      const asBob = await ks.request<{ data: string; role: string; wrappedKey: string }>('GET', '/v1/items/shared.doc', { jwt: bob.jwt });
      expect(asBob.json).toMatchObject({ data: data('secret doc'), role: 'read', wrappedKey: data('wk-bob') });
      expectError(await ks.request('PUT', '/v1/items/shared.doc', { jwt: bob.jwt, body: { data: data('bob edit'), version: 1 } }), 403, 'read_only');
      expectError(await ks.request('GET', '/v1/items/private.doc', { jwt: bob.jwt }), 404);
      const shared = await ks.request<{ items: Array<{ identifier: string; role: string }> }>('GET', '/v1/items?shared=1', { jwt: bob.jwt });
      expect(shared.json.items.map((i) => [i.identifier, i.role])).toEqual([['shared.doc', 'read']]);
      expectError(await ks.request('PUT', '/v1/items/shared.doc/grants', { jwt: bob.jwt, body: { grants: [{ userid: bob.userid, role: 'edit', wrappedKey: data('x') }] } }), 403, 'owner_only');
      const bobsView = await ks.request<{ grants: unknown[] }>('GET', '/v1/items/shared.doc/grants', { jwt: bob.jwt });
      expect(bobsView.json.grants).toHaveLength(1);

      await ks.request('PUT', '/v1/items/shared.doc/grants', { jwt: alice.jwt, body: { grants: [{ userid: bob.userid, role: 'edit', wrappedKey: data('wk-bob2') }] } });
      const edited = await ks.request<{ version: number }>('PUT', '/v1/items/shared.doc', { jwt: bob.jwt, body: { data: data('bob edit'), version: 1 } });
      expect(edited.json.version).toBe(2);
      expectError(await ks.request('PUT', '/v1/items/shared.doc', { jwt: bob.jwt, body: { data: data('x'), version: 2, wrappedKey: data('x') } }), 400, 'owner_only');
      expectError(await ks.request('DELETE', '/v1/items/shared.doc', { jwt: bob.jwt }), 403, 'owner_only');

      const removed = await ks.request<{ removed: number }>('DELETE', `/v1/items/shared.doc/grants?userid=${bob.userid}`, { jwt: alice.jwt });
      expect(removed.json.removed).toBe(1);
      expectError(await ks.request('GET', '/v1/items/shared.doc', { jwt: bob.jwt }), 403, 'access_revoked');
      expect((await ks.request<{ items: unknown[] }>('GET', '/v1/items?shared=true', { jwt: bob.jwt })).json.items).toEqual([]);
      const own = await ks.request<{ items: Array<{ identifier: string }> }>('GET', '/v1/items', { jwt: alice.jwt });
      expect(own.json.items.map((i) => i.identifier)).toEqual(expect.arrayContaining(['notes.1', 'private.doc', 'shared.doc']));
    });

    it('grants only to users of the app; items need a device JWT', async () => {
      await ks.request('PUT', '/v1/items/g.test', { jwt: alice.jwt, body: { data: data('g'), version: 0 } });
      expectError(await ks.request('PUT', '/v1/items/g.test/grants', { jwt: alice.jwt, body: { grants: [{ userid: `u_${'0'.repeat(24)}`, role: 'read', wrappedKey: data('w') }] } }), 404, 'unknown_user');
      expectError(await ks.request('PUT', '/v1/items/g.test/grants', { jwt: alice.jwt, body: { grants: [{ userid: alice.userid, role: 'read', wrappedKey: data('w') }] } }), 400, 'self_grant');
      expectError(await ks.request('GET', '/v1/items/g.test', { clientKey: ks.app.clientKey }), 401, 'wrong_credential');
      expect((await ks.request('DELETE', '/v1/items/g.test', { jwt: alice.jwt })).json).toEqual({ deleted: true });
      expectError(await ks.request('GET', '/v1/items/g.test', { jwt: alice.jwt }), 404);
    });

    it('a revoked grantee gets 403 access_revoked (strangers still 404); the owner reads the log about the item', async () => {
      await ks.request('PUT', '/v1/items/rv.doc', { jwt: alice.jwt, body: { data: data('v1'), version: 0, wrappedKey: data('wk-a') } });
      await ks.request('PUT', '/v1/items/rv.doc/grants', { jwt: alice.jwt, body: { grants: [{ userid: bob.userid, role: 'edit', wrappedKey: data('wk-b') }] } });
      expect((await ks.request('GET', '/v1/items/rv.doc', { jwt: bob.jwt })).status).toBe(200);
      const removed = await ks.request<{ removed: number }>('DELETE', '/v1/items/rv.doc/grants', { jwt: alice.jwt, body: { userids: [bob.userid] } });
      expect(removed.json.removed).toBe(1);
      await ks.request('PUT', '/v1/items/rv.doc', { jwt: alice.jwt, body: { data: data('v2 rotated'), version: 1, wrappedKey: data('wk-a2') } });
      expectError(await ks.request('GET', '/v1/items/rv.doc', { jwt: bob.jwt }), 403, 'access_revoked');
      expectError(await ks.request('PUT', '/v1/items/rv.doc', { jwt: bob.jwt, body: { data: data('bob'), version: 2 } }), 403, 'access_revoked');
      expectError(await ks.request('GET', '/v1/items/rv.doc/grants', { jwt: bob.jwt }), 403, 'access_revoked');
      expect((await ks.request<{ items: unknown[] }>('GET', '/v1/items?shared=1', { jwt: bob.jwt })).json.items).toEqual([]);

      const log = await ks.request<{ entries: Array<{ userId: string | null; action: string; result: string; status: number; target: string }> }>('GET', '/v1/audit?identifier=rv.doc&limit=1000', { jwt: alice.jwt });
      expect(log.status, log.text).toBe(200);
      expect(log.json.entries.every((e) => e.target === 'item:rv.doc')).toBe(true);
      expect(log.json.entries).toContainEqual(expect.objectContaining({ userId: bob.userid, action: 'items.get', status: 200 }));
      expect(log.json.entries).toContainEqual(expect.objectContaining({ userId: bob.userid, action: 'items.get', status: 403 }));
      expect(log.json.entries).toContainEqual(expect.objectContaining({ userId: alice.userid, action: 'grants.delete', status: 200 }));
      expectError(await ks.request('GET', '/v1/audit?identifier=rv.doc', { jwt: bob.jwt }), 404, 'unknown_item');
      expect((await ks.request('GET', '/v1/audit?identifier=rv.doc', { serverKey: ks.app.serverKey })).status).toBe(200);

      // The owner's list says when grants moved (a sync fetches grants only then); ?meta=1 leaves out the data.
      type Listed = { items: Array<{ identifier: string; data?: string; version: number; grantsChangedAt: string | null }> };
      const meta = await ks.request<Listed>('GET', '/v1/items?meta=1', { jwt: alice.jwt });
      const rv = meta.json.items.find((i) => i.identifier === 'rv.doc')!;
      expect(rv.data).toBeUndefined();
      expect(rv.version).toBe(2);
      expect(Date.parse(rv.grantsChangedAt!)).toBeGreaterThan(0);
      expect(meta.json.items.find((i) => i.identifier === 'private.doc')?.grantsChangedAt).toBeNull();
      expect((await ks.request<Listed>('GET', '/v1/items', { jwt: alice.jwt })).json.items.find((i) => i.identifier === 'rv.doc')!.data).toBe(data('v2 rotated'));

      // Granted again: the revocation is forgotten.
      await ks.request('PUT', '/v1/items/rv.doc/grants', { jwt: alice.jwt, body: { grants: [{ userid: bob.userid, role: 'read', wrappedKey: data('wk-b2') }] } });
      expect((await ks.request<{ wrappedKey: string }>('GET', '/v1/items/rv.doc', { jwt: bob.jwt })).json.wrappedKey).toBe(data('wk-b2'));
      const again = (await ks.request<Listed>('GET', '/v1/items?meta=true', { jwt: alice.jwt })).json.items.find((i) => i.identifier === 'rv.doc')!;
      expect(Date.parse(again.grantsChangedAt!)).toBeGreaterThanOrEqual(Date.parse(rv.grantsChangedAt!));
    });
  });
}

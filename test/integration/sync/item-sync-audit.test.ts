/**
 * What an item sync leaves in the device's audit log. The Vault screen syncs
 * every 30 s, so a sync that changes nothing is not logged; one that pushes or
 * pulls is (with its counts), and so is one that fails.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultCode } from '../../../shared/codes.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { cleanup, newUser, type Profile, tmp } from './helpers.js';

describe('item sync in the audit log', () => {
  const root = tmp('sealpost-item-sync-audit-');
  let ks: KeyService;
  let alice: Profile;

  beforeAll(async () => {
    ks = await startKeyService({ db: path.join(root, 'ks.db') });
    alice = await newUser(root, 'alice', ks);
  });

  afterAll(async () => {
    alice?.close();
    await ks?.close().catch(() => undefined);
    cleanup(root);
  });

  const syncEntries = async () => alice.ok('audit:list', { action: 'item.sync', limit: 1000 });

  it('a sync that pushes is logged with its counts; syncs that change nothing are not', async () => {
    await alice.ok('items:create', { content: { kind: 'note', title: 'Plan', text: 'step one' } });
    expect((await alice.ok('items:sync', {})).pushed).toBe(1);
    const [pushed] = await syncEntries();
    expect(pushed).toMatchObject({ result: 'ok', details: { pushed: 1 } });
    for (let i = 0; i < 3; i++) expect(await alice.ok('items:sync', {})).toMatchObject({ pushed: 0, pulled: 0 });
    expect(await syncEntries()).toHaveLength(1);
  });

  it('a sync that fails is logged', async () => {
    await ks.close();
    const r = await alice.call('items:sync', {});
    expect(r.code).toBe(ResultCode.NoInternetAccess);
    const entries = await syncEntries();
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ result: 'NoInternetAccess' });
  });
});

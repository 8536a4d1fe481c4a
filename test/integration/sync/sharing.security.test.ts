/**
 * Sharing, hostile side (docs/sharing.md): what a grantee with edit rights, or a
 * key service that changed the bytes, can and cannot do to the owner. Bytes that
 * are not a sync record are refused and audited; a record that does not open is
 * kept as a version but reported Tampered when opened, and the earlier versions
 * stay readable in the history. A grantee cannot replace the owner's wrapped key
 * or the grants. Real key service on loopback, SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultCode } from '../../../shared/codes.js';
import { PutItemResponse } from '../../../shared/wire.js';
import { sealItem } from '../../../electron/engine/crypto/item-crypto.js';
import { SyncError } from '../../../electron/engine/sync/errors.js';
import { encodeSyncRecord } from '../../../electron/engine/sync/item-sync.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { cleanup, newUser, type Profile, tmp } from './helpers.js';

async function put(p: Profile, path: string, body: unknown): Promise<{ status: number; code?: string }> {
  const conn = p.service.messaging.sync.connection()!;
  try {
    await conn.call((auth) => conn.client.request('PUT', path, { auth, body, schema: PutItemResponse.passthrough().or(PutItemResponse.partial().passthrough()) }));
    return { status: 200 };
  } catch (e) {
    if (e instanceof SyncError) return { status: e.extra.status ?? 0, ...(e.extra.code && { code: e.extra.code }) };
    throw e;
  }
}

describe('sharing: a hostile grantee or altered bytes on the key service', () => {
  const root = tmp('sealpost-share-sec-');
  let ks: KeyService;
  let alice: Profile;
  let carol: Profile;
  let id = '';

  beforeAll(async () => {
    ks = await startKeyService();
    alice = await newUser(root, 'alice', ks);
    carol = await newUser(root, 'carol', ks);
    const item = await alice.ok('items:create', { content: { kind: 'note', title: 'Ledger', text: 'balance 100' } });
    id = item.identifier;
    await alice.ok('items:share', { identifier: id, to: ['carol'], role: 'edit', confirmUnverified: true });
    await alice.ok('items:sync', {});
    await carol.ok('items:sync', {});
  });

  afterAll(async () => {
    alice?.close();
    carol?.close();
    await ks?.close();
    cleanup(root);
  });

  it('an edit grantee cannot set the owner\'s wrapped key or the grants', async () => {
    const record = Buffer.from(encodeSyncRecord({ version: 9, deleted: false, ciphertext: new Uint8Array(40) })).toString('base64');
    expect(await put(carol, `/v1/items/${id}`, { data: record, version: 1, wrappedKey: Buffer.from('x').toString('base64') })).toMatchObject({ status: 400, code: 'owner_only' });
    expect(await put(carol, `/v1/items/${id}/grants`, { grants: [{ userid: 'u_000000000000000000000000', role: 'edit', wrappedKey: 'AAAA' }] })).toMatchObject({ status: 403, code: 'owner_only' });
  });

  it('bytes that are not a sync record are refused and audited; the local item is untouched', async () => {
    expect((await put(carol, `/v1/items/${id}`, { data: Buffer.from('not a record at all').toString('base64'), version: 1 })).status).toBe(200);
    const report = await alice.ok('items:sync', {});
    expect(report.pulled).toBe(0);
    expect((await alice.ok('items:open', { identifier: id })).content).toMatchObject({ text: 'balance 100' });
    const audit = await alice.ok('audit:list', { limit: 1000 });
    expect(audit.some((e) => e.action === 'decrypt' && e.target === id && e.result === 'Tampered' && e.details?.op === 'pull')).toBe(true);
  });

  it('a record under another key is kept as a version but opens as Tampered; the earlier version stays readable', async () => {
    const forged = sealItem({ identifier: id, version: 5, data: 'balance 0', recipients: [(await carol.ok('identity:get', {})).publicKeyPem] });
    forged.dek.fill(0);
    const data = Buffer.from(encodeSyncRecord({ version: 5, deleted: false, ciphertext: forged.ciphertext })).toString('base64');
    expect((await put(carol, `/v1/items/${id}`, { data, version: 2 })).status).toBe(200);
    expect((await alice.ok('items:sync', {})).pulled).toBe(1);
    const opened = await alice.call('items:open', { identifier: id });
    expect(opened.code).toBe(ResultCode.Tampered);
    const history = await alice.ok('items:history', { identifier: id });
    expect(history.some((r) => r.version === 1 && r.title === 'Ledger')).toBe(true);
    // The key service's log names who wrote it.
    const log = await alice.ok('items:serviceLog', { identifier: id });
    expect(log.entries.filter((e) => e.who === 'carol' && e.action === 'items.put' && e.status === 200)).toHaveLength(2);
  });
});

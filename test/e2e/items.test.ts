/**
 * The vault item channels the UI uses (electron/engine/service/items.ts),
 * through dispatch as the webhost and IPC call them: sealed content round
 * trips and interoperates with IDENTOS decrypt, stale edits are conflicts,
 * deletes are tombstones with history, remote conflicts are kept until the
 * user chooses, and revoking rotates the item key for who stays.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Channel, Output } from '../../shared/contract.js';
import { TEST_KDF_PARAMS } from '../../electron/engine/crypto/pin-kdf.js';
import { dispatch } from '../../electron/engine/dispatch.js';
import { openService, type Service } from '../../electron/engine/service/index.js';
import { openVault } from '../../electron/engine/vault/db.js';
import { applyRemoteItem, getItem } from '../../electron/engine/vault/items.js';
import { listItemKeys } from '../../electron/engine/vault/item-keys.js';
import { upsertContact } from '../../electron/engine/vault/contacts.js';
import { generateEncryptionKeyPair } from '../../electron/engine/crypto/rsa.js';

let dir: string;
let service: Service;

async function ok<C extends Channel>(channel: C, input: unknown): Promise<Output<C>> {
  const r = await dispatch(service.handlers, channel, input);
  if (r.code !== 0) throw new Error(`${channel}: ${r.code} ${r.message}`);
  return r.value as Output<C>;
}
const code = async (channel: Channel, input: unknown) => (await dispatch(service.handlers, channel, input)).code;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealpost-items-'));
  service = await openService({ profileDir: dir, actor: 'ui', keychain: 'file', kdfParams: TEST_KDF_PARAMS });
  await ok('identity:create', { pin: '2580', rsaBits: 2048 });
});

afterAll(() => {
  service?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('vault items through the contract', () => {
  it('creates, lists, opens notes and files; an item is an IDENTOS container too', async () => {
    const note = await ok('items:create', { content: { kind: 'note', title: 'Groceries', text: 'eggs, 🍋' } });
    expect(note).toMatchObject({ kind: 'note', title: 'Groceries', version: 1, mine: true, dirty: true, size: 10, sharedWith: 0 });
    const file = await ok('items:create', { content: { kind: 'file', title: 'Scan', fileName: 'scan.pdf', mime: 'application/pdf', data: Buffer.from('%PDF-1.7').toString('base64') } });
    expect(file.size).toBe(8);
    const list = await ok('items:list', {});
    expect(list.map((i) => i.title).sort()).toEqual(['Groceries', 'Scan']);
    const opened = await ok('items:open', { identifier: note.identifier });
    expect(opened.content).toEqual({ kind: 'note', title: 'Groceries', text: 'eggs, 🍋' });

    // vault:encrypt data shows up as a "data" item and opens through items:open.
    const [, id] = await ok('vault:encrypt', { data: Buffer.from('raw bytes').toString('base64') });
    const raw = await ok('items:open', { identifier: id });
    expect(raw.content).toEqual({ kind: 'data', title: id, data: Buffer.from('raw bytes').toString('base64') });
  });

  it('an edit of a stale version is a Conflict; delete leaves a tombstone and history', async () => {
    const item = await ok('items:create', { content: { kind: 'note', title: 'Draft', text: 'v1' } });
    const v2 = await ok('items:update', { identifier: item.identifier, expectedVersion: 1, content: { kind: 'note', title: 'Draft', text: 'v2' } });
    expect(v2.version).toBe(2);
    expect(await code('items:update', { identifier: item.identifier, expectedVersion: 1, content: { kind: 'note', title: 'Draft', text: 'lost?' } })).toBe(-409);
    expect((await ok('items:open', { identifier: item.identifier })).content).toMatchObject({ text: 'v2' });
    await ok('items:delete', { identifier: item.identifier, expectedVersion: 2 });
    expect(await code('items:open', { identifier: item.identifier })).toBe(-404);
    expect((await ok('items:list', {})).some((i) => i.identifier === item.identifier)).toBe(false);
    const history = await ok('items:history', { identifier: item.identifier });
    expect(history.map((h) => [h.version, h.title])).toEqual([
      [2, 'Draft'],
      [1, 'Draft'],
    ]);
  });

  it('a remote revision over a local edit is kept as a conflict until the user picks one', async () => {
    const item = await ok('items:create', { content: { kind: 'note', title: 'Shared list', text: 'local' } });
    // Another device's revision, sealed under the same item key: made here with
    // items:update on a copy, then put back as the "remote" one.
    const remote = await ok('items:update', { identifier: item.identifier, expectedVersion: 1, content: { kind: 'note', title: 'Shared list', text: 'remote' } });
    const vault = openVault(dir);
    try {
      const remoteRow = getItem(vault.db, item.identifier)!;
      // Local edit on top (dirty), then the remote v2 arrives again with other bytes -> conflict.
      await ok('items:update', { identifier: item.identifier, expectedVersion: remote.version, content: { kind: 'note', title: 'Shared list', text: 'local edit' } });
      expect(applyRemoteItem(vault.db, { identifier: item.identifier, version: 3, ciphertext: remoteRow.ciphertext, owner: remoteRow.owner }, Date.now())).toBe('conflict');
    } finally {
      vault.close();
    }
    const listed = (await ok('items:list', {})).find((i) => i.identifier === item.identifier)!;
    expect(listed.conflicts).toBe(1);
    const conflict = (await ok('items:history', { identifier: item.identifier })).find((h) => h.kind === 'conflict')!;
    // Sealed for version 2, stored as version 3: its AAD does not match, so it cannot be opened — and says so.
    expect(conflict.title).toBeNull();
    expect(await code('items:resolve', { identifier: item.identifier, revisionId: conflict.id, keep: 'remote' })).toBe(-420);
    const kept = await ok('items:resolve', { identifier: item.identifier, revisionId: conflict.id, keep: 'local' });
    expect(kept.version).toBe(4);
    expect(kept.conflicts).toBe(0);
    expect((await ok('items:open', { identifier: item.identifier })).content).toMatchObject({ text: 'local edit' });
  });

  it('grant lists the grantee; revoke rotates the key so only the owner (and who stays) can open the new version', async () => {
    const item = await ok('items:create', { content: { kind: 'note', title: 'Door code', text: '4711#' } });
    const bob = await generateEncryptionKeyPair(2048);
    const carol = await generateEncryptionKeyPair(2048);
    const vault = openVault(dir);
    try {
      for (const [userId, pem] of [
        ['u_bob', bob.publicKeyPem],
        ['u_carol', carol.publicKeyPem],
      ] as const) {
        upsertContact(vault.db, { userId, username: userId.slice(2), fingerprint: 'ab'.repeat(32), encryptionKey: pem }, Date.now());
      }
    } finally {
      vault.close();
    }
    await ok('vault:grantAccess', { identifier: item.identifier, userIds: ['bob', 'carol'] });
    const access = await ok('items:access', { identifier: item.identifier });
    expect(access.map((g) => g.label).sort()).toEqual(['You', 'bob', 'carol']);
    const before = openVault(dir);
    const bobKeyBefore = listItemKeys(before.db, item.identifier).find((k) => k.grantee === 'u_bob')!.wrapped;
    before.close();

    const revoked = await ok('items:revoke', { identifier: item.identifier, userIds: ['u_bob'] });
    expect(revoked).toEqual({ revoked: ['u_bob'], version: 2 });
    expect((await ok('items:access', { identifier: item.identifier })).map((g) => g.label).sort()).toEqual(['You', 'carol']);
    expect((await ok('items:open', { identifier: item.identifier })).content).toMatchObject({ text: '4711#' });

    // Bob's old key does not open the new version; carol's new one does.
    const { unwrapDek, openItemWithDek } = await import('../../electron/engine/crypto/item-crypto.js');
    const { importPrivateKey } = await import('../../electron/engine/crypto/rsa.js');
    const after = openVault(dir);
    try {
      const current = getItem(after.db, item.identifier)!;
      const oldDek = unwrapDek(bobKeyBefore, importPrivateKey(bob.privateKeyDer));
      expect(() => openItemWithDek({ identifier: item.identifier, version: current.version, ciphertext: current.ciphertext, dek: oldDek })).toThrow();
      const carolKey = listItemKeys(after.db, item.identifier).find((k) => k.grantee === 'u_carol')!.wrapped;
      const carolDek = unwrapDek(carolKey, importPrivateKey(carol.privateKeyDer));
      const plain = openItemWithDek({ identifier: item.identifier, version: current.version, ciphertext: current.ciphertext, dek: carolDek });
      expect(JSON.parse(Buffer.from(plain).toString('utf8'))).toMatchObject({ kind: 'note', text: '4711#' });
    } finally {
      after.close();
    }
    expect(await code('items:revoke', { identifier: item.identifier, userIds: ['u_bob'] })).toBe(-404);
  });

  it('everything needs the keys: locked, item calls answer Locked', async () => {
    await ok('session:lock', {});
    expect(await code('items:list', {})).toBe(-104);
    expect(await code('items:create', { content: { kind: 'note', title: 'x', text: '' } })).toBe(-104);
    await ok('session:authenticate', { pin: '2580' });
    expect((await ok('items:list', {})).length).toBeGreaterThan(0);
  });
});

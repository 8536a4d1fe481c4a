/**
 * The real OS keychain: keytar -> libsecret -> gnome-keyring over a private D-Bus
 * session (test/helpers/secret-service.ts). With CI=true a missing gnome-keyring
 * fails this file; elsewhere it is skipped with the reason printed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KDF_PARAMS } from '../../../electron/engine/crypto/pin-kdf.js';
import { BACKEND_MARKER, KEYCHAIN_FILE, KeychainError, openKeychain, type OpenedKeychain } from '../../../electron/engine/keychain/index.js';
import { PinVault } from '../../../electron/engine/session/index.js';
import { secretServiceMissing, useSecretService, type SecretService } from '../../helpers/secret-service.js';

const missing = secretServiceMissing();
const ci = process.env.CI === 'true';
if (missing && !ci) console.warn(`[skip] Secret Service keychain tests: ${missing}`);

describe.skipIf(!!missing && !ci)('keychain: OS Secret Service (gnome-keyring)', () => {
  let service: SecretService;
  let root: string;
  const profile = `test-${process.pid}-${Date.now()}`;
  let dir: string;
  let keychain: OpenedKeychain;

  const lookup = (account: string): string | null => {
    try {
      return execFileSync('secret-tool', ['lookup', 'service', 'Sealpost', 'account', `${profile}/${account}`], {
        env: { ...process.env, ...service.env },
        encoding: 'utf8',
      });
    } catch {
      return null; // secret-tool exits 1 when nothing matches
    }
  };

  beforeAll(async () => {
    if (missing) throw new Error(`CI=true but the Secret Service test cannot run: ${missing}`);
    service = await useSecretService();
    root = mkdtempSync(path.join(os.tmpdir(), 'sealpost-kc-'));
    dir = path.join(root, 'profile');
    keychain = await openKeychain({ profileDir: dir, profileName: profile });
  });

  afterAll(async () => {
    for (const account of ['identity', 'audit-head', 'server-credentials'] as const) await keychain?.delete(account).catch(() => undefined);
    await service?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('is chosen when it answers, and says so', () => {
    expect(keychain.backend).toBe('secret-service');
    expect(keychain.reason).toMatch(/Secret Service answered/);
  });

  it('round-trips every byte value; missing entries are null/false', async () => {
    const value = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(await keychain.get('server-credentials')).toBeNull();
    await keychain.set('server-credentials', value);
    expect(await keychain.get('server-credentials')).toEqual(value);
    await keychain.set('server-credentials', new Uint8Array([1, 2, 3]));
    expect(await keychain.get('server-credentials')).toEqual(new Uint8Array([1, 2, 3]));
    expect(await keychain.delete('server-credentials')).toBe(true);
    expect(await keychain.delete('server-credentials')).toBe(false);
    expect(await keychain.get('server-credentials')).toBeNull();
  });

  it('stores entries in gnome-keyring as service "Sealpost", account "<profile>/<purpose>", never in the profile dir', async () => {
    await keychain.set('audit-head', new TextEncoder().encode('head'));
    expect(lookup('audit-head')).toBe(Buffer.from('head').toString('base64'));
    expect(existsSync(path.join(dir, KEYCHAIN_FILE))).toBe(false);
    expect(readdirSync(dir)).toEqual([BACKEND_MARKER]);
  });

  it('keeps profiles apart', async () => {
    const other = await openKeychain({ profileDir: path.join(root, 'other'), profileName: `${profile}-b` });
    await keychain.set('audit-head', new Uint8Array([1]));
    await other.set('audit-head', new Uint8Array([2]));
    expect(await keychain.get('audit-head')).toEqual(new Uint8Array([1]));
    expect(await other.delete('audit-head')).toBe(true);
    expect(await keychain.get('audit-head')).toEqual(new Uint8Array([1]));
  });

  it('PIN vault: the attempt counter lives in the keyring record; deleting every profile file resets nothing', async () => {
    const secrets = new Uint8Array(64).fill(7);
    const vault = await PinVault.create(keychain, { pin: '2468', secrets, kdfParams: TEST_KDF_PARAMS });
    await expect(vault.unlock('1111')).rejects.toMatchObject({ kind: 'wrong-pin', attemptsLeft: 9 });
    await expect(vault.unlock('1112')).rejects.toMatchObject({ kind: 'wrong-pin', attemptsLeft: 8 });
    const stored = JSON.parse(Buffer.from(lookup('identity')!, 'base64').toString('utf8')) as { failures: number; kek: string; file: string };
    expect(stored.failures).toBe(2);
    expect(Buffer.from(stored.kek, 'base64')).toHaveLength(32); // the keyring holds the KEK, the profile the sealed file
    for (const f of readdirSync(dir)) if (f !== stored.file) rmSync(path.join(dir, f), { recursive: true, force: true });
    const again = await openKeychain({ profileDir: dir, profileName: profile });
    expect(again.backend).toBe('secret-service');
    const restarted = PinVault.open(again, { kdfParams: TEST_KDF_PARAMS });
    expect(await restarted.status()).toMatchObject({ exists: true, attemptsUsed: 2, attemptsLeft: 8 });
    expect(await restarted.unlock('2468')).toEqual(secrets);
    expect((await restarted.status()).attemptsUsed).toBe(0);
  });

  it('a profile that uses the Secret Service refuses to fall back to a file when it stops answering', async () => {
    await expect(
      openKeychain({ profileDir: dir, profileName: profile, env: { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' } }),
    ).rejects.toMatchObject({ name: 'KeychainError', kind: 'unavailable', message: expect.stringMatching(/keeps its keys in the OS keychain/) });
    // explicit choice still possible
    const file = await openKeychain({ profileDir: dir, profileName: profile, prefer: 'file' });
    expect(file.backend).toBe('file');
    await expect(openKeychain({ profileDir: dir, profileName: profile, prefer: 'secret-service', env: {} })).rejects.toBeInstanceOf(KeychainError);
  });
});

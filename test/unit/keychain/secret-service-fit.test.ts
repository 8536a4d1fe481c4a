/**
 * Keys fit every OS keychain, on the real Secret Service (gnome-keyring over a
 * private D-Bus session) and the real engine: an RSA-4096 identity, registered with
 * a real key service and rotated once, writes no keyring value over 2,560 bytes
 * (Windows Credential Manager's limit), read back from gnome-keyring with
 * secret-tool. A profile in the v1 layout (the whole PIN blob in the keyring) is
 * migrated on its next unlock. With CI=true a missing gnome-keyring fails this file.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../../shared/codes.js';
import type { Channel, Input, Output } from '../../../shared/contract.js';
import { TEST_KDF_PARAMS } from '../../../electron/engine/crypto/pin-kdf.js';
import { dispatch } from '../../../electron/engine/dispatch.js';
import { KEYCHAIN_ACCOUNTS, loadKeytar, OS_KEYCHAIN_MAX_VALUE_BYTES } from '../../../electron/engine/keychain/index.js';
import { openService, type Service } from '../../../electron/engine/service/index.js';
import { decodeKeyRecord, recordVersion } from '../../../electron/engine/session/key-record.js';
import { encodeRecord } from '../../../electron/engine/session/record.js';
import { readSealedIdentity } from '../../../electron/engine/session/sealed-identity.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { secretServiceMissing, useSecretService, type SecretService } from '../../helpers/secret-service.js';

const missing = secretServiceMissing();
const ci = process.env.CI === 'true';
if (missing && !ci) console.warn(`[skip] Secret Service fit tests: ${missing}`);

describe.skipIf(!!missing && !ci)('keys fit every OS keychain: the real Secret Service', () => {
  let secretService: SecretService;
  let ks: KeyService;
  let root: string;
  let dir: string;
  let service: Service;
  let profileName: string;

  const call = <C extends Channel>(channel: C, input: Input<C>) => dispatch(service.handlers, channel, input) as Promise<Result<Output<C>>>;
  const ok = async <C extends Channel>(channel: C, input: Input<C>): Promise<Output<C>> => {
    const r = await call(channel, input);
    if (r.code !== 0) throw new Error(`${channel}: ${r.code} ${r.message}`);
    return r.value;
  };
  const open = async (): Promise<Service> =>
    (service = await openService({ profileDir: dir, keychain: 'secret-service', kdfParams: TEST_KDF_PARAMS, actor: 'test' }));
  /** What gnome-keyring holds for an account (the base64 text keytar stored), or null. */
  const lookup = (account: string): string | null => {
    try {
      return execFileSync('secret-tool', ['lookup', 'service', 'Sealpost', 'account', `${profileName}/${account}`], {
        env: { ...process.env, ...secretService.env },
        encoding: 'utf8',
      });
    } catch {
      return null;
    }
  };

  beforeAll(async () => {
    if (missing) throw new Error(`CI=true but the Secret Service test cannot run: ${missing}`);
    secretService = await useSecretService();
    ks = await startKeyService();
    root = mkdtempSync(path.join(os.tmpdir(), 'sealpost-fit-ss-'));
    dir = path.join(root, 'profile');
    await open();
    profileName = keyringProfile(dir);
  }, 60_000);

  afterAll(async () => {
    service?.close();
    const loaded = loadKeytar();
    if (profileName && 'keytar' in loaded) for (const a of KEYCHAIN_ACCOUNTS) await loaded.keytar.deletePassword('Sealpost', `${profileName}/${a}`).catch(() => false);
    await ks?.close();
    await secretService?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('an RSA-4096 identity, registered and rotated: every keyring value is at most 2,560 bytes', async () => {
    expect(service.keychain.backend).toBe('secret-service');
    await ok('identity:create', { pin: '2468', rsaBits: 4096 });
    await ok('device:register', { server: ks.url, appId: ks.app.appId, serverKey: ks.app.serverKey, username: 'fit-alice' });
    await ok('keys:rotate', { pin: '2468' });
    await ok('pin:change', { oldPin: '2468', newPin: '135790' });
    const sizes = Object.fromEntries(KEYCHAIN_ACCOUNTS.map((a) => [a, lookup(a)?.length ?? 0]));
    for (const account of ['identity', 'audit-head', 'server-credentials', 'device-key'] as const) expect(sizes[account], account).toBeGreaterThan(0);
    for (const [account, size] of Object.entries(sizes)) expect(size, account).toBeLessThanOrEqual(OS_KEYCHAIN_MAX_VALUE_BYTES);
    // the identity (two RSA-4096 keys now) is in the profile folder, sealed under the keyring's KEK
    const record = decodeKeyRecord(Buffer.from(lookup('identity')!, 'base64'));
    if (record.state !== 'sealed') throw new Error('expected a sealed record');
    expect((await readSealedIdentity(dir, record.file, record.kek)).length).toBeGreaterThan(4000);
    service.close();
    await open();
    await ok('session:authenticate', { pin: '135790' });
  }, 240_000);

  it('a v1 profile (the whole PIN blob in the keyring) is migrated on its next unlock', async () => {
    // Put the profile back in the v1 layout, as a build before this change left it.
    const record = decodeKeyRecord(Buffer.from(lookup('identity')!, 'base64'));
    if (record.state !== 'sealed') throw new Error('expected a sealed record');
    const pinBlob = await readSealedIdentity(dir, record.file, record.kek);
    const v1 = encodeRecord({ state: 'sealed', pinDisabled: false, failures: 1, lastFailureAt: 1, sealed: pinBlob });
    service.close();
    const loaded = loadKeytar();
    if ('error' in loaded) throw new Error(loaded.error);
    // keytar directly: the engine itself no longer writes a value this large
    await loaded.keytar.setPassword('Sealpost', `${profileName}/identity`, Buffer.from(v1).toString('base64'));
    unlinkSync(path.join(dir, record.file));
    expect(lookup('identity')!.length).toBeGreaterThan(OS_KEYCHAIN_MAX_VALUE_BYTES);

    await open();
    expect((await ok('engine:status', {})).attemptsLeft).toBe(9);
    await ok('session:authenticate', { pin: '135790' });
    const migrated = Buffer.from(lookup('identity')!, 'base64');
    expect(recordVersion(migrated)).toBe(2);
    expect(lookup('identity')!.length).toBeLessThanOrEqual(OS_KEYCHAIN_MAX_VALUE_BYTES);
    expect(readdirSync(dir).filter((f) => f.endsWith('.sealed'))).toHaveLength(1);
    expect((await ok('engine:status', {})).attemptsLeft).toBe(10);
    await ok('vault:encrypt', { data: Buffer.from('still my keys').toString('base64') });
  }, 120_000);
});

/** The profile's keychain name, as the engine stored it in vault.db (profile.ts). */
function keyringProfile(dir: string): string {
  const db = new Database(path.join(dir, 'vault.db'), { readonly: true });
  try {
    const row = db.prepare("SELECT value FROM settings WHERE key = 'profileName'").get() as { value: string };
    return JSON.parse(row.value) as string;
  } finally {
    db.close();
  }
}

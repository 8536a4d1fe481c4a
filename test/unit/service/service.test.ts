/**
 * The engine's facade through the same dispatch IPC uses: the IDENTOS calls and
 * their result codes, PIN limits seen from the contract, the audit trail of key
 * and data requests, and restart behaviour, against a real vault and file keychain.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultCode, type Result } from '../../../shared/codes.js';
import type { Channel, Input, Output } from '../../../shared/contract.js';
import { DevicePackageSchema } from '../../../shared/device-package.js';
import { canonicalJson } from '../../../shared/canonical-json.js';
import { TEST_KDF_PARAMS } from '../../../electron/engine/crypto/pin-kdf.js';
import { verify, publicKeyFromDid } from '../../../electron/engine/crypto/identity.js';
import { generateEncryptionKeyPair, importPrivateKey } from '../../../electron/engine/crypto/rsa.js';
import { decodeItemContainer, encodeItemContainer } from '../../../electron/engine/crypto/item-container.js';
import { unwrapDek, openItemWithDek } from '../../../electron/engine/crypto/item-crypto.js';
import { dispatch } from '../../../electron/engine/dispatch.js';
import { openService, type Service } from '../../../electron/engine/service/index.js';
import { openVault, upsertContact, listItemKeys } from '../../../electron/engine/vault/index.js';

const PIN = '246810';
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sealpost-service-'));
  dirs.push(dir);
  return dir;
}

const open = (profileDir: string) => openService({ profileDir, keychain: 'file', kdfParams: TEST_KDF_PARAMS, actor: 'test' });

function caller(service: Service) {
  return <C extends Channel>(channel: C, input: Input<C>) => dispatch(service.handlers, channel, input) as Promise<Result<Output<C>>>;
}

function value<T>(r: Result<T>): T {
  if (r.code !== 0) throw new Error(`expected Success, got ${r.code}: ${r.message}`);
  return r.value;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('a new profile', () => {
  it('reports no identity, and key calls answer NoIdentity rather than failing', async () => {
    const service = await open(tempDir());
    const call = caller(service);
    const status = value(await call('engine:status', {}));
    expect(status).toMatchObject({ hasIdentity: false, unlocked: false, keychainBackend: 'file', attemptsLeft: 10, wiped: false });
    expect((await call('identity:get', {})).code).toBe(ResultCode.NoIdentity);
    expect((await call('session:authenticate', { pin: PIN })).code).toBe(ResultCode.NoIdentity);
    expect((await call('vault:encrypt', { data: b64('x') })).code).toBe(ResultCode.NoIdentity);
    service.close();
  });

  it('refuses a malformed PIN before making any key (InvalidPin)', async () => {
    const service = await open(tempDir());
    const call = caller(service);
    for (const pin of ['12', 'abcd', '1234567890123', '12 34']) {
      expect((await call('identity:create', { pin, rsaBits: 2048 })).code).toBe(ResultCode.InvalidPin);
    }
    expect(value(await call('engine:status', {})).hasIdentity).toBe(false);
    service.close();
  });

  it('rejects input that fails the contract schema with InvalidParameter naming the field', async () => {
    const service = await open(tempDir());
    const call = caller(service);
    const bad = await dispatch(service.handlers, 'identity:create', { pin: PIN, rsaBits: 1024 });
    expect(bad.code).toBe(ResultCode.InvalidParameter);
    expect(bad.code !== 0 && bad.message).toMatch(/rsaBits/);
    expect((await dispatch(service.handlers, 'vault:encrypt', { data: 'not base64!' })).code).toBe(ResultCode.InvalidParameter);
    expect((await dispatch(service.handlers, 'nope:nothing', {})).code).toBe(ResultCode.InvalidParameter);
    expect((await call('engine:status', {})).code).toBe(0);
    service.close();
  });
});

describe('an identity', () => {
  let dir: string;
  let service: Service;
  let call: ReturnType<typeof caller>;
  let identity: Output<'identity:create'>;

  beforeAll(async () => {
    dir = tempDir();
    service = await open(dir);
    call = caller(service);
    identity = value(await call('identity:create', { pin: PIN, rsaBits: 2048 }));
  });

  afterAll(() => service.close());

  it('is created unlocked, with a did:key, fingerprint and 30-digit safety number', async () => {
    expect(identity.did).toMatch(/^did:key:z6Mk/);
    expect(identity.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(identity.safetyNumber).toMatch(/^(\d{5} ){5}\d{5}$/);
    expect(identity.rsaBits).toBe(2048);
    expect(value(await call('engine:status', {}))).toMatchObject({ hasIdentity: true, unlocked: true, did: identity.did });
    expect((await call('identity:create', { pin: PIN })).code).toBe(ResultCode.InvalidState);
  });

  it('encrypt/decrypt round-trips, keeps the identifier, and versions an existing one', async () => {
    const [ct, id] = value(await call('vault:encrypt', { data: b64('first'), identifier: 'notes:shopping' }));
    expect(id).toBe('notes:shopping');
    expect(value(await call('vault:decrypt', { data: ct }))).toEqual([b64('first'), 'notes:shopping']);
    const [ct2] = value(await call('vault:encrypt', { data: b64('second'), identifier: 'notes:shopping' }));
    expect(decodeItemContainer(Buffer.from(ct2, 'base64')).version).toBe(2);
    // The older version still opens: edits keep the data key so grants stay valid.
    expect(value(await call('vault:decrypt', { data: ct }))[0]).toBe(b64('first'));
    expect(value(await call('vault:decrypt', { data: ct2 }))[0]).toBe(b64('second'));
    const [, generated] = value(await call('vault:encrypt', { data: b64('') }));
    expect(generated).toMatch(/^item-[0-9a-f]{24}$/);
  });

  it('unregistered, an item sync answers DeviceUnregistered and leaves no audit entry (the Vault screen asks every 30 s)', async () => {
    for (let i = 0; i < 3; i++) expect((await call('items:sync', {})).code).toBe(ResultCode.DeviceUnregistered);
    expect(value(await call('audit:list', { action: 'item.sync' }))).toEqual([]);
  });

  it('refuses a tampered or re-framed ciphertext (Tampered), never returning garbage', async () => {
    const [ct] = value(await call('vault:encrypt', { data: b64('secret text'), identifier: 'tamper-me' }));
    const bytes = Buffer.from(ct, 'base64');
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 5]! ^= 0x01;
    expect((await call('vault:decrypt', { data: flipped.toString('base64') })).code).toBe(ResultCode.Tampered);
    // Same bytes claimed for another version: the AAD binds identifier and version.
    const c = decodeItemContainer(bytes);
    const reframed = encodeItemContainer({ ...c, version: c.version + 1 });
    expect((await call('vault:decrypt', { data: Buffer.from(reframed).toString('base64') })).code).toBe(ResultCode.Tampered);
    const truncated = bytes.subarray(0, bytes.length - 20).toString('base64');
    expect((await call('vault:decrypt', { data: truncated })).code).toBe(ResultCode.Tampered);
    expect((await call('vault:decrypt', { data: Buffer.from('SPIC\x09abc').toString('base64') })).code).toBe(ResultCode.UnsupportedVersion);
    expect((await call('vault:decrypt', { data: b64('hello world!') })).code).toBe(ResultCode.InvalidParameter);
  });

  it('answers NotFound for an item this device holds no key for', async () => {
    const [ct] = value(await call('vault:encrypt', { data: b64('x'), identifier: 'elsewhere' }));
    const c = decodeItemContainer(Buffer.from(ct, 'base64'));
    const foreign = encodeItemContainer({ ...c, identifier: 'never-stored' });
    expect((await call('vault:decrypt', { data: Buffer.from(foreign).toString('base64') })).code).toBe(ResultCode.NotFound);
  });

  it('grantAccess wraps the item key for a contact, who can open it with their own key', async () => {
    const bob = await generateEncryptionKeyPair(2048);
    const vault = openVault(dir);
    upsertContact(vault.db, { userId: 'u-bob', username: 'bob', fingerprint: 'f'.repeat(64), encryptionKey: bob.publicKeyPem }, Date.now());
    vault.close();
    const [ct, id] = value(await call('vault:encrypt', { data: b64('for bob'), identifier: 'shared-1' }));
    expect((await call('vault:grantAccess', { identifier: id, userIds: ['bob', 'carol'] })).code).toBe(ResultCode.NotFound);
    expect(value(await call('vault:grantAccess', { identifier: id, userIds: ['bob'] }))).toEqual({ granted: ['u-bob'] });
    const check = openVault(dir);
    const bobKey = listItemKeys(check.db, id).find((k) => k.grantee === 'u-bob')!;
    check.close();
    const dek = unwrapDek(bobKey.wrapped, importPrivateKey(bob.privateKeyDer));
    const c = decodeItemContainer(Buffer.from(ct, 'base64'));
    expect(Buffer.from(openItemWithDek({ identifier: id, version: c.version, ciphertext: c.ciphertext, dek })).toString()).toBe('for bob');
    expect((await call('vault:grantAccess', { identifier: 'no-such-item', userIds: ['bob'] })).code).toBe(ResultCode.NotFound);
  });

  it('devicePackage is signed by the identity key and matches the registration schema', async () => {
    const pkg = value(await call('device:package', { pin: PIN }));
    expect(DevicePackageSchema.parse(pkg)).toEqual(pkg);
    const { signature, ...fields } = pkg;
    const ok = verify(Buffer.from(signature, 'base64url'), new TextEncoder().encode(canonicalJson(fields)), publicKeyFromDid(pkg.did));
    expect(ok).toBe(true);
    expect(pkg.fingerprint).toBe(identity.fingerprint);
    expect((await call('device:package', { pin: '999999' })).code).toBe(ResultCode.WrongPin);
  });

  it('initialize answers DeviceUnregistered (-50) until the device is registered', async () => {
    const r = await call('engine:initialize', { appId: 'app-1', clientKey: 'ck-123', version: '1' });
    expect(r.code).toBe(ResultCode.DeviceUnregistered);
  });

  it('lock wipes the keys: data calls answer Locked until authenticate', async () => {
    value(await call('session:lock', {}));
    expect((await call('vault:encrypt', { data: b64('x') })).code).toBe(ResultCode.Locked);
    const wrong = await call('session:authenticate', { pin: '111111' });
    expect(wrong.code).toBe(ResultCode.WrongPin);
    // The wrong PIN given to devicePackage above counted too: a right PIN resets the count.
    expect(wrong.code !== 0 && wrong.details).toMatchObject({ attemptsLeft: 8 });
    value(await call('session:authenticate', { pin: PIN }));
    expect(value(await call('engine:status', {})).attemptsLeft).toBe(10);
  });

  it('records every key and data request, failures included, in a chain that verifies', async () => {
    const entries = value(await call('audit:list', { limit: 1000 }));
    const actions = entries.map((e) => `${e.action}:${e.result}`);
    expect(actions).toEqual(expect.arrayContaining(['identity.create:ok', 'encrypt:ok', 'decrypt:ok', 'decrypt:Tampered', 'grant:ok', 'grant:NotFound', 'device.package:ok', 'unlock:WrongPin', 'unlock:ok', 'lock:ok']));
    expect(entries.every((e) => e.actor === 'test')).toBe(true);
    expect(JSON.stringify(entries)).not.toContain(PIN);
    expect(value(await call('audit:list', { action: 'unlock', result: 'WrongPin' })).length).toBeGreaterThan(0);
    expect(value(await call('audit:verify', {}))).toMatchObject({ ok: true });
  });

  it('survives a restart: the same identity, locked, and the PIN counter kept', async () => {
    service.close();
    const wrong = await open(dir);
    expect((await caller(wrong)('session:authenticate', { pin: '000001' })).code).toBe(ResultCode.WrongPin);
    wrong.close();
    service = await open(dir);
    call = caller(service);
    const status = value(await call('engine:status', {}));
    expect(status).toMatchObject({ hasIdentity: true, unlocked: false, did: identity.did, attemptsLeft: 9 });
    value(await call('session:authenticate', { pin: PIN }));
    expect(value(await call('keys:exportPublic', {}))).toMatchObject({ pem: identity.publicKeyPem, fingerprint: identity.fingerprint });
  });

  it('changes the PIN (old PIN checked), and PIN 0 disables it as reported', async () => {
    expect((await call('pin:change', { oldPin: '555555', newPin: '1234' })).code).toBe(ResultCode.WrongPin);
    expect(value(await call('pin:change', { oldPin: PIN, newPin: '0' }))).toEqual({ pinDisabled: true });
    expect(value(await call('engine:status', {}))).toMatchObject({ pinDisabled: true, unlocked: false });
    value(await call('session:authenticate', { pin: '0' }));
    value(await call('pin:change', { oldPin: '0', newPin: PIN }));
    expect(value(await call('engine:status', {})).pinDisabled).toBe(false);
  });
});

describe('PIN limits through the contract', () => {
  it('delays after 5 wrong PINs and erases the keys after 10, surviving restarts (LockedOut)', async () => {
    const dir = tempDir();
    let clock = Date.now();
    const opts = { profileDir: dir, keychain: 'file' as const, kdfParams: TEST_KDF_PARAMS, now: () => clock };
    let service = await openService(opts);
    value(await caller(service)('identity:create', { pin: PIN, rsaBits: 2048 }));
    value(await caller(service)('session:lock', {}));
    const codes: number[] = [];
    for (let i = 0; i < 10; i++) {
      // Restart between attempts: the counter lives in the keychain record, not in memory.
      service.close();
      service = await openService(opts);
      const call = caller(service);
      let r = await call('session:authenticate', { pin: '13579' });
      if (r.code === ResultCode.LockedOut && r.details?.wiped !== true) {
        expect(r.details?.retryAfterMs).toBeGreaterThan(0);
        clock += Number(r.details?.retryAfterMs);
        r = await call('session:authenticate', { pin: '13579' });
      }
      codes.push(r.code);
    }
    expect(codes.slice(0, 9)).toEqual(Array(9).fill(ResultCode.WrongPin));
    expect(codes[9]).toBe(ResultCode.LockedOut);
    const status = value(await caller(service)('engine:status', {}));
    expect(status).toMatchObject({ wiped: true, hasIdentity: false, attemptsLeft: 0 });
    const after = await caller(service)('session:authenticate', { pin: PIN });
    expect(after.code).toBe(ResultCode.LockedOut);
    expect(after.code !== 0 && after.details?.wiped).toBe(true);
    service.close();
  });
});

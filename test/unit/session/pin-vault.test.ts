/**
 * PIN rules and attempt limits (docs/security.md "PIN limits"), against the real
 * file keychain in a temp profile and the real scrypt KDF (test parameters).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openWithPin, TEST_KDF_PARAMS } from '../../../electron/engine/crypto/pin-kdf.js';
import { FileKeychain, KEYCHAIN_FILE } from '../../../electron/engine/keychain/index.js';
import { LOCKOUT_DELAYS_MS, MAX_WRONG_PINS, PinError, PinVault } from '../../../electron/engine/session/index.js';
import { DISABLED_PIN_SECRET } from '../../../electron/engine/session/policy.js';
import { decodeKeyRecord } from '../../../electron/engine/session/key-record.js';
import { readSealedIdentity } from '../../../electron/engine/session/sealed-identity.js';
import { openVault } from '../../../electron/engine/vault/index.js';
import { CrashingKeychain } from '../../helpers/crashing-keychain.js';

const PIN = '482915';
const SECRETS = Uint8Array.from({ length: 96 }, (_, i) => (i * 7 + 3) % 256);

let dir: string;
let clock: number;
const now = (): number => clock;
/** The folder of the sealed identity file, for keychains that do not know it (CrashingKeychain). */
const opts = {
  kdfParams: TEST_KDF_PARAMS,
  now,
  get dir(): string {
    return dir;
  },
};

const keychain = (): FileKeychain => new FileKeychain(dir, 'default');
const fresh = (): Promise<PinVault> => PinVault.create(keychain(), { pin: PIN, secrets: SECRETS, ...opts });
const reopen = (): PinVault => PinVault.open(keychain(), opts);

async function expectPinError(p: Promise<unknown>, expected: Partial<PinError>): Promise<PinError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(PinError);
  expect(e).toMatchObject(expected);
  return e as PinError;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sealpost-pin-'));
  clock = 1_700_000_000_000;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('PIN format', () => {
  it.each(['', '1', '123', '1234567890123', 'abcd', '12a4', ' 1234', '1234 ', '１２３４', '00', '-1234', '12.4'])(
    'refuses %j as invalid-pin without counting it',
    async (bad) => {
      const vault = await fresh();
      await expectPinError(vault.unlock(bad), { kind: 'invalid-pin' });
      expect((await vault.status()).attemptsUsed).toBe(0);
    },
  );

  it('refuses non-strings', async () => {
    const vault = await fresh();
    await expectPinError(vault.unlock(1234 as unknown as string), { kind: 'invalid-pin' });
    await expectPinError(PinVault.create(keychain(), { pin: '12', secrets: SECRETS, ...opts, overwrite: true }), { kind: 'invalid-pin' });
  });

  it('accepts 4 and 12 digits', async () => {
    await PinVault.create(keychain(), { pin: '0000', secrets: SECRETS, ...opts });
    expect(await reopen().unlock('0000')).toEqual(SECRETS);
    const v = await PinVault.create(keychain(), { pin: '123456789012', secrets: SECRETS, ...opts, overwrite: true });
    expect(await v.unlock('123456789012')).toEqual(SECRETS);
  });
});

describe('wrong and right PINs', () => {
  it('wrong, then right: attemptsLeft counts down, success resets', async () => {
    const vault = await fresh();
    await expectPinError(vault.unlock('111111'), { kind: 'wrong-pin', attemptsLeft: 9, retryAfterMs: 0 });
    await expectPinError(vault.unlock('222222'), { kind: 'wrong-pin', attemptsLeft: 8 });
    expect(await vault.status()).toMatchObject({ exists: true, attemptsUsed: 2, attemptsLeft: 8, retryAfterMs: 0, pinDisabled: false });
    expect(await vault.unlock(PIN)).toEqual(SECRETS);
    expect(await vault.status()).toMatchObject({ attemptsUsed: 0, attemptsLeft: 10 });
  });

  it('the counter is persisted BEFORE the KDF runs: an attempt killed mid-check is spent, even with the right PIN', async () => {
    await fresh();
    const kc = new CrashingKeychain(keychain());
    kc.failSetAfter = 1; // the pre-increment lands, the reset after the KDF never does
    await expect(PinVault.open(kc, opts).unlock(PIN)).rejects.toThrow('process killed');
    expect(await reopen().status()).toMatchObject({ attemptsUsed: 1 });
  });

  it('concurrent attempts are serialised: none reads a stale count', async () => {
    const vault = await fresh();
    const results = await Promise.allSettled(['100000', '200000', '300000'].map((p) => vault.unlock(p)));
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as PinError).attemptsLeft : null)).sort()).toEqual([7, 8, 9]);
    expect((await reopen().status()).attemptsUsed).toBe(3);
  });

  it('no record: not-found; create refuses to overwrite a sealed record', async () => {
    await expectPinError(reopen().unlock(PIN), { kind: 'not-found' });
    expect(await reopen().status()).toMatchObject({ exists: false, wiped: false });
    await fresh();
    await expectPinError(fresh(), { kind: 'exists' });
  });

  it('a damaged record is a KeychainError, not a wrong PIN', async () => {
    await keychain().set('identity', new TextEncoder().encode('{"format":"sealpost-pin-vault","v":1}'));
    await expect(reopen().unlock(PIN)).rejects.toMatchObject({ name: 'KeychainError', kind: 'corrupt' });
  });
});

describe('lockout and wipe', () => {
  async function wrong(vault: PinVault, n: number): Promise<PinError> {
    return expectPinError(vault.unlock(String(900000 + n)), { kind: n === MAX_WRONG_PINS ? 'wiped' : 'wrong-pin' });
  }

  it('after 5 wrong PINs: refused during the delay without running the KDF, even with the right PIN', async () => {
    await fresh();
    const kc = new CrashingKeychain(keychain());
    const vault = PinVault.open(kc, opts);
    for (let i = 1; i <= 4; i++) expect((await wrong(vault, i)).retryAfterMs).toBe(0);
    const fifth = await wrong(vault, 5);
    expect(fifth).toMatchObject({ attemptsLeft: 5, retryAfterMs: 30_000 });
    const writes = kc.sets;
    await expectPinError(vault.unlock(PIN), { kind: 'locked-out', retryAfterMs: 30_000, attemptsLeft: 5 });
    clock += 29_000;
    await expectPinError(vault.unlock('123456'), { kind: 'locked-out', retryAfterMs: 1_000 });
    expect(kc.sets).toBe(writes); // nothing counted, so no KDF ran
    expect((await vault.status()).retryAfterMs).toBe(1_000);
    clock += 1_000;
    expect(await vault.unlock(PIN)).toEqual(SECRETS);
  });

  it('delays grow 30 s, 1 min, 5 min, 15 min, 1 h; the 10th wrong PIN wipes the keys', async () => {
    const vault = await fresh();
    await keychain().set('server-credentials', new Uint8Array([1]));
    await keychain().set('audit-head', new Uint8Array([2]));
    const delays: number[] = [];
    for (let i = 1; i <= MAX_WRONG_PINS; i++) {
      const e = await wrong(vault, i);
      if (i < MAX_WRONG_PINS) {
        expect(e.attemptsLeft).toBe(MAX_WRONG_PINS - i);
        delays.push(e.retryAfterMs!);
        if (e.retryAfterMs) {
          await expectPinError(vault.unlock(PIN), { kind: 'locked-out', retryAfterMs: e.retryAfterMs });
          clock += e.retryAfterMs;
        }
      } else {
        expect(e).toMatchObject({ wiped: true, attemptsLeft: 0 });
      }
    }
    expect(delays).toEqual([0, 0, 0, 0, 30_000, 60_000, 300_000, 900_000, 3_600_000]);
    expect(delays.slice(4)).toEqual(LOCKOUT_DELAYS_MS.slice(5));
    // wiped: the sealed key material is gone from the keychain, the right PIN no longer helps
    const record = decodeKeyRecord((await keychain().get('identity'))!);
    expect(record).toEqual({ state: 'wiped', wipedAt: clock });
    expect(readdirSync(dir).filter((f) => f.endsWith('.sealed'))).toEqual([]); // the sealed file went with the KEK
    expect(await keychain().get('server-credentials')).toBeNull();
    expect(await keychain().get('audit-head')).toEqual(new Uint8Array([2])); // the audit anchor survives
    await expectPinError(reopen().unlock(PIN), { kind: 'wiped', wiped: true });
    expect(await reopen().status()).toMatchObject({ exists: false, wiped: true, attemptsLeft: 0 });
    // recovery: a new record replaces the tombstone
    const restored = await PinVault.create(keychain(), { pin: '7777', secrets: SECRETS, ...opts });
    expect(await restored.unlock('7777')).toEqual(SECRETS);
  });

  it('lockout state survives a restart (a new PinVault over the same keychain)', async () => {
    const vault = await fresh();
    for (let i = 1; i <= 5; i++) await wrong(vault, i);
    clock += 10_000;
    const restarted = reopen();
    expect(await restarted.status()).toMatchObject({ attemptsUsed: 5, attemptsLeft: 5, retryAfterMs: 20_000 });
    await expectPinError(restarted.unlock(PIN), { kind: 'locked-out', retryAfterMs: 20_000 });
  });

  it('a crash after the 10th attempt was counted completes the wipe on the next start', async () => {
    const vault = await fresh();
    for (let i = 1; i <= 9; i++) {
      const e = await wrong(vault, i);
      clock += e.retryAfterMs ?? 0;
    }
    const kc = new CrashingKeychain(keychain());
    kc.failSetAfter = 1;
    await expect(PinVault.open(kc, opts).unlock(PIN)).rejects.toThrow('process killed');
    expect(await reopen().status()).toMatchObject({ wiped: true, exists: false });
    expect(decodeKeyRecord((await keychain().get('identity'))!).state).toBe('wiped');
  });

  it('deleting vault.db and every other profile file does not reset the counter', async () => {
    const vault = await fresh();
    openVault(dir).close();
    writeFileSync(path.join(dir, 'settings.json'), '{"attempts":0}');
    for (let i = 1; i <= 3; i++) await wrong(vault, i);
    const sealedFile = readdirSync(dir).find((f) => f.endsWith('.sealed'))!;
    for (const f of readdirSync(dir)) if (f !== KEYCHAIN_FILE && f !== sealedFile) rmSync(path.join(dir, f), { recursive: true, force: true });
    expect(readdirSync(dir).sort()).toEqual([sealedFile, KEYCHAIN_FILE].sort());
    expect(await reopen().status()).toMatchObject({ attemptsUsed: 3, attemptsLeft: 7 });
    // deleting the sealed identity file loses the keys, and still resets nothing
    rmSync(path.join(dir, sealedFile));
    expect(await reopen().status()).toMatchObject({ attemptsUsed: 3, attemptsLeft: 7 });
    await expect(reopen().unlock(PIN)).rejects.toMatchObject({ name: 'KeychainError', kind: 'corrupt', message: expect.stringMatching(/missing from the profile folder/) });
    expect(await reopen().status()).toMatchObject({ attemptsUsed: 3 }); // not counted: no PIN was tried
    // ...and deleting the key record itself deletes the keys with it
    rmSync(path.join(dir, KEYCHAIN_FILE));
    await expectPinError(reopen().unlock(PIN), { kind: 'not-found' });
  });

  it('a clock set back does not lengthen the delay beyond its own size', async () => {
    const vault = await fresh();
    for (let i = 1; i <= 5; i++) await wrong(vault, i);
    clock -= 24 * 3600_000;
    expect((await vault.status()).retryAfterMs).toBe(30_000);
  });
});

describe('PIN "0" (disabled) and changing the PIN', () => {
  it('"0" disables the PIN: reported, and the seal opens with a public string', async () => {
    const vault = await PinVault.create(keychain(), { pin: '0', secrets: SECRETS, ...opts });
    expect(await vault.status()).toMatchObject({ pinDisabled: true, exists: true });
    expect(await vault.unlock('0')).toEqual(SECRETS);
    await expectPinError(vault.unlock('0000'), { kind: 'wrong-pin' });
    const record = decodeKeyRecord((await keychain().get('identity'))!);
    if (record.state !== 'sealed') throw new Error('expected a sealed record');
    const pinBlob = await readSealedIdentity(dir, record.file, record.kek);
    expect(await openWithPin(DISABLED_PIN_SECRET, pinBlob)).toEqual(SECRETS); // why "0" is weaker
  });

  it('changePin: the old PIN is checked under the same limits; the new PIN is validated first', async () => {
    const vault = await fresh();
    await expectPinError(vault.changePin(PIN, '12'), { kind: 'invalid-pin' });
    expect((await vault.status()).attemptsUsed).toBe(0);
    await expectPinError(vault.changePin('999999', '1234'), { kind: 'wrong-pin', attemptsLeft: 9 });
    expect(await vault.changePin(PIN, '0')).toEqual({ pinDisabled: true });
    expect(await vault.status()).toMatchObject({ pinDisabled: true, attemptsUsed: 0 });
    expect(await vault.changePin('0', '13579')).toEqual({ pinDisabled: false });
    await expectPinError(vault.unlock(PIN), { kind: 'wrong-pin' });
    expect(await vault.unlock('13579')).toEqual(SECRETS);
  });

  it('wipe() leaves a tombstone', async () => {
    const vault = await fresh();
    await vault.wipe();
    expect(await vault.status()).toMatchObject({ exists: false, wiped: true });
    await expectPinError(vault.unlock(PIN), { kind: 'wiped' });
  });
});

/**
 * Keys that fit every OS keychain (docs/security.md "Keys that fit every keychain"):
 * the keychain holds a small record (counter + 256-bit KEK), the sealed identity
 * lives in the profile folder. Proven against a keytar that enforces Windows
 * Credential Manager's 2,560-byte limit the way Credential Manager does (CredWrite
 * refuses a larger blob), and the migration of a v1 profile (the whole PIN blob in
 * the keychain) on its next unlock, atomic across a crash.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openWithPin, sealWithPin, TEST_KDF_PARAMS } from '../../../electron/engine/crypto/pin-kdf.js';
import { generateEncryptionKeyPair } from '../../../electron/engine/crypto/rsa.js';
import { newSeed } from '../../../electron/engine/crypto/seed.js';
import {
  FileKeychain,
  type KeytarApi,
  OS_KEYCHAIN_MAX_VALUE_BYTES,
  SecretServiceKeychain,
} from '../../../electron/engine/keychain/index.js';
import { encodeSecrets } from '../../../electron/engine/service/profile.js';
import { PinVault } from '../../../electron/engine/session/index.js';
import { decodeKeyRecord, recordVersion } from '../../../electron/engine/session/key-record.js';
import { encodeRecord } from '../../../electron/engine/session/record.js';
import { CrashingKeychain } from '../../helpers/crashing-keychain.js';

/** An in-memory Credential Manager: refuses blobs over 2,560 bytes, like CredWriteW (keytar stores UTF-8). */
class CredentialManagerKeytar implements KeytarApi {
  readonly store = new Map<string, string>();
  readonly written: number[] = [];
  async getPassword(service: string, account: string) {
    return this.store.get(`${service}|${account}`) ?? null;
  }
  async setPassword(service: string, account: string, password: string) {
    const bytes = Buffer.byteLength(password, 'utf8');
    if (bytes > 2560) throw new Error('The stub received bad data.'); // what keytar reports for CRED_MAX_CREDENTIAL_BLOB_SIZE
    this.written.push(bytes);
    this.store.set(`${service}|${account}`, password);
  }
  async deletePassword(service: string, account: string) {
    return this.store.delete(`${service}|${account}`);
  }
}

const PIN = '482915';
let dir: string;
const sealedFiles = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.sealed'));
const opts = () => ({ kdfParams: TEST_KDF_PARAMS, dir });

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sealpost-fit-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the 2,560-byte limit (Windows Credential Manager)', () => {
  // A large identity: RSA-4096 plus a rotated-out RSA-4096 key in the bundle (made once).
  let big: Uint8Array;
  beforeAll(async () => {
    const keys = await Promise.all([0, 1].map(() => generateEncryptionKeyPair(4096)));
    big = encodeSecrets(newSeed(), keys[0]!.privateKeyDer, [keys[1]!.privateKeyDer]);
  }, 180_000);

  it('an RSA-4096 identity with a rotated-out key fits: every value written is a few hundred bytes', async () => {
    const keytar = new CredentialManagerKeytar();
    const keychain = new SecretServiceKeychain(keytar, 'fit');
    const vault = await PinVault.create(keychain, { pin: PIN, secrets: big, ...opts() });
    await expect(vault.unlock('111111')).rejects.toMatchObject({ kind: 'wrong-pin' });
    expect(await vault.unlock(PIN)).toEqual(big);
    await vault.changePin(PIN, '0');
    expect(await PinVault.open(keychain, opts()).unlock('0')).toEqual(big);
    expect(keytar.written.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...keytar.written)).toBeLessThan(400);
    expect(big.length).toBeGreaterThan(2 * 2300); // what no longer goes to the keychain
  });

  it('the v1 layout does not fit (why it changed); the keychain refuses it on every OS, before the OS does', async () => {
    const v1 = encodeRecord({ state: 'sealed', pinDisabled: false, failures: 0, lastFailureAt: null, sealed: await sealWithPin(PIN, big, TEST_KDF_PARAMS) });
    expect(Buffer.from(v1).toString('base64').length).toBeGreaterThan(OS_KEYCHAIN_MAX_VALUE_BYTES);
    const keytar = new CredentialManagerKeytar();
    await expect(new SecretServiceKeychain(keytar, 'fit').set('identity', v1)).rejects.toMatchObject({
      name: 'KeychainError',
      kind: 'invalid-input',
      message: expect.stringMatching(/over the 2560 bytes every OS keychain accepts/),
    });
    expect(keytar.written).toEqual([]); // refused before keytar was asked
  });
});

describe('the sealed file', () => {
  it('is useless without the keychain entry: a copied profile folder opens with no PIN, and not under another KEK', async () => {
    const secrets = new Uint8Array(200).fill(9);
    const keychain = new FileKeychain(dir, 'a');
    await PinVault.create(keychain, { pin: '0', secrets, ...opts() });
    const [file] = sealedFiles();
    const bytes = readFileSync(path.join(dir, file!));
    // the PIN layer alone (even with the public "no PIN" string) does not open the file
    await expect(openWithPin('sealpost:no-pin:v1', bytes)).rejects.toBeTruthy();
    // a second profile with its own keychain entry cannot use the copied file
    const other = mkdtempSync(path.join(os.tmpdir(), 'sealpost-fit-b-'));
    try {
      const theirs = new FileKeychain(other, 'b');
      await PinVault.create(theirs, { pin: '0', secrets: new Uint8Array(8), dir: other, kdfParams: TEST_KDF_PARAMS });
      const their = readdirSync(other).find((f) => f.endsWith('.sealed'))!;
      copyFileSync(path.join(dir, file!), path.join(other, their));
      await expect(PinVault.open(theirs, { dir: other, kdfParams: TEST_KDF_PARAMS }).unlock('0')).rejects.toMatchObject({ kind: 'corrupt' });
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('a modified file is a KeychainError before any attempt is counted', async () => {
    const keychain = new FileKeychain(dir, 'a');
    const vault = await PinVault.create(keychain, { pin: PIN, secrets: new Uint8Array(64), ...opts() });
    const file = path.join(dir, sealedFiles()[0]!);
    const bytes = readFileSync(file);
    bytes[bytes.length - 1]! ^= 1;
    writeFileSync(file, bytes);
    await expect(vault.unlock(PIN)).rejects.toMatchObject({ name: 'KeychainError', kind: 'corrupt' });
    expect((await vault.status()).attemptsUsed).toBe(0);
  });

  it('changePin writes a new file under a new KEK and removes the old one (an old copy no longer opens)', async () => {
    const keychain = new FileKeychain(dir, 'a');
    const vault = await PinVault.create(keychain, { pin: PIN, secrets: new Uint8Array(64).fill(1), ...opts() });
    const before = decodeKeyRecord((await keychain.get('identity'))!);
    const [oldFile] = sealedFiles();
    const oldBytes = readFileSync(path.join(dir, oldFile!));
    await vault.changePin(PIN, '2468');
    const after = decodeKeyRecord((await keychain.get('identity'))!);
    if (before.state !== 'sealed' || after.state !== 'sealed') throw new Error('expected sealed records');
    expect(after.file).not.toBe(before.file);
    expect(Buffer.from(after.kek).equals(Buffer.from(before.kek))).toBe(false);
    expect(sealedFiles()).toEqual([after.file]);
    // putting the old file back under the new name does not bring the old PIN back
    writeFileSync(path.join(dir, after.file), oldBytes);
    await expect(vault.unlock(PIN)).rejects.toMatchObject({ kind: 'corrupt' });
  });
});

describe('migration of a v1 profile (the whole PIN blob in the keychain)', () => {
  const secrets = Uint8Array.from({ length: 300 }, (_, i) => i % 251);

  async function v1Profile(failures = 0): Promise<{ keychain: FileKeychain; v1: Uint8Array }> {
    const keychain = new FileKeychain(dir, 'legacy');
    const sealed = await sealWithPin(PIN, secrets, TEST_KDF_PARAMS);
    const v1 = encodeRecord({ state: 'sealed', pinDisabled: false, failures, lastFailureAt: failures ? 1 : null, sealed });
    await keychain.set('identity', v1);
    return { keychain, v1 };
  }

  it('status reads it as it is; the next unlock moves it to the split layout, keeping the count', async () => {
    const { keychain } = await v1Profile(2);
    const vault = PinVault.open(keychain, opts());
    expect(await vault.status()).toMatchObject({ exists: true, attemptsUsed: 2 });
    expect(recordVersion((await keychain.get('identity'))!)).toBe(1); // status changes nothing
    await expect(vault.unlock('999999')).rejects.toMatchObject({ kind: 'wrong-pin', attemptsLeft: 7 });
    expect(recordVersion((await keychain.get('identity'))!)).toBe(2);
    expect(await vault.unlock(PIN)).toEqual(secrets);
    const record = decodeKeyRecord((await keychain.get('identity'))!);
    expect(record).toMatchObject({ state: 'sealed', failures: 0 });
    expect(sealedFiles()).toEqual([(record as { file: string }).file]);
    expect((await keychain.get('identity'))!.length).toBeLessThan(300);
  });

  it('a crash mid-migration (file written, record not yet stored) leaves the old state, which migrates next time', async () => {
    const { keychain, v1 } = await v1Profile();
    await expect(PinVault.open(new CrashingKeychain(keychain, 0), opts()).unlock(PIN)).rejects.toThrow('process killed');
    expect(await keychain.get('identity')).toEqual(v1); // the old record, untouched
    expect(sealedFiles()).toHaveLength(1); // the orphan the crash left
    const orphan = sealedFiles()[0];
    expect(await PinVault.open(keychain, opts()).unlock(PIN)).toEqual(secrets);
    expect(sealedFiles()).toHaveLength(1);
    expect(sealedFiles()[0]).not.toBe(orphan); // removed once the new record was stored
  });

  it('a crash right after the record was stored leaves the new state (old files removed later)', async () => {
    const { keychain } = await v1Profile();
    // migration stores the record (1), then the count before the KDF (2) fails: the migration has committed
    await expect(PinVault.open(new CrashingKeychain(keychain, 1), opts()).unlock(PIN)).rejects.toThrow('process killed');
    expect(recordVersion((await keychain.get('identity'))!)).toBe(2);
    expect(await PinVault.open(keychain, opts()).unlock(PIN)).toEqual(secrets);
  });

  it('a crash mid-changePin keeps the old PIN working', async () => {
    const keychain = new FileKeychain(dir, 'a');
    await PinVault.create(keychain, { pin: PIN, secrets, ...opts() });
    // unlockLocked: count (1) and reset (2) land; the new record (3) does not
    await expect(PinVault.open(new CrashingKeychain(keychain, 2), opts()).changePin(PIN, '2468')).rejects.toThrow('process killed');
    expect(await PinVault.open(keychain, opts()).unlock(PIN)).toEqual(secrets);
    await expect(PinVault.open(keychain, opts()).unlock('2468')).rejects.toMatchObject({ kind: 'wrong-pin' });
    expect(sealedFiles()).toHaveLength(1);
  });
});

/** docs/format.md §14.3 (identity file) and §12.2 (sync record): layout, round trip, refusals. */
import { describe, expect, it } from 'vitest';
import { openIdentityFile, sealIdentityFile } from '../../../electron/engine/crypto/identity-file.js';
import { InvalidInputError, UnsupportedVersionError, WrongKeyError } from '../../../electron/engine/crypto/errors.js';
import { TEST_KDF_PARAMS } from '../../../electron/engine/crypto/pin-kdf.js';
import { decodeSyncRecord, encodeSyncRecord } from '../../../electron/engine/sync/item-sync.js';
import { SyncError } from '../../../electron/engine/sync/errors.js';

const secrets = new Uint8Array([...Buffer.from('SPSK'), 1, ...new Uint8Array(32).fill(7), ...Buffer.from('fake pkcs8 der')]);

describe('identity file', () => {
  it('is "SPID" || 0x01 || a §13 PIN blob of the secrets record, and opens only with its passphrase', async () => {
    const file = await sealIdentityFile('a long passphrase', secrets, TEST_KDF_PARAMS);
    expect(Buffer.from(file.subarray(0, 5)).toString('latin1')).toBe('SPID\x01');
    expect(Buffer.from(file.subarray(5, 10)).toString('latin1')).toBe('SPPN\x01');
    expect(file[10]).toBe(1); // kdf = scrypt
    expect(Buffer.from(await openIdentityFile('a long passphrase', file))).toEqual(Buffer.from(secrets));
    await expect(openIdentityFile('another passphrase', file)).rejects.toBeInstanceOf(WrongKeyError);
    const flipped = file.slice();
    flipped[flipped.length - 1]! ^= 1;
    await expect(openIdentityFile('a long passphrase', flipped)).rejects.toBeInstanceOf(WrongKeyError);
    const v2 = file.slice();
    v2[4] = 2;
    await expect(openIdentityFile('a long passphrase', v2)).rejects.toBeInstanceOf(UnsupportedVersionError);
    await expect(openIdentityFile('a long passphrase', Buffer.from('SPPN\x01'))).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('refuses a short passphrase', async () => {
    await expect(sealIdentityFile('short', secrets, TEST_KDF_PARAMS)).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe('sync record', () => {
  it('is "SPSR" || 0x01 || u64be(version) || flags || ciphertext', () => {
    const ct = new Uint8Array([9, 8, 7]);
    const rec = encodeSyncRecord({ version: 2 ** 33 + 5, deleted: true, ciphertext: ct });
    expect(Buffer.from(rec).toString('hex')).toBe(`${Buffer.from('SPSR').toString('hex')}01${'0000000200000005'}01090807`);
    expect(decodeSyncRecord(rec)).toEqual({ version: 2 ** 33 + 5, deleted: true, ciphertext: ct });
    const badFlags = rec.slice();
    badFlags[13] = 2;
    expect(() => decodeSyncRecord(badFlags)).toThrow(SyncError);
    expect(() => decodeSyncRecord(rec.subarray(0, 10))).toThrow(SyncError);
    expect(() => decodeSyncRecord(Buffer.from('SPIT\x01'))).toThrow(SyncError);
  });
});

/**
 * The sealed identity in the profile folder (docs/format.md §13.1): the PIN blob
 * (§13, the PIN KDF's seal of the secrets) sealed once more under the random
 * key-encryption key that only the OS keychain holds (key-record.ts).
 *
 *   file   = header || GCM(kek, nonce, AAD = header || UTF-8(file name), PIN blob)
 *   header = "SPID" || 0x01 || nonce(12)                                  (17 bytes)
 *
 * Two locks, two places: a copied profile folder is useless without the keychain
 * entry, and the keychain entry alone holds no key material. Each seal writes a NEW
 * file name with a NEW KEK; the keychain entry naming it is the commit point, so a
 * crash leaves either the old entry and file or the new ones (pin-vault.ts).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { newNonce, open, seal } from '../crypto/aead.js';
import { isCryptoError } from '../crypto/errors.js';
import { writeAtomic } from '../keychain/file-keychain.js';
import { KeychainError } from '../keychain/types.js';
import { SEALED_FILE } from './key-record.js';

const MAGIC = Buffer.from('SPID', 'latin1');
const VERSION = 1;
const HEADER = MAGIC.length + 1 + 12;
/** Far above any identity (a bundle of 64 rotated RSA-4096 keys is ~160 KiB). */
const MAX_FILE_BYTES = 1024 * 1024;

const aad = (header: Uint8Array, file: string): Uint8Array => Buffer.concat([header, Buffer.from(file, 'utf8')]);

/**
 * Writes `pinBlob` sealed under `kek` to a new file in `dir` (atomic, 0600) and
 * returns its name. Nothing refers to it until the caller stores the key record.
 * @throws {KeychainError} 'io'
 */
export async function writeSealedIdentity(dir: string, kek: Uint8Array, pinBlob: Uint8Array): Promise<string> {
  const file = `identity-${randomBytes(8).toString('hex')}.sealed`;
  const nonce = newNonce();
  const header = Buffer.concat([MAGIC, Buffer.from([VERSION]), nonce]);
  const body = seal(kek, nonce, pinBlob, aad(header, file));
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeAtomic(path.join(dir, file), Buffer.concat([header, body]));
  } catch (e) {
    throw new KeychainError('io', `cannot write the sealed identity (${file}) in the profile folder`, { cause: e });
  }
  return file;
}

/**
 * Reads and opens the sealed identity named by the key record.
 * @throws {KeychainError} 'corrupt' when the file is missing, of another format or
 *   fails authentication (another KEK, modified bytes); 'io' when it cannot be read
 */
export async function readSealedIdentity(dir: string, file: string, kek: Uint8Array): Promise<Uint8Array> {
  if (!SEALED_FILE.test(file)) throw new KeychainError('corrupt', 'the identity record names an invalid file');
  let bytes: Buffer;
  try {
    bytes = await readFile(path.join(dir, file));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new KeychainError('corrupt', `the sealed identity ${file} is missing from the profile folder (restore it, or recover the identity)`);
    }
    throw new KeychainError('io', `cannot read the sealed identity ${file}`, { cause: e });
  }
  if (bytes.length < HEADER + 16 || bytes.length > MAX_FILE_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC) || bytes[MAGIC.length] !== VERSION) {
    throw new KeychainError('corrupt', `${file} is not a sealed identity of this version`);
  }
  const header = bytes.subarray(0, HEADER);
  try {
    return open(kek, header.subarray(MAGIC.length + 1), bytes.subarray(HEADER), aad(header, file));
  } catch (e) {
    if (isCryptoError(e)) throw new KeychainError('corrupt', `${file} does not open with this profile's keychain key (modified, or from another profile)`);
    throw e;
  }
}

/**
 * Removes sealed identity files other than `keep` (null: all of them): the ones a
 * re-seal replaced, or that a crash left before their record was stored. Best effort.
 */
export async function removeSealedIdentities(dir: string, keep: string | null): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(names.filter((n) => SEALED_FILE.test(n) && n !== keep).map((n) => unlink(path.join(dir, n)).catch(() => undefined)));
}

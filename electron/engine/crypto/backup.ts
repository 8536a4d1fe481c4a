/**
 * Identity backup: the RSA private key (PKCS#8 DER: the only identity material
 * that cannot be re-derived from the seed) sealed under a seed-derived key.
 *
 *   key  = deriveNamedKey(seed, "backup/rsa")          (HKDF-SHA256, seed.ts)
 *   blob = "SPBK" || 0x01 || nonce(12) || AES-256-GCM(key, nonce, AAD = the 17 bytes before, PKCS#8 DER)
 *   blob = "SPBK" || 0x02 || nonce(12) || AES-256-GCM(..., key bundle)   after a key rotation:
 *          the current key, then the keys rotated out, newest first (key-bundle.ts)
 * @module
 */
import { checkBytes, concat, equalBytes, Reader, utf8, wipe } from './_bytes.js';
import { newNonce, open as aeadOpen, seal as aeadSeal } from './aead.js';
import { InvalidInputError, TamperedError, UnsupportedVersionError, WrongKeyError } from './errors.js';
import { decodeKeyBundle, encodeKeyBundle } from './key-bundle.js';
import { importPrivateKey } from './rsa.js';
import { deriveNamedKey, KEY_NAMES } from './seed.js';

const MAGIC = utf8('SPBK');
const VERSION = 1;
const VERSION_BUNDLE = 2;
const HEADER_LENGTH = 4 + 1 + 12;

/**
 * Seals the RSA private key under the seed.
 * @throws {InvalidInputError} seed not 32 bytes, key not an RSA PKCS#8 DER (>= 2048 bits)
 */
export function sealIdentityBackup(seed: Uint8Array, privateKeyDer: Uint8Array, previousKeyDers: readonly Uint8Array[] = []): Uint8Array {
  checkBytes(privateKeyDer, 'private key DER');
  for (const der of [privateKeyDer, ...previousKeyDers]) importPrivateKey(der);
  const body = previousKeyDers.length === 0 ? privateKeyDer : encodeKeyBundle(privateKeyDer, previousKeyDers);
  const key = deriveNamedKey(seed, KEY_NAMES.backup);
  try {
    const nonce = newNonce();
    const header = concat(MAGIC, Uint8Array.of(previousKeyDers.length === 0 ? VERSION : VERSION_BUNDLE), nonce);
    return concat(header, aeadSeal(key, nonce, body, header));
  } finally {
    wipe(key);
    if (body !== privateKeyDer) wipe(body);
  }
}

/**
 * Restores the PKCS#8 DER from a backup.
 * @throws {InvalidInputError} seed not 32 bytes, not a backup blob
 * @throws {UnsupportedVersionError} newer version
 * @throws {TruncatedError} cut short
 * @throws {WrongKeyError} another seed's backup (or a modified blob)
 */
export function openIdentityBackup(seed: Uint8Array, blob: Uint8Array): Buffer {
  const { current, previous } = openIdentityBackupKeys(seed, blob);
  for (const der of previous) der.fill(0);
  return current;
}

/**
 * Restores every key of a backup: the current one and those rotated out, newest first.
 * @throws as {@link openIdentityBackup}
 */
export function openIdentityBackupKeys(seed: Uint8Array, blob: Uint8Array): { current: Buffer; previous: Buffer[] } {
  checkBytes(blob, 'backup blob');
  const r = new Reader(blob, 'backup blob');
  if (!equalBytes(r.bytesN(4), MAGIC)) throw new InvalidInputError('not a Sealpost identity backup');
  const version = r.u8();
  if (version !== VERSION && version !== VERSION_BUNDLE) throw new UnsupportedVersionError(`backup version ${version} is not supported`);
  const nonce = r.bytesN(12);
  if (r.remaining < 16) r.bytesN(16); // throws TruncatedError: not even a tag
  const key = deriveNamedKey(seed, KEY_NAMES.backup);
  let der: Uint8Array;
  try {
    der = aeadOpen(key, nonce, blob.subarray(HEADER_LENGTH), blob.subarray(0, HEADER_LENGTH));
  } catch (e) {
    if (e instanceof TamperedError) throw new WrongKeyError('backup does not open with this seed');
    throw e;
  } finally {
    wipe(key);
  }
  const keys = version === VERSION ? { current: der, previous: [] } : decodeKeyBundle(der);
  for (const k of [keys.current, ...keys.previous]) importPrivateKey(k);
  // Copies, so each key can be wiped on its own.
  return { current: Buffer.from(keys.current), previous: keys.previous.map((k) => Buffer.from(k)) };
}

/**
 * The exported identity file (docs/format.md §Identity file): the recovery seed
 * and the RSA private key, sealed under a passphrase, so the same user can be
 * restored on a second desktop (same DID, same encryption key, so items and
 * grants made for them open there too).
 *
 *   file      = "SPID" || 0x01 || pinBlob
 *   pinBlob   = sealWithPin(passphrase, secrets)        (pin-kdf.ts: scrypt + AES-256-GCM)
 *   secrets   = "SPSK" || 0x01 || seed(32) || RSA private key, PKCS#8 DER
 *
 * The passphrase goes through the same scrypt as a PIN (parameters stored in
 * the blob); the file header is not authenticated separately, but the blob
 * inside is, and any change to it is a wrong-passphrase error.
 * @module
 */
import { checkBytes, concat, equalBytes, utf8 } from './_bytes.js';
import { InvalidInputError, UnsupportedVersionError } from './errors.js';
import { DEFAULT_KDF_PARAMS, type KdfParams, openWithPin, sealWithPin } from './pin-kdf.js';

const MAGIC = utf8('SPID');
const VERSION = 1;
/** Shortest passphrase accepted for an identity file (it guards the recovery seed). */
export const MIN_PASSPHRASE_LENGTH = 10;

/**
 * Seals the secrets record under a passphrase.
 * @throws {InvalidInputError} passphrase shorter than {@link MIN_PASSPHRASE_LENGTH}, bad params
 */
export async function sealIdentityFile(passphrase: string, secrets: Uint8Array, params: KdfParams = DEFAULT_KDF_PARAMS): Promise<Uint8Array> {
  if (typeof passphrase !== 'string' || [...passphrase].length < MIN_PASSPHRASE_LENGTH) {
    throw new InvalidInputError(`the passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters`);
  }
  return concat(MAGIC, Uint8Array.of(VERSION), await sealWithPin(passphrase, checkBytes(secrets, 'secrets'), params));
}

/**
 * Opens an identity file; the caller wipes the result.
 * @throws {InvalidInputError} not an identity file
 * @throws {UnsupportedVersionError} newer file version
 * @throws {WrongKeyError} wrong passphrase or a modified file
 */
export async function openIdentityFile(passphrase: string, file: Uint8Array): Promise<Uint8Array> {
  checkBytes(file, 'identity file');
  if (file.length < 5 || !equalBytes(file.subarray(0, 4), MAGIC)) throw new InvalidInputError('not a Sealpost identity file');
  if (file[4] !== VERSION) throw new UnsupportedVersionError(`identity file version ${file[4]} is not supported`);
  return openWithPin(passphrase, file.subarray(5));
}

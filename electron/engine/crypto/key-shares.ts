/**
 * The three-share backup key (UNLOQ-style, design §7): the key that seals the full
 * identity backup is split so that no single party holds it, not even the key
 * service operator.
 *
 *   K            = HKDF(seed, "recovery/escrow-key")            (so the words recreate K too)
 *   pinShare     = scrypt(NFKC(PIN), salt, params)               (derived, never stored)
 *   serviceShare = 32 random bytes                                (held by the key service)
 *   escrowShare  = K xor serviceShare xor pinShare               (held by the escrow service)
 *   K            = serviceShare xor escrowShare xor pinShare      (restore)
 *
 * Any two shares are independent of K (each is masked by the third, uniformly random
 * or PIN-derived), so two parties together learn nothing unless one of them also
 * knows the PIN. One provider's data alone (its share, the salt, the sealed backup)
 * cannot test a PIN guess: the check needs the other provider's share. Both
 * providers colluding can search the PIN space offline; docs/security.md says so.
 *
 * Full backup (opened with K): "SPFB" || 0x01 || nonce(12) || GCM(K, nonce, AAD = the
 * 17 header bytes, seed(32) || RSA PKCS#8 DER). Version 0x02: the same with a key
 * bundle (the current key, then the keys rotated out, newest first: key-bundle.ts)
 * after the seed, written once a key was rotated.
 * @module
 */
import { randomBytes, scrypt as scryptCb } from 'node:crypto';
import { promisify } from 'node:util';
import { checkBytes, concat, utf8 } from './_bytes.js';
import { open as aeadOpen, seal as aeadSeal, newNonce } from './aead.js';
import { InvalidInputError, TamperedError, TruncatedError, UnsupportedVersionError, WrongKeyError } from './errors.js';
import { checkKdfParams, DEFAULT_KDF_PARAMS, type KdfParams } from './pin-kdf.js';
import { decodeKeyBundle, encodeKeyBundle } from './key-bundle.js';
import { deriveNamedKey, SEED_LENGTH } from './seed.js';

const scrypt = promisify(scryptCb) as (pw: Uint8Array, salt: Uint8Array, len: number, opts: object) => Promise<Buffer>;

export const ESCROW_KEY_NAME = 'recovery/escrow-key';
const MAGIC = utf8('SPFB');
const VERSION = 1;
const VERSION_BUNDLE = 2;
const HEADER = MAGIC.length + 1 + 12;

export interface PinShareParams extends KdfParams {
  /** 16 random bytes, base64 on the wire; stored with the service share. */
  salt: Uint8Array;
}

export interface SplitKey {
  serviceShare: Uint8Array;
  escrowShare: Uint8Array;
  pinShare: PinShareParams;
}

const xor = (a: Uint8Array, b: Uint8Array): Uint8Array => a.map((x, i) => x ^ b[i]!);

/** The backup key the shares reconstruct. @throws {InvalidInputError} */
export const escrowKeyOf = (seed: Uint8Array): Uint8Array => deriveNamedKey(seed, ESCROW_KEY_NAME);

/** scrypt(PIN) for the PIN share. @throws {InvalidInputError} bad params or salt */
export async function derivePinShare(pin: string, params: PinShareParams): Promise<Uint8Array> {
  checkKdfParams(params);
  checkBytes(params.salt, 'salt', 16);
  const { N, r, p } = params;
  return new Uint8Array(await scrypt(utf8(pin.normalize('NFKC')), params.salt, 32, { N, r, p, maxmem: 128 * r * (N + 2) + 128 * r * p + 1024 * 1024 }));
}

/**
 * Splits K for a PIN: a fresh service share each time (also after a PIN change).
 * @throws {InvalidInputError}
 */
export async function splitEscrowKey(key: Uint8Array, pin: string, params: KdfParams = DEFAULT_KDF_PARAMS): Promise<SplitKey> {
  checkBytes(key, 'key', 32);
  const pinShare: PinShareParams = { ...params, salt: new Uint8Array(randomBytes(16)) };
  const derived = await derivePinShare(pin, pinShare);
  const serviceShare = new Uint8Array(randomBytes(32));
  const escrowShare = xor(xor(key, serviceShare), derived);
  derived.fill(0);
  return { serviceShare, escrowShare, pinShare };
}

/** K from the three shares. A wrong share or PIN gives a wrong K, caught when the backup fails to open. */
export async function combineShares(serviceShare: Uint8Array, escrowShare: Uint8Array, pin: string, params: PinShareParams): Promise<Uint8Array> {
  checkBytes(serviceShare, 'serviceShare', 32);
  checkBytes(escrowShare, 'escrowShare', 32);
  const derived = await derivePinShare(pin, params);
  const key = xor(xor(serviceShare, escrowShare), derived);
  derived.fill(0);
  return key;
}

/** Seals seed + RSA PKCS#8 (and the keys rotated out, newest first) under K. @throws {InvalidInputError} */
export function sealFullBackup(key: Uint8Array, seed: Uint8Array, rsaPrivateKeyDer: Uint8Array, previousKeyDers: readonly Uint8Array[] = []): Uint8Array {
  checkBytes(key, 'key', 32);
  checkBytes(seed, 'seed', SEED_LENGTH);
  const nonce = newNonce();
  const rotated = previousKeyDers.length > 0;
  const header = concat(MAGIC, Uint8Array.of(rotated ? VERSION_BUNDLE : VERSION), nonce);
  const keys = rotated ? encodeKeyBundle(rsaPrivateKeyDer, previousKeyDers) : rsaPrivateKeyDer;
  const body = concat(seed, keys);
  if (rotated) keys.fill(0);
  const sealed = concat(header, aeadSeal(key, nonce, body, header));
  body.fill(0);
  return sealed;
}

/**
 * Opens a full backup.
 * @throws {InvalidInputError} not a full backup; {UnsupportedVersionError}; {TruncatedError};
 *   {WrongKeyError} wrong K (a wrong share or PIN) or a modified blob
 */
export function openFullBackup(key: Uint8Array, blob: Uint8Array): { seed: Uint8Array; rsaPrivateKeyDer: Uint8Array; previousKeyDers: Uint8Array[] } {
  checkBytes(key, 'key', 32);
  if (blob.length < MAGIC.length + 1 || !MAGIC.every((b, i) => blob[i] === b)) throw new InvalidInputError('not a Sealpost full backup');
  const version = blob[MAGIC.length];
  if (version !== VERSION && version !== VERSION_BUNDLE) throw new UnsupportedVersionError(`full backup version ${blob[MAGIC.length]} is newer than this build`);
  if (blob.length < HEADER + 16 + SEED_LENGTH) throw new TruncatedError('full backup is truncated');
  const header = blob.subarray(0, HEADER);
  let body: Uint8Array;
  try {
    body = aeadOpen(key, header.subarray(MAGIC.length + 1), blob.subarray(HEADER), header);
  } catch (e) {
    if (e instanceof TamperedError) throw new WrongKeyError('the shares or the PIN do not open this backup');
    throw e;
  }
  const seed = body.slice(0, SEED_LENGTH);
  if (version === VERSION) return { seed, rsaPrivateKeyDer: body.slice(SEED_LENGTH), previousKeyDers: [] };
  try {
    const keys = decodeKeyBundle(body.subarray(SEED_LENGTH));
    return { seed, rsaPrivateKeyDer: keys.current.slice(), previousKeyDers: keys.previous.map((k) => k.slice()) };
  } finally {
    body.fill(0);
  }
}

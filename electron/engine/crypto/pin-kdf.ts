/**
 * PIN-sealed secrets (design §3 "Private key at rest"): scrypt (RFC 7914, native
 * node:crypto, async on the libuv pool) derives a 256-bit key from the PIN; the
 * plaintext is sealed with AES-256-GCM. The scrypt parameters live in the blob.
 *
 *   blob = "SPPN" || 0x01 || kdf(0x01 = scrypt) || log2(N) || r || p || salt(16) || nonce(12)
 *          || AES-256-GCM(key, nonce, AAD = the 37 bytes before, plaintext)
 *   key  = scrypt(UTF-8(NFKC(pin)), salt, N, r, p, dkLen = 32)
 *
 * Default N = 2^17, r = 6, p = 1 (96 MiB, ~255 ms measured on the reference
 * machine). Parameters below the floor (128·N·r >= 32 MiB, N >= 2^14) are refused
 * outside tests (VITEST or NODE_ENV=test), when sealing and when opening.
 * @module
 */
import { randomBytes, scrypt } from 'node:crypto';
import { checkBytes, concat, equalBytes, Reader, utf8, view, wipe } from './_bytes.js';
import { newNonce, open as aeadOpen, seal as aeadSeal } from './aead.js';
import { InvalidInputError, TamperedError, UnsupportedVersionError, WrongKeyError } from './errors.js';

/** scrypt cost parameters: N (power of two), r (block size), p (parallelism). */
export interface KdfParams {
  N: number;
  r: number;
  p: number;
}

/** ~250 ms on the reference machine (2-core Xeon, Node 20), 96 MiB. */
export const DEFAULT_KDF_PARAMS: Readonly<KdfParams> = Object.freeze({ N: 2 ** 17, r: 6, p: 1 });
/** Fast parameters for tests only (refused elsewhere). */
export const TEST_KDF_PARAMS: Readonly<KdfParams> = Object.freeze({ N: 2 ** 10, r: 8, p: 1 });

const MAGIC = utf8('SPPN');
const VERSION = 1;
const KDF_SCRYPT = 1;
const SALT_LENGTH = 16;
const HEADER_LENGTH = 4 + 1 + 1 + 3 + SALT_LENGTH + 12;
const FLOOR_BYTES = 32 * 1024 * 1024;
const MAX_BYTES = 1024 * 1024 * 1024;

const inTests = (): boolean => process.env.VITEST === 'true' || process.env.NODE_ENV === 'test';

/**
 * Validates params: N a power of two 2^1..2^22, r 1..32, p 1..16, memory <= 1 GiB,
 * and the floor outside tests.
 * @throws {InvalidInputError}
 */
export function checkKdfParams(params: KdfParams): KdfParams {
  const { N, r, p } = params ?? ({} as KdfParams);
  const log2N = Math.log2(N);
  if (!Number.isInteger(log2N) || log2N < 1 || log2N > 22) throw new InvalidInputError('scrypt N must be a power of two up to 2^22');
  if (!Number.isInteger(r) || r < 1 || r > 32) throw new InvalidInputError('scrypt r must be 1..32');
  if (!Number.isInteger(p) || p < 1 || p > 16) throw new InvalidInputError('scrypt p must be 1..16');
  if (128 * N * r > MAX_BYTES) throw new InvalidInputError('scrypt memory over 1 GiB');
  if (!inTests() && (128 * N * r < FLOOR_BYTES || log2N < 14)) {
    throw new InvalidInputError('scrypt parameters below the floor (128·N·r >= 32 MiB, N >= 2^14)');
  }
  return { N, r, p };
}

function normalizePin(pin: string): Uint8Array {
  if (typeof pin !== 'string' || pin.length === 0 || pin.length > 1024) {
    throw new InvalidInputError('PIN must be a non-empty string');
  }
  return utf8(pin.normalize('NFKC'));
}

function deriveKey(pin: Uint8Array, salt: Uint8Array, { N, r, p }: KdfParams): Promise<Uint8Array> {
  // OpenSSL's bound: 128·r·(N + 2) + 128·r·p, plus slack.
  const maxmem = 128 * r * (N + 2) + 128 * r * p + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(pin, salt, 32, { N, r, p, maxmem }, (err, key) => (err ? reject(err) : resolve(view(key))));
  });
}

/**
 * Seals `plaintext` under `pin`.
 * @throws {InvalidInputError} empty PIN, non-bytes plaintext, params out of range / below the floor
 */
export async function sealWithPin(pin: string, plaintext: Uint8Array, params: KdfParams = DEFAULT_KDF_PARAMS): Promise<Uint8Array> {
  const pinBytes = normalizePin(pin);
  checkBytes(plaintext, 'plaintext');
  const { N, r, p } = checkKdfParams(params);
  const salt = view(randomBytes(SALT_LENGTH));
  const nonce = newNonce();
  const header = concat(MAGIC, Uint8Array.of(VERSION, KDF_SCRYPT, Math.log2(N), r, p), salt, nonce);
  const key = await deriveKey(pinBytes, salt, { N, r, p });
  try {
    return concat(header, aeadSeal(key, nonce, plaintext, header));
  } finally {
    wipe(key, pinBytes);
  }
}

/**
 * Opens a blob from {@link sealWithPin}.
 * @throws {InvalidInputError} not a PIN blob, empty PIN, stored params out of range / below the floor
 * @throws {UnsupportedVersionError} newer blob version or unknown KDF
 * @throws {TruncatedError} blob cut short
 * @throws {WrongKeyError} wrong PIN (or a modified blob: GCM cannot tell them apart)
 */
export async function openWithPin(pin: string, blob: Uint8Array): Promise<Uint8Array> {
  const pinBytes = normalizePin(pin);
  checkBytes(blob, 'PIN blob');
  const r = new Reader(blob, 'PIN blob');
  if (!equalBytes(r.bytesN(4), MAGIC)) throw new InvalidInputError('not a Sealpost PIN blob');
  const version = r.u8();
  if (version !== VERSION) throw new UnsupportedVersionError(`PIN blob version ${version} is not supported`);
  const kdf = r.u8();
  if (kdf !== KDF_SCRYPT) throw new UnsupportedVersionError(`PIN blob KDF ${kdf} is not supported`);
  const log2N = r.u8();
  if (log2N < 1 || log2N > 22) throw new InvalidInputError('stored scrypt N out of range');
  const params = checkKdfParams({ N: 2 ** log2N, r: r.u8(), p: r.u8() });
  const salt = r.bytesN(SALT_LENGTH);
  const nonce = r.bytesN(12);
  const header = blob.subarray(0, HEADER_LENGTH);
  const sealed = blob.subarray(HEADER_LENGTH);
  if (sealed.length < 16) r.bytesN(16); // throws TruncatedError
  const key = await deriveKey(pinBytes, salt, params);
  try {
    return aeadOpen(key, nonce, sealed, header);
  } catch (e) {
    if (e instanceof TamperedError) throw new WrongKeyError('wrong PIN');
    throw e;
  } finally {
    wipe(key, pinBytes);
  }
}

/**
 * Times one derivation with `params` (milliseconds), for the unlock benchmark and
 * for picking parameters on a new machine.
 * @throws {InvalidInputError} params out of range / below the floor
 */
export async function measureKdf(params: KdfParams = DEFAULT_KDF_PARAMS): Promise<number> {
  const p = checkKdfParams(params);
  const salt = view(randomBytes(SALT_LENGTH));
  const t0 = performance.now();
  const key = await deriveKey(utf8('000000'), salt, p);
  const ms = performance.now() - t0;
  wipe(key);
  return ms;
}

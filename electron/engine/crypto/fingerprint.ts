/**
 * Fingerprint of a user's public keys and the human-comparable safety number.
 *
 *   fingerprint = hex(SHA-256("sealpost-fp-v1" || 0x00 || ed25519Pub(32) || rsaSpkiDer))
 *
 * Safety number (Signal-like): each fingerprint gives 30 digits,
 *   h = SHA-512("sealpost-safety-v1" || 0x00 || fingerprintBytes(32))
 *   for k in 0..5: uint40be(h[5k .. 5k+5]) mod 100000, zero-padded to 5 digits;
 * the pair's number is the two 30-digit halves sorted (as strings) and concatenated:
 * 60 digits, shown as 12 groups of 5 separated by single spaces. Both parties compute
 * the same number. A half is ~99.7 bits, beyond second-preimage search.
 * @module
 */
import { createHash } from 'node:crypto';
import { checkBytes, fromHex, utf8 } from './_bytes.js';
import { InvalidInputError } from './errors.js';
import { publicKeySpkiDer, type PublicKeyInput } from './rsa.js';

const FP_PREFIX = utf8('sealpost-fp-v1\u0000');
const SAFETY_PREFIX = utf8('sealpost-safety-v1\u0000');
const FP_RE = /^[0-9a-f]{64}$/;

/**
 * Fingerprint (64 lowercase hex chars) of an Ed25519 signing key and an RSA SPKI DER.
 * @throws {InvalidInputError} signing key not 32 bytes, SPKI not bytes
 */
export function fingerprint(signingPublicKey: Uint8Array, rsaSpkiDer: Uint8Array): string {
  checkBytes(signingPublicKey, 'signing public key', 32);
  checkBytes(rsaSpkiDer, 'RSA SPKI DER');
  if (rsaSpkiDer.length === 0) throw new InvalidInputError('RSA SPKI DER is empty');
  return createHash('sha256').update(FP_PREFIX).update(signingPublicKey).update(rsaSpkiDer).digest('hex');
}

/** {@link fingerprint} with the RSA key as PEM/KeyObject. @throws {InvalidInputError} */
export function fingerprintOf(signingPublicKey: Uint8Array, rsaPublicKey: PublicKeyInput): string {
  return fingerprint(signingPublicKey, publicKeySpkiDer(rsaPublicKey));
}

/** @throws {InvalidInputError} not 64 lowercase hex chars */
export function checkFingerprint(fp: string, what = 'fingerprint'): string {
  if (typeof fp !== 'string' || !FP_RE.test(fp)) throw new InvalidInputError(`${what} must be 64 lowercase hex characters`);
  return fp;
}

function half(fp: string): string {
  const h = createHash('sha512').update(SAFETY_PREFIX).update(fromHex(checkFingerprint(fp))).digest();
  let out = '';
  for (let k = 0; k < 6; k++) {
    const v = h.readUIntBE(5 * k, 5) % 100000;
    out += v.toString().padStart(5, '0');
  }
  return out;
}

const group = (digits: string): string => digits.match(/\d{5}/g)!.join(' ');

/**
 * The 60-digit safety number of two parties, "ddddd ddddd ..." (12 groups); symmetric.
 * @throws {InvalidInputError} a fingerprint that is not 64 lowercase hex chars
 */
export function safetyNumber(fpA: string, fpB: string): string {
  const [a, b] = [half(fpA), half(fpB)].sort();
  return group(a! + b!);
}

/** One party's 30-digit half (6 groups), e.g. to show "your code". @throws {InvalidInputError} */
export function safetyNumberForOne(fp: string): string {
  return group(half(fp));
}

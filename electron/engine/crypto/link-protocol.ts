/**
 * Device linking (docs/security.md "Device linking", docs/format.md §14.4): an
 * unlocked device hands its identity secrets to a new device of the same user
 * over the key service, which only relays. Commit-then-reveal + a short
 * authentication string (SAS), as in ZRTP (RFC 6189 §4.4.1) and Bluetooth
 * numeric comparison:
 *
 *   new device       esk_n, epk_n = X25519 key pair;  C = SHA-256(COMMIT_TAG || epk_n)
 *                    -> server: C (epk_n stays secret for now)
 *   existing device  esk_o, epk_o = X25519 key pair  -> server: epk_o (after it saw C)
 *   new device       -> server: epk_n (after it saw epk_o); the existing device checks C
 *   both             SAS = 6 digits of SHA-256(SAS_TAG || C || epk_o || epk_n)
 *                    transcript T = SHA-256(TRANSCRIPT_TAG || linkId || C || epk_o || epk_n)
 *                    K = HKDF-SHA256(X25519(esk, epk_peer), salt = T, info = KEY_INFO, 32)
 *   existing device  sealed = 0x01 || nonce(12) || AES-256-GCM(K, nonce, secrets, AAD = T)
 *
 * A relay that swaps keys must fix its epk_n' (through C) before it learns
 * epk_o, and its epk_o' before it learns epk_n, so it cannot search for keys
 * whose SAS matches on both screens: one try, a 1 in 10^6 chance.
 * @module
 */
import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { checkBytes, concat, equalBytes, utf8, view } from './_bytes.js';
import { NONCE_LENGTH, open, seal } from './aead.js';
import { InvalidInputError, TamperedError, UnsupportedVersionError } from './errors.js';

const COMMIT_TAG = utf8('sealpost/link/v1/commit');
const SAS_TAG = utf8('sealpost/link/v1/sas');
const TRANSCRIPT_TAG = utf8('sealpost/link/v1/transcript');
const KEY_INFO = utf8('sealpost/link/v1/key');
const SEALED_VERSION = 1;
export const PUBLIC_KEY_LENGTH = 32;
/** Digits of the verification code both screens show. */
export const SAS_DIGITS = 6;

export interface LinkKeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

const sha256 = (...parts: Uint8Array[]): Uint8Array => view(createHash('sha256').update(concat(...parts)).digest());

/** A fresh ephemeral X25519 key pair (one per link attempt; wipe secretKey afterwards). */
export function newLinkKeyPair(): LinkKeyPair {
  const secretKey = view(randomBytes(32));
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

/** C = SHA-256(COMMIT_TAG || epk_new). @throws {InvalidInputError} not a 32-byte key */
export function commitment(newPublicKey: Uint8Array): Uint8Array {
  return sha256(COMMIT_TAG, checkBytes(newPublicKey, 'new device key', PUBLIC_KEY_LENGTH));
}

/** Whether the revealed key is the one committed to (constant time). */
export function matchesCommitment(c: Uint8Array, newPublicKey: Uint8Array): boolean {
  return newPublicKey.length === PUBLIC_KEY_LENGTH && c.length === 32 && equalBytes(commitment(newPublicKey), c);
}

function checkKeys(c: Uint8Array, oldPublicKey: Uint8Array, newPublicKey: Uint8Array): void {
  checkBytes(c, 'commitment', 32);
  checkBytes(oldPublicKey, 'existing device key', PUBLIC_KEY_LENGTH);
  checkBytes(newPublicKey, 'new device key', PUBLIC_KEY_LENGTH);
}

/**
 * The 6-digit verification code, "123 456" style digits without the space.
 * 2^32 mod 10^6 leaves a bias below 2^-12 per value: irrelevant for one try.
 * @throws {InvalidInputError} wrong lengths
 */
export function verificationCode(c: Uint8Array, oldPublicKey: Uint8Array, newPublicKey: Uint8Array): string {
  checkKeys(c, oldPublicKey, newPublicKey);
  const h = sha256(SAS_TAG, c, oldPublicKey, newPublicKey);
  const n = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
  return String(n % 10 ** SAS_DIGITS).padStart(SAS_DIGITS, '0');
}

/** T: binds the key and the ciphertext to this session and these three values. */
export function transcript(linkId: string, c: Uint8Array, oldPublicKey: Uint8Array, newPublicKey: Uint8Array): Uint8Array {
  checkKeys(c, oldPublicKey, newPublicKey);
  const id = utf8(linkId);
  return sha256(TRANSCRIPT_TAG, Uint8Array.of(id.length), id, c, oldPublicKey, newPublicKey);
}

/**
 * K = HKDF-SHA256(X25519(ours, theirs), salt = T, info = KEY_INFO). The caller wipes K.
 * @throws {InvalidInputError} a low-order peer key (shared secret all zero)
 */
export function sessionKey(ourSecretKey: Uint8Array, theirPublicKey: Uint8Array, t: Uint8Array): Uint8Array {
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(checkBytes(ourSecretKey, 'secret key', 32), checkBytes(theirPublicKey, 'peer key', PUBLIC_KEY_LENGTH));
  } catch (e) {
    if (e instanceof InvalidInputError) throw e;
    throw new InvalidInputError('the peer\'s link key is not a usable X25519 key');
  }
  try {
    return view(Buffer.from(hkdfSync('sha256', shared, t, KEY_INFO, 32)));
  } finally {
    shared.fill(0);
  }
}

/** 0x01 || nonce || AES-256-GCM(K, nonce, secrets, AAD = T). */
export function sealLinkPayload(key: Uint8Array, t: Uint8Array, secrets: Uint8Array): Uint8Array {
  const nonce = view(randomBytes(NONCE_LENGTH));
  return concat(Uint8Array.of(SEALED_VERSION), nonce, seal(key, nonce, secrets, t));
}

/**
 * Opens what the existing device sealed; the caller wipes the result.
 * @throws {TamperedError} wrong key, other transcript, modified bytes
 * @throws {UnsupportedVersionError} a newer format
 */
export function openLinkPayload(key: Uint8Array, t: Uint8Array, sealed: Uint8Array): Uint8Array {
  checkBytes(sealed, 'sealed payload');
  if (sealed.length < 1 + NONCE_LENGTH + 16) throw new TamperedError('the linked secrets are truncated');
  if (sealed[0] !== SEALED_VERSION) throw new UnsupportedVersionError(`link payload version ${sealed[0]} is not supported`);
  return open(key, sealed.subarray(1, 1 + NONCE_LENGTH), sealed.subarray(1 + NONCE_LENGTH), t);
}

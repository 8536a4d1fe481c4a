/**
 * AES-256-GCM (NIST SP 800-38D) on native node:crypto: 32-byte key, 96-bit nonce,
 * 128-bit tag appended to the ciphertext (ciphertext || tag), optional AAD.
 * Tests check it byte-for-byte against @noble/ciphers' pure-JS gcm and Wycheproof.
 *
 * Nonces must never repeat under one key: Sealpost uses a fresh random key per
 * envelope/item, or a counter (file chunks), so random 96-bit nonces are safe.
 * @module
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { checkBytes, view } from './_bytes.js';
import { InvalidInputError, TamperedError, TruncatedError } from './errors.js';

export const KEY_LENGTH = 32;
export const NONCE_LENGTH = 12;
export const TAG_LENGTH = 16;

const EMPTY = new Uint8Array(0);

/** A fresh random 12-byte nonce. */
export const newNonce = (): Uint8Array => view(randomBytes(NONCE_LENGTH));
/** A fresh random 32-byte key. */
export const newKey = (): Uint8Array => view(randomBytes(KEY_LENGTH));

/**
 * Encrypts: returns ciphertext || 16-byte tag.
 * @throws {InvalidInputError} key not 32 bytes, nonce not 12 bytes, non-bytes input
 */
export function seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
  const out = new Uint8Array(plaintext.length + TAG_LENGTH);
  _sealInto(key, nonce, plaintext, aad, out, 0);
  return out;
}

/**
 * @internal {@link seal} writing ciphertext || tag into `out` at `offset` (saves a copy
 * of large payloads). Returns the number of bytes written (plaintext.length + 16).
 * @throws {InvalidInputError} as seal; `out` too small
 */
export function _sealInto(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  out: Uint8Array,
  offset: number,
): number {
  checkBytes(key, 'AES-256-GCM key', KEY_LENGTH);
  checkBytes(nonce, 'AES-GCM nonce', NONCE_LENGTH);
  checkBytes(plaintext, 'plaintext');
  checkBytes(aad, 'AAD');
  if (out.length - offset < plaintext.length + TAG_LENGTH) throw new InvalidInputError('output buffer too small');
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  if (aad.length) c.setAAD(aad);
  let o = offset;
  const a = c.update(plaintext);
  out.set(a, o);
  o += a.length;
  const b = c.final();
  out.set(b, o);
  o += b.length;
  out.set(c.getAuthTag(), o);
  return o + TAG_LENGTH - offset;
}

/**
 * Decrypts and authenticates ciphertext || tag.
 * @throws {InvalidInputError} key not 32 bytes, nonce not 12 bytes
 * @throws {TruncatedError} shorter than a tag
 * @throws {TamperedError} authentication failed (wrong key, nonce, AAD, or modified bytes)
 */
export function open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
  checkBytes(key, 'AES-256-GCM key', KEY_LENGTH);
  checkBytes(nonce, 'AES-GCM nonce', NONCE_LENGTH);
  checkBytes(sealed, 'ciphertext');
  checkBytes(aad, 'AAD');
  if (sealed.length < TAG_LENGTH) throw new TruncatedError('ciphertext is shorter than the GCM tag');
  const split = sealed.length - TAG_LENGTH;
  const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  d.setAuthTag(sealed.subarray(split));
  if (aad.length) d.setAAD(aad);
  const pt = d.update(sealed.subarray(0, split));
  try {
    d.final();
  } catch {
    pt.fill(0);
    throw new TamperedError('AES-GCM authentication failed');
  }
  return view(pt);
}

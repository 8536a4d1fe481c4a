/**
 * Recovery seed and named keys: HKDF-SHA256 (RFC 5869) with a fixed salt, one
 * 256-bit seed -> many independent keys, each named by a UTF-8 string
 * (the IOTICS pattern: one seed, many named keys).
 *
 *   key = HKDF-SHA256(IKM = seed, salt = "sealpost/seed/v1", info = UTF-8(keyName), L = length)
 *
 * Key names in use (never reuse a name for another purpose; add, don't change):
 * - "identity/ed25519": the 32-byte Ed25519 identity secret key (identity.ts)
 * - "backup/rsa":       the AES-256-GCM key that seals the identity backup (backup.ts)
 * - "vault/local":      reserved for the local vault key
 * @module
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { checkBytes, utf8, view } from './_bytes.js';
import { InvalidInputError } from './errors.js';

/** Seed length in bytes (256 bits). */
export const SEED_LENGTH = 32;
/** HKDF salt, fixed for the v1 derivation. */
export const SEED_HKDF_SALT = 'sealpost/seed/v1';

/** The documented key names. */
export const KEY_NAMES = {
  identity: 'identity/ed25519',
  backup: 'backup/rsa',
  vaultLocal: 'vault/local',
} as const;

/** A fresh random 32-byte seed from the OS CSPRNG. */
export function newSeed(): Uint8Array {
  return view(randomBytes(SEED_LENGTH));
}

/**
 * Derives the key named `keyName` from `seed`.
 * @throws {InvalidInputError} seed not 32 bytes, empty or over-long name, length not 1..255*32
 */
export function deriveNamedKey(seed: Uint8Array, keyName: string, length = 32): Uint8Array {
  checkBytes(seed, 'seed', SEED_LENGTH);
  if (typeof keyName !== 'string' || keyName.length === 0 || keyName.length > 255) {
    throw new InvalidInputError('keyName must be a non-empty string of at most 255 characters');
  }
  if (!Number.isInteger(length) || length < 1 || length > 255 * 32) {
    throw new InvalidInputError('length must be an integer in 1..8160');
  }
  return new Uint8Array(hkdfSync('sha256', seed, utf8(SEED_HKDF_SALT), utf8(keyName), length));
}

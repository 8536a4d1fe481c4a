/**
 * What a profile keeps about its identity, and how the unlocked secrets are laid out.
 *
 * Public part (vault settings, readable while locked): did, public keys, fingerprint,
 * device id and the identity backup (sealed under a seed-derived key, so it is
 * useless without the recovery seed).
 *
 * Secret part (the PIN vault's sealed record, session/pin-vault.ts):
 *   "SPSK" || 0x01 || seed(32) || RSA private key, PKCS#8 DER
 *   "SPSK" || 0x02 || seed(32) || key bundle (current key, then the keys rotated
 *                                 out, newest first: crypto/key-bundle.ts)
 * Version 1 is written while there was no rotation, so older builds keep reading it.
 * The Ed25519 identity key is derived from the seed again at unlock.
 * @module
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { KeyChangeSchema } from '../../../shared/key-change.js';
import { InvalidInputError } from '../crypto/errors.js';
import { decodeKeyBundle, encodeKeyBundle } from '../crypto/key-bundle.js';
import { SEED_LENGTH } from '../crypto/seed.js';
import type { Db } from '../vault/_sql.js';
import { getSetting, setSetting } from '../vault/settings.js';

const SECRETS_MAGIC = Buffer.from('SPSK', 'latin1');
const SECRETS_VERSION = 1;
/** The same record with rotated-out keys after the current one. */
const SECRETS_VERSION_BUNDLE = 2;
const SECRETS_HEADER = SECRETS_MAGIC.length + 1;

export const PublicIdentity = z
  .object({
    version: z.literal(1),
    did: z.string(),
    /** Ed25519 identity public key, base64url. */
    signingPublicKey: z.string(),
    rsaPublicPem: z.string(),
    rsaBits: z.number().int(),
    fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
    /** Random per device, 32 hex digits. */
    deviceId: z.string().regex(/^[0-9a-f]{32}$/),
    createdAt: z.number().int(),
    /** The identity backup blob (docs/format.md §14), base64. */
    backup: z.string(),
    /** Encryption keys rotated out, newest first (their private keys stay in the sealed secrets). */
    previousKeys: z
      .array(z.object({ rsaPublicPem: z.string(), fingerprint: z.string().regex(/^[0-9a-f]{64}$/), rotatedAt: z.number().int().nullable() }).strict())
      .max(64)
      .optional(),
    /** A rotation done here whose signed key change the key service has not accepted yet (service/rotation.ts). */
    pendingKeyChange: KeyChangeSchema.optional(),
  })
  .strict();
export type PublicIdentity = z.infer<typeof PublicIdentity>;

const IDENTITY_KEY = 'identity';
const PROFILE_NAME_KEY = 'profileName';

export function readPublicIdentity(db: Db): PublicIdentity | null {
  return getSetting(db, IDENTITY_KEY, PublicIdentity) ?? null;
}

export function writePublicIdentity(db: Db, identity: PublicIdentity, now: number): void {
  setSetting(db, IDENTITY_KEY, PublicIdentity.parse(identity), now);
}

/**
 * The name this profile's keychain entries go under ("<name>/<purpose>"). Made once
 * from the folder name plus 8 random hex digits, so two profile folders with the
 * same name never share OS keychain entries.
 */
export function profileName(db: Db, profileDir: string, now: number): string {
  const stored = getSetting(db, PROFILE_NAME_KEY, z.string());
  if (stored) return stored;
  const base = path.basename(path.resolve(profileDir)).replace(/[^A-Za-z0-9._-]/g, '').replace(/^[._-]+/, '').slice(0, 40) || 'profile';
  const name = `${base}-${randomBytes(4).toString('hex')}`;
  setSetting(db, PROFILE_NAME_KEY, name, now);
  return name;
}

/** Packs the seed and the RSA PKCS#8 DERs (current, then rotated-out keys, newest first) into one buffer for the PIN vault. */
export function encodeSecrets(seed: Uint8Array, rsaPrivateKeyDer: Uint8Array, previousKeyDers: readonly Uint8Array[] = []): Uint8Array {
  if (seed.length !== SEED_LENGTH) throw new InvalidInputError('seed must be 32 bytes');
  const keys = previousKeyDers.length === 0 ? rsaPrivateKeyDer : encodeKeyBundle(rsaPrivateKeyDer, previousKeyDers);
  const out = new Uint8Array(SECRETS_HEADER + SEED_LENGTH + keys.length);
  out.set(SECRETS_MAGIC, 0);
  out[SECRETS_MAGIC.length] = previousKeyDers.length === 0 ? SECRETS_VERSION : SECRETS_VERSION_BUNDLE;
  out.set(seed, SECRETS_HEADER);
  out.set(keys, SECRETS_HEADER + SEED_LENGTH);
  if (keys !== rsaPrivateKeyDer) keys.fill(0);
  return out;
}

export interface DecodedSecrets {
  seed: Uint8Array;
  /** The current RSA key, PKCS#8 DER. */
  rsaPrivateKeyDer: Uint8Array;
  /** Keys rotated out (still opening what was sealed to them), newest first. */
  previousKeyDers: Uint8Array[];
}

/**
 * Views into the unlocked buffer (no copies: lock() zero-fills the one buffer).
 * @throws {InvalidInputError} not a secrets record of a known version
 */
export function decodeSecrets(secrets: Uint8Array): DecodedSecrets {
  const magicOk = secrets.length > SECRETS_HEADER + SEED_LENGTH && SECRETS_MAGIC.every((b, i) => secrets[i] === b);
  const version = secrets[SECRETS_MAGIC.length];
  if (!magicOk || (version !== SECRETS_VERSION && version !== SECRETS_VERSION_BUNDLE)) throw new InvalidInputError('unexpected secrets record');
  const seed = secrets.subarray(SECRETS_HEADER, SECRETS_HEADER + SEED_LENGTH);
  const keys = secrets.subarray(SECRETS_HEADER + SEED_LENGTH);
  if (version === SECRETS_VERSION) return { seed, rsaPrivateKeyDer: keys, previousKeyDers: [] };
  const bundle = decodeKeyBundle(keys);
  return { seed, rsaPrivateKeyDer: bundle.current, previousKeyDers: bundle.previous };
}

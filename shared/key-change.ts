import { z } from 'zod';

/**
 * Encryption-key rotation (docs/format.md §18): the identity key says "my
 * encryption key was the one with fingerprint `oldFingerprint`; from `changedAt`
 * on it is `newPublicKey`". The key service accepts it only when its user's
 * identity key signed it; a contact's app follows a chain of such statements
 * from the key it knew to the key the directory now lists, and shows a signed
 * rotation instead of the changed-key alarm.
 *
 * Fingerprints are identity fingerprints (docs/format.md §5):
 *   hex(SHA-256("sealpost-fp-v1" || 0x00 || ed25519Pub(32) || rsaSpkiDer))
 * signature = Ed25519(identity key, UTF-8(canonicalJson(statement without "signature")))
 */
export const KEY_CHANGE_TYPE = 'sealpost-key-change';

const Fingerprint = z.string().regex(/^[0-9a-f]{64}$/);

export const KeyChangeSchema = z
  .object({
    type: z.literal(KEY_CHANGE_TYPE),
    version: z.literal(1),
    /** did:key of the identity that rotates. */
    did: z.string().regex(/^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}$/),
    /** Identity fingerprint of the key being replaced. */
    oldFingerprint: Fingerprint,
    /** Identity fingerprint of the new key (over the same Ed25519 key and newPublicKey). */
    newFingerprint: Fingerprint,
    /** The new RSA public key, SPKI PEM. */
    newPublicKey: z.string().min(100).max(4096).startsWith('-----BEGIN PUBLIC KEY-----'),
    /** ISO 8601 time of signing. */
    changedAt: z.string().datetime(),
    signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/),
  })
  .strict();
export type KeyChange = z.infer<typeof KeyChangeSchema>;

/** What a device posts to publish its user's new encryption key (POST /v1/users/me/key-changes). */
export const KeyChangeBody = z.strictObject({ keyChange: z.unknown() });

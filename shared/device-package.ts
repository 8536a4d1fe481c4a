import { z } from 'zod';

/**
 * The device package (IDENTOS): what a device sends, through the app's own
 * server, to POST /v1/user/register. It names the device and its public keys
 * and is signed by the identity key, so the key service can check that the
 * package was made by the holder of the identity it names.
 *
 * signature = Ed25519(identity key, UTF-8(canonicalJson(package without "signature")))
 */
export const DevicePackageSchema = z
  .object({
    version: z.literal(1),
    /** Random per device, 16 bytes as 32 lowercase hex digits. */
    deviceId: z.string().regex(/^[0-9a-f]{32}$/),
    /** did:key of the identity (Ed25519) key. */
    did: z.string().regex(/^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}$/),
    /** Ed25519 identity public key, 32 bytes, base64url without padding. */
    signingPublicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
    /** RSA encryption public key, SPKI PEM. */
    encryptionPublicKey: z.string().min(200).max(2000).startsWith('-----BEGIN PUBLIC KEY-----'),
    /** SHA-256 fingerprint of the public keys, 64 lowercase hex digits (docs/format.md). */
    fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
    /** ISO 8601 time the package was made. */
    createdAt: z.string().datetime(),
    /** Ed25519 signature, 64 bytes, base64url without padding. */
    signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/),
  })
  .strict();

export type DevicePackage = z.infer<typeof DevicePackageSchema>;

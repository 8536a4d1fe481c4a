import { z } from 'zod';
import { Username } from './wire.js';

/**
 * Key-service wire schemas for device linking (docs/api.md "Device linking",
 * docs/security.md "Device linking"). The server relays three public values
 * and one ciphertext between a new device and an existing one of the same
 * user; it never sees a key that opens the ciphertext.
 */

/** A 32-byte value (X25519 public key, SHA-256 commitment), base64url without padding. */
export const Key32 = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be 32 bytes as base64url (43 characters)');
/** 128 random bits, hex: names a session (and is the new device's handle on it). */
export const LinkId = z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 hex digits');
/** The code people type: 8 digits, shown as 1234-5678 (a dash or space in the middle is accepted). */
export const LinkCode = z
  .string()
  .trim()
  .regex(/^\d{4}[- ]?\d{4}$/, 'must be the 8-digit code, e.g. 1234-5678')
  .transform((s) => s.replace(/[- ]/g, ''));
/** The sealed identity secrets (a few KB), base64. */
export const SealedB64 = z.string().min(40).max(16 * 1024).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64 (RFC 4648, padded)');

export const LinkState = z.enum(['waiting', 'claimed', 'revealed', 'sealed']);
export type LinkState = z.infer<typeof LinkState>;

export const CreateLinkBody = z.strictObject({ username: Username, commitment: Key32 });
export const CreateLinkResponse = z.object({ linkId: LinkId, code: z.string().regex(/^\d{8}$/), expiresAt: z.string() });

export const ClaimLinkBody = z.strictObject({ code: LinkCode, publicKey: Key32 });
export const ClaimLinkResponse = z.object({ linkId: LinkId, commitment: Key32, expiresAt: z.string() });

export const RevealLinkBody = z.strictObject({ publicKey: Key32 });
export const SealLinkBody = z.strictObject({ sealed: SealedB64 });

export const LinkSessionResponse = z.object({
  linkId: LinkId,
  state: LinkState,
  commitment: Key32,
  /** The existing device's ephemeral key, once it claimed the code. */
  claimKey: Key32.nullable(),
  /** The new device's ephemeral key, once revealed (it matches the commitment). */
  revealKey: Key32.nullable(),
  sealed: SealedB64.nullable(),
  expiresAt: z.string(),
});
export type LinkSessionResponse = z.infer<typeof LinkSessionResponse>;
export const LinkStateResponse = z.object({ linkId: LinkId, state: LinkState });
export const LinkDeletedResponse = z.object({ deleted: z.literal(true) });

/** Shown as 1234-5678. */
export const formatLinkCode = (code: string): string => `${code.slice(0, 4)}-${code.slice(4)}`;

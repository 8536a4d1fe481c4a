import { z } from 'zod';

/**
 * Key-service wire schemas for the recovery routes (docs/api.md "Recovery",
 * docs/format.md §14.3). The same routes serve the key service and the escrow
 * service (another instance of the same server with its own database).
 */

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const b64 = (min: number, max: number) => z.string().min(min).max(max).regex(B64, 'must be base64 (RFC 4648, padded)');
/** A 32-byte share, base64 (44 characters). */
export const ShareB64 = z.string().length(44).regex(B64, 'must be base64 (RFC 4648, padded)');
/** A 32-byte check value the client derives (hex); the server keeps only its SHA-256. */
export const CheckHex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
export const Ed25519Key = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be an Ed25519 public key (43 base64url characters)');
export const Ed25519Signature = z.string().regex(/^[A-Za-z0-9_-]{86}$/, 'must be an Ed25519 signature (86 base64url characters)');

/** scrypt parameters of the PIN share (salt: 16 bytes base64). Bounded so a hostile record cannot make a client spin. */
export const PinParamsWire = z.strictObject({
  N: z.number().int().min(1024).max(2 ** 20),
  r: z.number().int().min(1).max(32),
  p: z.number().int().min(1).max(16),
  salt: z.string().length(24).regex(B64),
});
export type PinParamsWire = z.infer<typeof PinParamsWire>;

/** Where the second share lives (not secret). */
export const EscrowRef = z.strictObject({ url: z.string().url().max(500), appId: z.string().min(3).max(64) });
export type EscrowRef = z.infer<typeof EscrowRef>;

/** The fields an identity signs in a deposit (everything but `signature`). */
export const DepositFields = z.strictObject({
  identityKey: Ed25519Key,
  share: ShareB64,
  pinParams: PinParamsWire.optional(),
  backup: b64(16, 64 * 1024).optional(),
  pinCheck: CheckHex.optional(),
  wordsCheck: CheckHex.optional(),
  escrow: EscrowRef.optional(),
  signedAt: z.string().datetime(),
});
export type DepositFields = z.infer<typeof DepositFields>;
export const DepositBody = DepositFields.extend({ signature: Ed25519Signature });
export type DepositBody = z.infer<typeof DepositBody>;
export const DepositResponse = z.object({ stored: z.literal(true), gated: z.boolean() });

/** What the identity signs: canonicalJson of this object (docs/format.md §14.3). */
export const depositStatement = (appId: string, username: string, fields: DepositFields) => ({
  purpose: 'sealpost/recovery-deposit/v1',
  appId,
  username: username.normalize('NFC'),
  ...fields,
});

export const RecoveryInfoResponse = z.object({
  identityKey: Ed25519Key,
  pinParams: PinParamsWire.nullable(),
  escrow: EscrowRef.nullable(),
  /** true: a share is released only with a correct pin or words check. */
  gated: z.boolean(),
  hasBackup: z.boolean(),
  updatedAt: z.string(),
});

export const ReleaseBody = z.strictObject({
  /** The device asking (its own random id; counted per device). */
  deviceId: z.string().regex(/^[0-9a-f]{32}$/),
  proof: z.strictObject({ kind: z.enum(['pin', 'words']), value: CheckHex }).optional(),
});
export type ReleaseBody = z.infer<typeof ReleaseBody>;
export const ReleaseResponse = z.object({ share: ShareB64, backup: b64(16, 64 * 1024).nullable() });

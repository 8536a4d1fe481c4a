import { z } from 'zod';
import { call, Fingerprint, Pin } from './contract-fields.js';

/**
 * Contract channels for encryption-key rotation (spread into shared/contract.ts),
 * docs/security.md "Key rotation". The PIN is asked again because the keys are
 * sealed under it anew (with the old key kept, so old messages still open).
 */

export const RotationValue = z.object({
  /** The new key's fingerprint and safety-number half. */
  fingerprint: Fingerprint,
  safetyNumber: z.string(),
  previousFingerprint: Fingerprint,
  /** ms since the epoch: when the identity key signed the change. */
  changedAt: z.number().int(),
  /** False while the key service has not accepted it yet (offline): the next sync that reaches it publishes it. */
  published: z.boolean(),
  /** Keys this identity holds from earlier rotations (still opening old messages). */
  previousKeys: z.number().int().nonnegative(),
});

export const rotationChannels = {
  /**
   * Makes a new RSA encryption key (same size), keeps the old one, signs the key change
   * with the identity key and publishes both to the key service. When an earlier rotation
   * is still unpublished, publishes that one instead of making another key.
   */
  'keys:rotate': call(z.object({ pin: Pin }).strict(), RotationValue),
} as const;

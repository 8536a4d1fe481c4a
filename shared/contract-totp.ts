import { z } from 'zod';
import { call } from './contract-fields.js';

/**
 * Contract channels for the TOTP second factor of the user's account on the key
 * service (spread into shared/contract.ts; docs/security.md "TOTP"). The key
 * service makes and keeps the secret; the engine relays. `totp:enable` answers
 * the secret and its otpauth:// URI once (the UI draws the URI as a QR code);
 * `totp:confirm` with the first code from the authenticator app turns it on and
 * answers the ten one-time recovery codes, shown once.
 */

/** A 6-digit code (spaces allowed) or a recovery code (XXXXX-XXXXX). */
export const TotpInput = z.string().min(6).max(32).regex(/^[0-9A-Za-z\s-]+$/, 'a 6-digit code or a recovery code');

export const TotpStatusValue = z.object({
  enabled: z.boolean(),
  /** A secret was made and waits for its first code. */
  pending: z.boolean(),
  confirmedAt: z.string().nullable(),
  recoveryCodesLeft: z.number().int(),
  /** The organisation's policy (requireTotp) requires it: until it is on, the account's other features wait. */
  required: z.boolean(),
});

export const totpChannels = {
  'totp:status': call(z.object({}).strict(), TotpStatusValue),
  /** A new secret (replacing one not yet confirmed): show `uri` as a QR code and `secret` for typing, once. */
  'totp:enable': call(z.object({}).strict(), z.object({ secret: z.string(), uri: z.string(), period: z.number().int(), digits: z.number().int() })),
  /** The first code turns it on; the ten recovery codes are shown once. */
  'totp:confirm': call(z.object({ code: TotpInput }).strict(), z.object({ enabled: z.literal(true), recoveryCodes: z.array(z.string()) })),
  /** A current code or a recovery code turns it off. */
  'totp:disable': call(z.object({ code: TotpInput }).strict(), z.object({ enabled: z.literal(false) })),
} as const;

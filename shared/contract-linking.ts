import { z } from 'zod';
import { TotpInput } from './contract-totp.js';
import { call, ApiKey, AppId, Pin, Url, Username } from './contract-fields.js';

/**
 * Contract channels for device linking (spread into shared/contract.ts). The
 * new device asks with `link:request` and advances with `link:progress`; the
 * existing, unlocked device enters the code with `link:claim`, shows the
 * verification code, and sends the identity with `link:confirm` once the user
 * saw the same code on both screens. docs/recovery.md "Link a new device",
 * docs/security.md "Device linking".
 */
/** The 8-digit code from the new device's screen; a dash or space in the middle is fine. */
export const LinkCodeInput = z.string().trim().regex(/^\d{4}[- ]?\d{4}$/, 'the code has 8 digits, e.g. 1234-5678');
/** The 6-digit verification code both screens show. */
export const VerificationCodeInput = z.string().trim().regex(/^\d{3} ?\d{3}$/, 'the verification code has 6 digits');

export const LinkProgressValue = z.object({
  /**
   * waiting   the code is shown; no device has claimed it yet
   * verify    both screens show `verificationCode`; the user confirms on the existing device
   * linked    the identity arrived and is installed (and registered, when a server key was given)
   */
  state: z.enum(['waiting', 'verify', 'linked']),
  /** 1234-5678 */
  code: z.string(),
  verificationCode: z.string().nullable(),
  expiresAt: z.number().int(),
  did: z.string().optional(),
  fingerprint: z.string().optional(),
  registered: z.boolean().optional(),
  /** Why registering or the first sync failed, when it did (the identity is linked all the same). */
  warning: z.string().optional(),
});

export const linkingChannels = {
  /** New device (no identity yet): opens a link request; `pin` becomes this device's PIN. */
  'link:request': call(
    z.object({ server: Url, appId: AppId, clientKey: ApiKey, username: Username, pin: Pin, serverKey: ApiKey.optional() }).strict(),
    LinkProgressValue,
  ),
  /** New device: one step of the exchange (poll about once a second until `linked`). NotFound once the request expired or was cancelled. */
  'link:progress': call(z.object({}).strict(), LinkProgressValue),
  /** Existing device (registered, unlocked): claims the code and waits for the new device's key; returns the verification code to compare. */
  'link:claim': call(z.object({ code: LinkCodeInput, totp: TotpInput.optional() }).strict(), z.object({ verificationCode: z.string(), expiresAt: z.number().int() })),
  /** Existing device: the user saw `verificationCode` on both screens; sends the sealed identity. InvalidParameter if it is not the computed one. */
  'link:confirm': call(z.object({ verificationCode: VerificationCodeInput }).strict(), z.object({ linked: z.literal(true) })),
  /** Either device: abandons the pending link (also on the key service). */
  'link:cancel': call(z.object({}).strict(), z.object({ cancelled: z.boolean() })),
} as const;

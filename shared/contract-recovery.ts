import { z } from 'zod';
import { call, ApiKey, AppId, Pin, Url, Username } from './contract-fields.js';
import { TotpInput } from './contract-totp.js';

/**
 * Contract channels for recovery (spread into shared/contract.ts): the recovery
 * words (shown after the PIN until confirmed), the three-share backup on the key
 * service and the escrow service, and restoring on a new device.
 * docs/security.md "Recovery".
 */

export const RecoveryStatusValue = z.object({
  /** The user typed back the asked words. */
  wordsConfirmed: z.boolean(),
  postponedAt: z.number().int().nullable(),
  /** Settings should remind the user: words not confirmed or no share backup yet. */
  nag: z.boolean(),
  backedUpAt: z.number().int().nullable(),
  escrow: z.object({ url: z.string(), appId: z.string() }).nullable(),
});

export const recoveryChannels = {
  'recovery:status': call(z.object({}).strict(), RecoveryStatusValue),
  /** The 24 words, after the PIN; refused (InvalidState) once they were confirmed. `ask` = three word positions (1-24) to confirm. */
  'recovery:words': call(z.object({ pin: Pin }).strict(), z.object({ words: z.array(z.string()).length(24), ask: z.array(z.number().int()).length(3) })),
  /** The user types back the asked words (position 1-24 and word). */
  'recovery:confirm': call(
    z.object({ answers: z.array(z.object({ position: z.number().int().min(1).max(24), word: z.string().min(1).max(20) }).strict()).min(3).max(24) }).strict(),
    RecoveryStatusValue,
  ),
  /** "Later": the words stay available and Settings reminds the user. */
  'recovery:postpone': call(z.object({}).strict(), RecoveryStatusValue),
  /**
   * Splits the backup key and stores the shares on the key service and the escrow service (escrow remembered).
   * `totp`: the account's current code when its two-step verification is on (sent to the key service only).
   */
  'recovery:backup': call(
    z.object({ pin: Pin, escrow: z.object({ url: Url, appId: AppId, clientKey: ApiKey }).strict().optional(), totp: TotpInput.optional() }).strict(),
    RecoveryStatusValue,
  ),
  /** New device: restores the identity with the words or with the two services' shares + PIN, and sets `pin` as this device's PIN. */
  'recovery:restore': call(
    z
      .object({
        server: Url,
        appId: AppId,
        clientKey: ApiKey,
        username: Username,
        pin: Pin,
        words: z.string().min(1).max(400).optional(),
        /** For restoring with shares: the escrow service's client key (its address comes from the key service). */
        escrowClientKey: ApiKey.optional(),
        /** For restoring with shares: the escrow address the user expects; refused if the key service names another. */
        escrowUrl: Url.optional(),
        /** The account's current TOTP code or one of its recovery codes, when its two-step verification is on (docs/recovery.md). */
        totp: TotpInput.optional(),
      })
      .strict(),
    z.object({ did: z.string(), fingerprint: z.string(), method: z.enum(['words', 'shares']) }),
  ),
} as const;

/**
 * The key-service credentials of a profile, kept in the keychain account
 * 'server-credentials' (never in settings, which anyone with the profile folder
 * can read, and never in logs or audit details):
 *
 * - clientKey: the app's development device key (engine:initialize stores it);
 * - serverKey: the app's server key. The desktop app plays its own back end
 *   (docs/api.md, "What the desktop engine calls"), so it keeps the key it
 *   needs to renew its device JWT;
 * - jwt, jwtExpiresAt: the current device JWT;
 * - inbox: our published inbox key token (a capability: whoever holds it may
 *   send to us), privateKeyHash: the secret that reads it. Both here so a pull
 *   works while the PIN session is locked (opening waits for the unlock).
 * - previousInboxes: the inboxes of encryption keys we rotated out, still pulled
 *   so messages sealed to an old key by a sender who has not seen the rotation
 *   are not lost (service/rotation.ts).
 * @module
 */
import { z } from 'zod';
import type { Keychain } from '../keychain/types.js';

const ACCOUNT = 'server-credentials';

export const Credentials = z
  .object({
    clientKey: z.string().min(1).max(500).optional(),
    serverKey: z.string().min(1).max(500).optional(),
    jwt: z.string().min(1).max(8192).optional(),
    jwtExpiresAt: z.number().int().optional(),
    inbox: z.string().regex(/^[A-Za-z0-9_-]{43}$/).optional(),
    privateKeyHash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    previousInboxes: z
      .array(z.object({ inbox: z.string().regex(/^[A-Za-z0-9_-]{43}$/), privateKeyHash: z.string().regex(/^[0-9a-f]{64}$/) }).strict())
      .max(64)
      .optional(),
  })
  .strip();
export type Credentials = z.infer<typeof Credentials>;

/** The stored credentials ({} when none or unreadable: registration writes them again). @throws {KeychainError} */
export async function readCredentials(keychain: Keychain): Promise<Credentials> {
  const raw = await keychain.get(ACCOUNT);
  if (!raw) return {};
  try {
    const parsed = Credentials.safeParse(JSON.parse(new TextDecoder().decode(raw)));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

/** Merges `patch` into the stored credentials (undefined fields are removed). @throws {KeychainError} */
export async function updateCredentials(keychain: Keychain, patch: { [K in keyof Credentials]?: Credentials[K] | undefined }): Promise<Credentials> {
  const current = await readCredentials(keychain);
  const merged: Record<string, unknown> = { ...current };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  const next = Credentials.parse(merged);
  await keychain.set(ACCOUNT, new TextEncoder().encode(JSON.stringify(next)));
  return next;
}

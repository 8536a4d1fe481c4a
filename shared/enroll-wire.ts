/**
 * One-time enrollment codes and the TOTP second factor on the wire (docs/api.md,
 * "Enrollment codes" and "TOTP"): what the key service takes and answers, the
 * code's human form and the sealpost://enroll link an admin hands to a user.
 * Shared by the key service, the engine and the CLI.
 *
 * A code is 20 characters of the RFC 4648 base32 alphabet (100 random bits),
 * shown as four groups of five: `K7QX2-MZP4D-...`. People mistype, so reading
 * one ignores case, spaces and hyphens and takes 0/1/8 for O/I/B (digits the
 * alphabet does not use).
 * @module
 */
import { z } from 'zod';
import { DevicePackageSchema } from './device-package.js';
import { AppId, UserId, Username } from './wire.js';

export const ENROLLMENT_CODE_LENGTH = 20;
export const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The 20 canonical characters of a code as typed, or null when it cannot be one. */
export function normalizeEnrollmentCode(raw: string): string | null {
  const s = raw
    .toUpperCase()
    .replace(/[\s-]+/g, '')
    .replace(/0/g, 'O')
    .replace(/1/g, 'I')
    .replace(/8/g, 'B');
  return s.length === ENROLLMENT_CODE_LENGTH && /^[A-Z2-7]+$/.test(s) ? s : null;
}

/** `ABCDEFGHIJKLMNOPQRST` -> `ABCDE-FGHIJ-KLMNO-PQRST`. */
export function formatEnrollmentCode(canonical: string): string {
  return canonical.match(/.{1,5}/g)!.join('-');
}

/** A typed TOTP code (6 digits, spaces allowed) or a recovery code (10 base32 characters, hyphen allowed). */
export const TotpCode = z
  .string()
  .max(32)
  .transform((s) => s.replace(/[\s-]+/g, '').toUpperCase())
  .pipe(z.string().regex(/^(\d{6}|[A-Z2-7]{10})$/, 'must be a 6-digit code from the authenticator app or a 10-character recovery code'));

export const EnrollBody = z.strictObject({
  appid: AppId,
  username: Username,
  code: z.string().min(1).max(64),
  devicePackage: DevicePackageSchema,
  /** The user's current TOTP code (or a recovery code) once the user has turned TOTP on. */
  totp: TotpCode.optional(),
});
export type EnrollBody = z.input<typeof EnrollBody>;

/** What registration with a code gives the device: its user and a first device JWT (then it publishes its delegation). */
export const EnrollResponse = z.object({ userid: UserId, jwt: z.string(), expiresAt: z.string() });

export const TotpStatusResponse = z.object({
  enabled: z.boolean(),
  /** A secret was made and awaits its first code. */
  pending: z.boolean(),
  confirmedAt: z.string().nullable(),
  recoveryCodesLeft: z.number().int(),
});
export const TotpSetupResponse = z.object({ secret: z.string(), uri: z.string(), period: z.number().int(), digits: z.number().int() });
export const TotpConfirmResponse = z.object({ enabled: z.literal(true), recoveryCodes: z.array(z.string()).length(10) });
export const TotpCodeBody = z.strictObject({ code: TotpCode });

/** The header a protected request carries the current TOTP code (or a recovery code) in. */
export const TOTP_HEADER = 'x-sealpost-totp';

// ---- sealpost://enroll links ----

export interface EnrollLink {
  server: string;
  appId: string;
  code: string;
  username?: string;
}

/** `sealpost://enroll?server=…&app=…&user=…&code=…` (values URL-encoded). */
export function enrollLink(l: EnrollLink): string {
  const q = new URLSearchParams({ server: l.server, app: l.appId, ...(l.username !== undefined && { user: l.username }), code: l.code });
  return `sealpost://enroll?${q.toString()}`;
}

export class EnrollLinkError extends Error {
  override name = 'EnrollLinkError';
}

/** Reads a sealpost://enroll link. @throws {EnrollLinkError} naming what is wrong */
export function parseEnrollLink(raw: string): EnrollLink {
  const m = /^sealpost:\/\/enroll\/?\?(.*)$/i.exec(raw.trim());
  if (!m) throw new EnrollLinkError('an enrollment link starts with sealpost://enroll?');
  const q = new URLSearchParams(m[1]);
  for (const key of q.keys()) if (!['server', 'app', 'user', 'code'].includes(key)) throw new EnrollLinkError(`the enrollment link has an unknown part "${key.slice(0, 20)}"`);
  const server = q.get('server');
  const appId = q.get('app');
  const code = q.get('code');
  const username = q.get('user');
  if (!server || !/^https?:\/\//i.test(server)) throw new EnrollLinkError('the enrollment link has no http(s) server');
  if (!appId || !AppId.safeParse(appId).success) throw new EnrollLinkError('the enrollment link has no valid app');
  if (!code || normalizeEnrollmentCode(code) === null) throw new EnrollLinkError('the enrollment link has no valid code');
  if (username !== null && !Username.safeParse(username).success) throw new EnrollLinkError('the enrollment link has an invalid user name');
  return { server, appId, code, ...(username !== null && { username }) };
}

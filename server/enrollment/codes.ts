/**
 * Issuing one-time enrollment codes (docs/deploy.md, docs/api.md "Enrollment
 * codes"): an admin gives each user a code instead of giving every desktop the
 * app's server key. The code is 100 random bits in base32 (shared/enroll-wire.ts);
 * only HMAC-SHA256(pepper, code) is stored, with the app, the user name and the
 * expiry it is bound to. Nothing here is reachable over HTTP.
 * @module
 */
import { randomInt } from 'node:crypto';
import { BASE32_ALPHABET, ENROLLMENT_CODE_LENGTH, enrollLink, formatEnrollmentCode } from '../../shared/enroll-wire.js';
import { Username } from '../../shared/wire.js';
import { AdminError, loadPepper } from '../admin.js';
import { keyedHash } from '../crypto/secrets.js';
import { usernameKey } from '../routes/users.js';
import { EnrollmentStore } from '../store/enrollment-store.js';
import type { Store } from '../store/types.js';

export const DEFAULT_ENROLL_TTL_MS = 7 * 24 * 3600_000;
export const MAX_ENROLL_TTL_MS = 90 * 24 * 3600_000;

export interface IssuedCode {
  username: string;
  /** As people type it: four groups of five. */
  code: string;
  link: string;
  expiresAt: string;
}

/** How a canonical code is stored and looked up. */
export const enrollmentCodeHash = (pepper: Buffer, canonical: string): string => keyedHash(pepper, `enroll\0${canonical}`);

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3600_000, d: 24 * 3600_000, w: 7 * 24 * 3600_000 };

/** "90m", "12h", "7d", "2w" (or plain seconds) as ms. @throws {AdminError} */
export function parseTtl(raw: string): number {
  const m = /^(\d{1,6})([smhdw]?)$/.exec(raw.trim());
  if (!m) throw new AdminError(`"${raw.slice(0, 20)}" is not a lifetime: use e.g. 90m, 12h, 7d or 2w`);
  const ms = Number(m[1]) * UNITS[m[2] || 's']!;
  if (ms < 60_000) throw new AdminError('an enrollment code must live at least a minute');
  if (ms > MAX_ENROLL_TTL_MS) throw new AdminError('an enrollment code may live at most 90 days');
  return ms;
}

/** A user name as registration takes it. @throws {AdminError} */
export function checkUsername(raw: string): string {
  const parsed = Username.safeParse(raw);
  if (!parsed.success) throw new AdminError(`"${raw.slice(0, 40)}" is not a valid user name (1 to 128 letters, digits and . _ @ + -)`);
  return parsed.data.normalize('NFC');
}

function newCode(): string {
  let s = '';
  for (let i = 0; i < ENROLLMENT_CODE_LENGTH; i++) s += BASE32_ALPHABET[randomInt(32)];
  return s;
}

export class EnrollmentIssuer {
  private readonly codes: EnrollmentStore;

  constructor(
    private readonly store: Store,
    private readonly pepper: Buffer,
    /** The key service's address as desktops reach it: goes into the links. */
    private readonly publicUrl: string,
  ) {
    this.codes = new EnrollmentStore(store);
  }

  static async open(store: Store, publicUrl: string): Promise<EnrollmentIssuer> {
    return new EnrollmentIssuer(store, await loadPepper(store), publicUrl);
  }

  /** @throws {AdminError} no such app, a revoked app */
  async checkApp(appId: string): Promise<void> {
    const app = await this.store.getApp(appId);
    if (!app) throw new AdminError(`no app ${appId}`);
    if (app.revokedAt !== null) throw new AdminError(`app ${appId} has been revoked`);
  }

  /** One code for (app, user name); the user need not exist yet (registering with the code creates it). @throws {AdminError} */
  async issue(input: { appId: string; username: string; ttlMs?: number; now?: number }): Promise<IssuedCode> {
    await this.checkApp(input.appId);
    const username = checkUsername(input.username);
    const now = input.now ?? Date.now();
    const expiresAt = now + (input.ttlMs ?? DEFAULT_ENROLL_TTL_MS);
    for (;;) {
      const canonical = newCode();
      const stored = await this.codes.insert({ codeHash: enrollmentCodeHash(this.pepper, canonical), appId: input.appId, username, usernameKey: usernameKey(username), createdAt: now, expiresAt });
      if (!stored) continue;
      const code = formatEnrollmentCode(canonical);
      return { username, code, link: enrollLink({ server: this.publicUrl, appId: input.appId, username, code }), expiresAt: new Date(expiresAt).toISOString() };
    }
  }
}

/**
 * The TOTP second factor of a user's account on the key service (RFC 6238:
 * SHA-1, 6 digits, 30 s; docs/security.md "TOTP").
 *
 * The key service makes the secret (so it is never chosen by a client), shows it
 * once with its otpauth:// URI, and turns the factor on when the user proves
 * with a first code that the authenticator app holds it; then it hands out ten
 * one-time recovery codes (stored as HMACs under the pepper).
 *
 * A code is accepted for the current step and one either side (clock drift),
 * and only once: the last used step is kept and a code for the same or an
 * older step is refused, so a code seen over a shoulder or in a log cannot be
 * replayed. Wrong codes count per user (5 lock the factor for 5 minutes, 429)
 * and per client address (the service's wrong-secret window limit).
 * @module
 */
import { randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { BASE32_ALPHABET } from '../../shared/enroll-wire.js';
import type { ServerContext } from '../context.js';
import { keyedHash } from '../crypto/secrets.js';
import { ApiError, conflict, forbidden, tooManyRequests } from '../http/errors.js';
import { TotpStore, type TotpFactorRow } from '../store/totp-store.js';
import { loadTotpKey, openTotpSecret, sealTotpSecret } from './secret-box.js';

export const TOTP_PERIOD = 30;
export const TOTP_DIGITS = 6;
export const TOTP_WINDOW = 1;
export const TOTP_FAILURE_LIMIT = 5;
export const TOTP_LOCK_MS = 5 * 60_000;
export const RECOVERY_CODE_COUNT = 10;

export interface TotpStatus {
  enabled: boolean;
  pending: boolean;
  confirmedAt: string | null;
  recoveryCodesLeft: number;
}

const totpRequired = () =>
  new ApiError(403, 'totp_required', 'this account has two-step verification on: send the current code from the authenticator app (or a recovery code)');
const totpInvalid = () => new ApiError(403, 'totp_invalid', 'the two-step verification code is wrong or was used already: wait for the next code and try again');

function randomBase32(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += BASE32_ALPHABET[randomInt(32)];
  return s;
}

const recoveryHash = (pepper: Buffer, code: string) => keyedHash(pepper, `totp-recovery\0${code}`);

export class TotpService {
  private readonly store: TotpStore;
  private key: Promise<Buffer> | null = null;

  constructor(private readonly ctx: ServerContext) {
    this.store = new TotpStore(ctx.store);
  }

  private totpKey(): Promise<Buffer> {
    this.key ??= loadTotpKey(this.ctx.store);
    return this.key;
  }

  private otp(secret: Uint8Array, label = 'sealpost', issuer = 'Sealpost'): TOTP {
    const buffer = secret.buffer.slice(secret.byteOffset, secret.byteOffset + secret.byteLength) as ArrayBuffer;
    return new TOTP({ issuer, label, algorithm: 'SHA1', digits: TOTP_DIGITS, period: TOTP_PERIOD, secret: new Secret({ buffer }) });
  }

  /** Whether the user has a confirmed factor (protected actions then need a code). */
  async enabled(appId: string, userId: string): Promise<boolean> {
    const row = await this.store.get(appId, userId);
    return row !== undefined && row.confirmedAt !== null;
  }

  async status(appId: string, userId: string): Promise<TotpStatus> {
    const row = await this.store.get(appId, userId);
    const enabled = row !== undefined && row.confirmedAt !== null;
    return {
      enabled,
      pending: row !== undefined && row.confirmedAt === null,
      confirmedAt: enabled ? new Date(row.confirmedAt!).toISOString() : null,
      recoveryCodesLeft: enabled ? await this.store.recoveryCodesLeft(appId, userId) : 0,
    };
  }

  /** A new secret awaiting its first code (replaces a pending one). @throws {ApiError} 409 when TOTP is on already */
  async setup(appId: string, userId: string, username: string, now = Date.now()): Promise<{ secret: string; uri: string; period: number; digits: number }> {
    const secret = new Secret({ size: 20 });
    const sealed = sealTotpSecret(await this.totpKey(), appId, userId, secret.bytes);
    if (!(await this.store.putPending(appId, userId, sealed, now))) throw conflict('two-step verification is on already: turn it off first to make a new secret', 'totp_enabled');
    const uri = this.otp(secret.bytes, `${username} (${appId})`).toString();
    return { secret: secret.base32, uri, period: TOTP_PERIOD, digits: TOTP_DIGITS };
  }

  /** Turns a pending factor on with its first code; returns the recovery codes (shown once). */
  async confirm(appId: string, userId: string, code: string, ip: string, now = Date.now()): Promise<string[]> {
    const row = await this.store.get(appId, userId);
    if (!row) throw conflict('there is no two-step verification setup to confirm: start one first', 'totp_not_pending');
    if (row.confirmedAt !== null) throw conflict('two-step verification is on already', 'totp_enabled');
    if (!/^\d{6}$/.test(code)) throw totpInvalid();
    await this.check(row, code, ip, now, false);
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => randomBase32(10));
    if (!(await this.store.confirm(appId, userId, now, codes.map((c) => recoveryHash(this.ctx.pepper, c))))) throw conflict('two-step verification is on already', 'totp_enabled');
    return codes.map((c) => `${c.slice(0, 5)}-${c.slice(5)}`);
  }

  /** Turns TOTP off; needs a current code or a recovery code. */
  async disable(appId: string, userId: string, code: string, ip: string, now = Date.now()): Promise<void> {
    const row = await this.store.get(appId, userId);
    if (!row) return;
    // A pending (never confirmed) setup protects nothing yet: dropping it needs no code.
    if (row.confirmedAt !== null) await this.check(row, code, ip, now, true);
    await this.store.remove(appId, userId);
  }

  /**
   * For a protected action of this user: nothing when TOTP is off; else the
   * code must be right and unused. @throws {ApiError} 403 totp_required /
   * totp_invalid, 429 when locked
   */
  async require(appId: string, userId: string, code: string | undefined, ip: string, now = Date.now()): Promise<void> {
    const row = await this.store.get(appId, userId);
    if (!row || row.confirmedAt === null) return;
    if (code === undefined || code === '') throw totpRequired();
    await this.check(row, code, ip, now, true);
  }

  private async check(row: TotpFactorRow, code: string, ip: string, now: number, allowRecovery: boolean): Promise<void> {
    if (row.lockedUntil > now) throw tooManyRequests(Math.ceil((row.lockedUntil - now) / 1000), 'too many wrong two-step verification codes: retry later');
    await this.ctx.rateLimiter.checkFailures(`totp-ip:${ip}`, now);
    if (await this.accepts(row, code, now, allowRecovery)) return;
    await this.ctx.rateLimiter.recordFailure(`totp-ip:${ip}`, now);
    const lockedUntil = await this.store.recordFailure(row.appId, row.userId, now, TOTP_FAILURE_LIMIT, TOTP_LOCK_MS);
    if (lockedUntil > 0) throw tooManyRequests(Math.ceil(TOTP_LOCK_MS / 1000), 'too many wrong two-step verification codes: retry later');
    throw totpInvalid();
  }

  private async accepts(row: TotpFactorRow, code: string, now: number, allowRecovery: boolean): Promise<boolean> {
    if (/^\d{6}$/.test(code)) {
      let secret: Uint8Array;
      try {
        secret = openTotpSecret(await this.totpKey(), row.appId, row.userId, row.sealedSecret);
      } catch {
        throw forbidden('the stored two-step verification secret cannot be opened (was SEALPOST_TOTP_KEY changed?): ask an admin', 'totp_unavailable');
      }
      const otp = this.otp(secret);
      const delta = otp.validate({ token: code, timestamp: now, window: TOTP_WINDOW });
      if (delta === null) return false;
      // Single use: only a step newer than every step used before.
      return this.store.useStep(row.appId, row.userId, otp.counter({ timestamp: now }) + delta);
    }
    if (allowRecovery && /^[A-Z2-7]{10}$/.test(code)) return this.store.useRecoveryCode(row.appId, row.userId, recoveryHash(this.ctx.pepper, code), now);
    return false;
  }
}

const services = new WeakMap<ServerContext, TotpService>();

/** The instance's TOTP service (one per server context). */
export function totpService(ctx: ServerContext): TotpService {
  let s = services.get(ctx);
  if (!s) {
    s = new TotpService(ctx);
    services.set(ctx, s);
  }
  return s;
}

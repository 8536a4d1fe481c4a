/**
 * Recovery shares (docs/api.md "Recovery", docs/security.md "Recovery").
 *
 * The same routes run on the key service and on the escrow service (another
 * instance of this server with its own database). Each instance keeps one
 * record per (app, username): its share of the backup key K, and on the key
 * service also the sealed full backup, the PIN-share parameters and the SHA-256
 * of two check values:
 *
 *   pinCheck   = SHA-256("sealpost/recovery/pin-check" || escrowShare xor pinShare)
 *   wordsCheck = SHA-256("sealpost/recovery/words-check" || K)
 *
 * A record with a check is gated: its share and backup are released only for a
 * correct check. Wrong checks are counted per user in the database (so on every
 * instance): five are free, then each locks the record for 1 min, 2 min, 4 min ...
 * up to 24 h; a correct check resets the count. The key service cannot test a
 * PIN guess with its own data (pinCheck needs the escrow share), and a client
 * that fetched the escrow share can test guesses only here, online and counted.
 *
 * A user who turned the TOTP second factor on (on the key service; the escrow
 * service knows no users) must send a current code in X-Sealpost-Totp to store
 * or replace a deposit and to have a share released. The release checks the
 * code before the proof, so someone without the code learns nothing about a PIN
 * or words guess and cannot spend the record's wrong-check allowance
 * (docs/security.md "TOTP", docs/recovery.md).
 *
 * Every call is audited by the onSend hook (recovery.deposit / .info / .release,
 * result ok, denied, locked...); shares, checks, codes and backups never are.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { canonicalJson } from '../../shared/canonical-json.js';
import { DepositBody, ReleaseBody, depositStatement, type DepositFields } from '../../shared/recovery-wire.js';
import { CommonQuery, Username } from '../../shared/wire.js';
import type { Caller } from '../auth/authenticate.js';
import type { ServerContext } from '../context.js';
import { ApiError, badRequest, forbidden, notFound, unauthorized } from '../http/errors.js';
import type { RecoveryRow } from '../store/types.js';
import { requireTotp } from '../totp/require.js';
import { usernameKey } from './users.js';

/** Wrong checks before the record starts locking. */
export const FREE_FAILURES = 5;
const LOCK_BASE_MS = 60_000;
const LOCK_MAX_MS = 24 * 60 * 60_000;
/** A deposit's signedAt must be this close to the server's clock (limits replaying an old deposit). */
const DEPOSIT_SKEW_MS = 10 * 60_000;
/** Releases per user and per device in a rate-limit window, right or wrong. */
export const RELEASES_PER_USER = 30;
export const RELEASES_PER_DEVICE = 10;

export const lockUntil = (failures: number, now: number): number =>
  failures < FREE_FAILURES ? 0 : now + Math.min(LOCK_MAX_MS, LOCK_BASE_MS * 2 ** Math.min(20, failures - FREE_FAILURES));

const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();
const UserParams = z.strictObject({ username: Username });

function appOf(caller: Caller): string {
  if (caller.kind !== 'device' && caller.kind !== 'client') throw unauthorized('authentication required');
  return caller.appId;
}

function checkSignature(appId: string, username: string, body: DepositBody): void {
  const { signature, ...fields } = body;
  const message = new TextEncoder().encode(canonicalJson(depositStatement(appId, username, fields as DepositFields)));
  let valid = false;
  try {
    valid = ed25519.verify(Buffer.from(signature, 'base64url'), message, Buffer.from(body.identityKey, 'base64url'));
  } catch {
    valid = false;
  }
  if (!valid) throw forbidden('the deposit is not signed by identityKey', 'bad_signature');
}

const same = (a: Buffer | null, b: Buffer): boolean => a !== null && a.length === b.length && timingSafeEqual(a, b);

export function recoveryRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.put(
    '/v1/recovery/:username',
    { config: { auth: 'device', audit: 'recovery.deposit' }, schema: { params: UserParams, body: DepositBody, querystring: z.strictObject(CommonQuery) } },
    async (request) => {
      const appId = appOf(request.caller);
      const username = (request.params as { username: string }).username;
      const body = request.body as DepositBody;
      const key = usernameKey(username.normalize('NFC'));
      request.auditTarget = `recovery:${key}`;
      const now = Date.now();
      const signedAt = Date.parse(body.signedAt);
      if (Math.abs(signedAt - now) > DEPOSIT_SKEW_MS) throw badRequest('signedAt is too far from the server clock', 'stale_deposit');
      checkSignature(appId, username, body);
      // The identity that owns the username, where this instance knows it (the key
      // service after registration); else the one that made the first deposit.
      const user = await ctx.store.userByName(appId, key);
      const existing = await ctx.store.getRecovery(appId, key);
      const owner = user?.signingKey ?? existing?.identityKey ?? null;
      if (owner !== null && owner !== body.identityKey) throw forbidden('this username belongs to another identity', 'identity_mismatch');
      if (existing && signedAt <= existing.updatedAt) throw badRequest('an equal or newer deposit is stored already', 'stale_deposit');
      if ((body.pinCheck === undefined) !== (body.pinParams === undefined)) throw badRequest('pinCheck and pinParams go together', 'invalid_deposit');
      // Checked last, on a deposit that is otherwise storable: only the identity's
      // holder reaches it, so nobody else can spend the user's wrong-code allowance.
      if (user) await requireTotp(ctx, request, appId, user.id);
      const row: RecoveryRow = {
        appId,
        usernameKey: key,
        identityKey: body.identityKey,
        share: Buffer.from(body.share, 'base64'),
        pinParams: body.pinParams ? JSON.stringify(body.pinParams) : null,
        backup: body.backup ? Buffer.from(body.backup, 'base64') : null,
        pinCheckHash: body.pinCheck ? sha256(Buffer.from(body.pinCheck, 'hex')) : null,
        wordsCheckHash: body.wordsCheck ? sha256(Buffer.from(body.wordsCheck, 'hex')) : null,
        escrow: body.escrow ? JSON.stringify(body.escrow) : null,
        failures: 0,
        lockedUntil: 0,
        updatedAt: signedAt,
      };
      await ctx.store.putRecovery(row);
      return { stored: true as const, gated: row.pinCheckHash !== null || row.wordsCheckHash !== null };
    },
  );

  app.get(
    '/v1/recovery/:username',
    { config: { auth: 'device', audit: 'recovery.info' }, schema: { params: UserParams, querystring: z.strictObject(CommonQuery) } },
    async (request) => {
      const appId = appOf(request.caller);
      const key = usernameKey((request.params as { username: string }).username.normalize('NFC'));
      request.auditTarget = `recovery:${key}`;
      const row = await ctx.store.getRecovery(appId, key);
      if (!row) throw notFound('no recovery record for this user', 'no_recovery');
      return {
        identityKey: row.identityKey,
        pinParams: row.pinParams === null ? null : (JSON.parse(row.pinParams) as unknown),
        escrow: row.escrow === null ? null : (JSON.parse(row.escrow) as unknown),
        gated: row.pinCheckHash !== null || row.wordsCheckHash !== null,
        hasBackup: row.backup !== null,
        updatedAt: new Date(row.updatedAt).toISOString(),
      };
    },
  );

  app.post(
    '/v1/recovery/:username/release',
    { config: { auth: 'device', audit: 'recovery.release' }, schema: { params: UserParams, body: ReleaseBody, querystring: z.strictObject(CommonQuery) } },
    async (request) => {
      const caller = request.caller;
      const appId = appOf(caller);
      const body = request.body as ReleaseBody;
      const key = usernameKey((request.params as { username: string }).username.normalize('NFC'));
      request.auditTarget = `recovery:${key}`;
      const deviceId = caller.kind === 'device' ? caller.deviceId : body.deviceId;
      if (ctx.rateLimiter.options) {
        await ctx.rateLimiter.hit([
          [`rec:u:${appId}:${key}`, RELEASES_PER_USER],
          [`rec:d:${appId}:${deviceId}`, RELEASES_PER_DEVICE],
        ]);
      }
      const row = await ctx.store.getRecovery(appId, key);
      if (!row) throw notFound('no recovery record for this user', 'no_recovery');
      const now = Date.now();
      if (row.lockedUntil > now) {
        throw new ApiError(429, 'recovery_locked', 'too many wrong recovery checks: wait before trying again', { retryAfter: Math.ceil((row.lockedUntil - now) / 1000), failures: row.failures }, { 'Retry-After': String(Math.ceil((row.lockedUntil - now) / 1000)) });
      }
      // The second factor before the proof: without the code, a guess is not even looked at.
      const user = await ctx.store.userByName(appId, key);
      if (user) await requireTotp(ctx, request, appId, user.id);
      const gated = row.pinCheckHash !== null || row.wordsCheckHash !== null;
      if (gated) {
        if (!body.proof) throw unauthorized('this share is released only with a pin or words check', 'proof_required');
        const presented = sha256(Buffer.from(body.proof.value, 'hex'));
        const good = body.proof.kind === 'pin' ? same(row.pinCheckHash, presented) : same(row.wordsCheckHash, presented);
        if (!good) {
          const failures = await ctx.store.recoveryFailed(appId, key, (n) => lockUntil(n, now));
          const left = Math.max(0, FREE_FAILURES - failures);
          throw new ApiError(403, 'wrong_check', `the ${body.proof.kind === 'pin' ? 'PIN' : 'recovery words'} did not match`, { failures, attemptsBeforeLock: left });
        }
        if (row.failures > 0) await ctx.store.recoverySucceeded(appId, key);
      }
      return { share: row.share.toString('base64'), backup: row.backup === null ? null : row.backup.toString('base64') };
    },
  );
}




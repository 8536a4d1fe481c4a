/**
 * POST /v1/enroll: a desktop registers with a one-time enrollment code instead
 * of the app's server key (docs/api.md "Enrollment codes"). Given the code, the
 * user name and app it was issued for and the signed device package, the key
 * service binds the device exactly as POST /v1/user/register does and answers
 * the user id and a first device JWT. With that JWT the desktop uploads its inbox
 * and publishes its device-key delegation; from then on it signs its own agent
 * tokens, so it never needs the server key (nor gen-jwt) at all.
 *
 * Guessing is limited three ways: per client address and per app (wrong codes
 * in the rate-limit window), and per (app, user name), where 5 wrong codes lock
 * that name for 15 minutes. A wrong, used, expired or other user's or app's
 * code all get the same answer, so the answer never tells whether a code exists.
 * The code is checked before anything is written and consumed by one
 * conditional update (of two registrations racing with one code, one wins); if
 * binding the device then fails the code is given back.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { EnrollBody, normalizeEnrollmentCode } from '../../shared/enroll-wire.js';
import { CommonQuery } from '../../shared/wire.js';
import { signDeviceJwt } from '../auth/jwt.js';
import type { ServerContext } from '../context.js';
import { DevicePackageError, checkDevicePackage } from '../crypto/device-package.js';
import { enrollmentCodeHash } from '../enrollment/codes.js';
import { ApiError, badRequest, conflict, forbidden, tooManyRequests } from '../http/errors.js';
import { EnrollmentStore } from '../store/enrollment-store.js';
import type { UserRow } from '../store/types.js';
import { totpService } from '../totp/totp-service.js';
import { addDevice, usernameKey } from './users.js';

export const ENROLL_FAILURE_LIMIT = 5;
export const ENROLL_LOCK_MS = 15 * 60_000;
/** Wrong codes per app per rate-limit window, as a multiple of the per-address limit. */
const APP_FAILURE_FACTOR = 10;

const invalidCode = () =>
  new ApiError(401, 'invalid_enrollment_code', 'this enrollment code is not valid for this app and user name (mistyped, used already or expired): ask your administrator for a new one');

/** 429 when `scope` has seen `limit` wrong codes in the current rate-limit window. */
async function checkWindow(ctx: ServerContext, scope: string, limit: number, now: number): Promise<void> {
  const o = ctx.rateLimiter.options;
  if (!o) return;
  const w = o.windowSeconds * 1000;
  const start = Math.floor(now / w) * w;
  if ((await ctx.store.getCounter(`fail:${scope}`, start)) >= limit) {
    throw tooManyRequests(Math.max(1, Math.ceil((start + w - now) / 1000)), 'too many wrong enrollment codes: retry later');
  }
}

export function enrollRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const codes = new EnrollmentStore(ctx.store);
  const totp = totpService(ctx);
  const limits = () => {
    const o = ctx.rateLimiter.options;
    return o ? { ip: o.secretFailures, app: o.secretFailures * APP_FAILURE_FACTOR } : null;
  };

  async function failed(request: FastifyRequest, appId: string, nameKey: string, now: number): Promise<never> {
    await ctx.rateLimiter.recordFailure(`enroll-ip:${request.ip}`, now);
    await ctx.rateLimiter.recordFailure(`enroll-app:${appId}`, now);
    const lockedUntil = await codes.recordFailure(appId, nameKey, now, ENROLL_FAILURE_LIMIT, ENROLL_LOCK_MS);
    if (lockedUntil > 0) throw tooManyRequests(Math.ceil(ENROLL_LOCK_MS / 1000), 'too many wrong enrollment codes for this user name: retry later');
    throw invalidCode();
  }

  app.post(
    '/v1/enroll',
    { config: { auth: 'body', audit: 'users.enroll' }, schema: { body: EnrollBody, querystring: z.strictObject(CommonQuery) } },
    async (request) => {
      const body = request.body as z.output<typeof EnrollBody>;
      const now = Date.now();
      const username = body.username.normalize('NFC');
      const nameKey = usernameKey(username);
      request.auditTarget = `username:${username}`;

      const l = limits();
      if (l) {
        await checkWindow(ctx, `enroll-ip:${request.ip}`, l.ip, now);
        await checkWindow(ctx, `enroll-app:${body.appid}`, l.app, now);
      }
      const lockedUntil = await codes.lockedUntil(body.appid, nameKey);
      if (lockedUntil > now) throw tooManyRequests(Math.ceil((lockedUntil - now) / 1000), 'too many wrong enrollment codes for this user name: retry later');

      const appRow = await ctx.store.getApp(body.appid);
      if (appRow && appRow.revokedAt !== null) throw forbidden('this app has been revoked', 'app_revoked');
      const canonical = normalizeEnrollmentCode(body.code);
      const codeHash = canonical === null ? null : enrollmentCodeHash(ctx.pepper, canonical);
      const row = codeHash === null ? undefined : await codes.get(codeHash);
      if (!appRow || !row || row.appId !== body.appid || row.usernameKey !== nameKey || row.usedAt !== null || row.expiresAt <= now) {
        return failed(request, body.appid, nameKey, now);
      }

      // Nothing is consumed for a package or identity that cannot be bound.
      try {
        checkDevicePackage(body.devicePackage);
      } catch (error) {
        if (error instanceof DevicePackageError) throw badRequest(`devicePackage: ${error.message}`, 'invalid_device_package');
        throw error;
      }
      const existing = await ctx.store.userByName(body.appid, nameKey);
      if (existing && existing.did !== null && existing.did !== body.devicePackage.did) throw conflict('this username is registered to a different identity', 'identity_mismatch');
      // Another device for a user with two-step verification on needs a current code too.
      if (existing) await totp.require(body.appid, existing.id, body.totp, request.ip, now);

      const deviceId = body.devicePackage.deviceId;
      const claim = `${deviceId}:${randomBytes(8).toString('hex')}`;
      if (!(await codes.consume(codeHash!, claim, now))) return failed(request, body.appid, nameKey, now);
      let user: UserRow;
      try {
        user = await ctx.store.insertUserIfAbsent(
          { id: `u_${randomBytes(12).toString('hex')}`, appId: body.appid, username: row.username, did: null, signingKey: null, createdAt: now },
          nameKey,
        );
        await addDevice(ctx, user, body.devicePackage);
      } catch (error) {
        await codes.release(codeHash!, claim).catch(() => undefined);
        throw error;
      }
      await codes.clearFailures(body.appid, nameKey);
      request.caller = { kind: 'device', appId: body.appid, deviceId, userId: user.id };
      request.auditTarget = `user:${user.id}`;
      const { jwt, exp } = signDeviceJwt({ appId: body.appid, deviceId, userId: user.id, ttlSeconds: ctx.options.jwtTtlSeconds }, ctx.jwtSecret);
      return { userid: user.id, jwt, expiresAt: new Date(exp * 1000).toISOString() };
    },
  );
}

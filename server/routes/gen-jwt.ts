/**
 * SenseCrypt-style device authorization: the app's own server calls
 * POST /v1/gen-jwt with its serverkey and the device id as instance_id (after
 * authenticating its user its own way) and hands the JWT to the device, which
 * then sends `Authorization: Bearer <jwt>`.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { CommonQuery, GenJwtBody } from '../../shared/wire.js';
import { signDeviceJwt } from '../auth/jwt.js';
import type { ServerContext } from '../context.js';
import { forbidden, notFound } from '../http/errors.js';
import { serverApp } from './users.js';

export function genJwtRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post(
    '/v1/gen-jwt',
    { config: { auth: 'body', audit: 'jwt.issue' }, schema: { body: GenJwtBody, querystring: z.strictObject(CommonQuery) } },
    async (request) => {
      const body = request.body as z.infer<typeof GenJwtBody>;
      const appRow = await serverApp(ctx, request, body);
      request.auditTarget = `device:${body.instance_id}`;
      const device = await ctx.store.deviceAuth(appRow.id, body.instance_id);
      if (!device) throw notFound('no device with this instance_id: register it first (POST /v1/user/register with its device package)', 'device_unregistered');
      if (device.revokedAt !== null) throw forbidden('this device has been revoked', 'device_revoked');
      const ttl = Math.min(body.expires_in ?? ctx.options.jwtTtlSeconds, ctx.options.jwtMaxTtlSeconds);
      const { jwt, exp } = signDeviceJwt({ appId: appRow.id, deviceId: body.instance_id, userId: device.userId, ttlSeconds: ttl }, ctx.jwtSecret);
      return { jwt, expiresAt: new Date(exp * 1000).toISOString() };
    },
  );
}

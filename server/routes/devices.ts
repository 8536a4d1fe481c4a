/**
 * A user's own devices: GET /v1/devices lists them for any signed-in device of
 * the user; POST /v1/devices/{deviceId}/revoke revokes one of them (issue 7:
 * "revoking a device from another device"). App admins revoke any device with
 * the admin CLI (server/cli.ts revoke-device). A revoked device's JWTs and agent
 * tokens are refused from the next request on, on every instance, because
 * authentication reads the device row each time (auth/authenticate.ts).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DeviceIdParam } from '../../shared/devices-wire.js';
import { CommonQuery } from '../../shared/wire.js';
import type { ServerContext } from '../context.js';
import { requireTotp } from '../totp/require.js';
import { notFound, unauthorized } from '../http/errors.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function deviceRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/v1/devices', { config: { auth: 'user', audit: 'devices.list' }, schema: { querystring: z.strictObject(CommonQuery) } }, async (request) => {
    const caller = request.caller;
    if (caller.kind !== 'device') throw unauthorized('authentication required');
    request.auditTarget = `user:${caller.userId}`;
    const [devices, delegations] = await Promise.all([
      ctx.store.devicesOfUser(caller.appId, caller.userId),
      ctx.store.delegationsOfUser(caller.appId, caller.userId),
    ]);
    const dids = new Map(delegations.map((g) => [g.deviceId, g.deviceDid]));
    return {
      devices: devices.map((d) => ({
        deviceId: d.deviceId,
        fingerprint: d.fingerprint,
        createdAt: new Date(d.createdAt).toISOString(),
        revokedAt: iso(d.revokedAt),
        deviceDid: dids.get(d.deviceId) ?? null,
        current: d.deviceId === caller.deviceId,
      })),
    };
  });

  app.post(
    '/v1/devices/:deviceId/revoke',
    { config: { auth: 'user', audit: 'devices.revoke' }, schema: { params: z.strictObject({ deviceId: DeviceIdParam }), querystring: z.strictObject(CommonQuery) } },
    async (request) => {
      const caller = request.caller;
      if (caller.kind !== 'device') throw unauthorized('authentication required');
      const deviceId = (request.params as { deviceId: string }).deviceId;
      request.auditTarget = `device:${deviceId}`;
      // Another user's device answers exactly like an unknown one: no probing for device ids.
      const device = (await ctx.store.devicesOfUser(caller.appId, caller.userId)).find((d) => d.deviceId === deviceId);
      if (!device) throw notFound('no such device of yours', 'unknown_device');
      // With two-step verification on, revoking needs a current code (X-Sealpost-Totp).
      await requireTotp(ctx, request, caller.appId, caller.userId);
      const now = Date.now();
      // Revoking twice is harmless: the answer names the first revocation's time.
      if (device.revokedAt === null) {
        await ctx.store.revokeDevice(caller.appId, deviceId, now);
        // The user's devices hear it; the revoked device's streams then close with 4403 on every instance.
        ctx.events.publish({ appId: caller.appId, users: [caller.userId] }, { type: 'device-revoked', deviceId });
      }
      return { deviceId, revokedAt: new Date(device.revokedAt ?? now).toISOString() };
    },
  );
}

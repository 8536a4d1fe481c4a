/**
 * A user's TOTP second factor (docs/api.md "TOTP"), managed from any of the
 * user's signed-in devices:
 *   GET  /v1/totp          status
 *   POST /v1/totp/setup    a new secret and its otpauth:// URI (shown once)
 *   POST /v1/totp/confirm  {code}: the first code turns it on; answers the ten recovery codes
 *   POST /v1/totp/disable  {code}: a current code or a recovery code turns it off
 * Once it is on, the protected actions (registering a device with an enrollment
 * code, revoking a device, approving a device link) need a code too.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { TotpCodeBody } from '../../shared/enroll-wire.js';
import { CommonQuery } from '../../shared/wire.js';
import type { Caller } from '../auth/authenticate.js';
import type { ServerContext } from '../context.js';
import { notFound, unauthorized } from '../http/errors.js';
import { totpService } from '../totp/totp-service.js';

const query = z.strictObject(CommonQuery);

function device(request: FastifyRequest): Extract<Caller, { kind: 'device' }> {
  const caller = request.caller;
  if (caller.kind !== 'device') throw unauthorized('authentication required');
  request.auditTarget = `user:${caller.userId}`;
  return caller;
}

export function totpRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const totp = totpService(ctx);

  app.get('/v1/totp', { config: { auth: 'user', audit: 'totp.status' }, schema: { querystring: query } }, async (request) => {
    const caller = device(request);
    return totp.status(caller.appId, caller.userId);
  });

  app.post('/v1/totp/setup', { config: { auth: 'user', audit: 'totp.setup' }, schema: { querystring: query } }, async (request) => {
    const caller = device(request);
    const user = await ctx.store.userById(caller.appId, caller.userId);
    if (!user) throw notFound('no such user in this app', 'unknown_user');
    return totp.setup(caller.appId, caller.userId, user.username);
  });

  app.post('/v1/totp/confirm', { config: { auth: 'user', audit: 'totp.confirm' }, schema: { body: TotpCodeBody, querystring: query } }, async (request) => {
    const caller = device(request);
    const { code } = request.body as z.output<typeof TotpCodeBody>;
    return { enabled: true as const, recoveryCodes: await totp.confirm(caller.appId, caller.userId, code, request.ip) };
  });

  app.post('/v1/totp/disable', { config: { auth: 'user', audit: 'totp.disable' }, schema: { body: TotpCodeBody, querystring: query } }, async (request) => {
    const caller = device(request);
    const { code } = request.body as z.output<typeof TotpCodeBody>;
    await totp.disable(caller.appId, caller.userId, code, request.ip);
    return { enabled: false as const };
  });
}

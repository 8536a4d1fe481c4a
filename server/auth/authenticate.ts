/**
 * Who is calling. Three credentials, all in headers:
 *
 *   Authorization: Bearer <agent token>  a device with a published delegation
 *                                (EdDSA, signed by its device key; see deviceFromAgentToken)
 *   Authorization: Bearer <jwt>  a registered device (app, device and user from
 *                                the token; the device must still be registered
 *                                and not revoked — checked in the database on
 *                                every request, so revocation is immediate on
 *                                every instance)
 *   X-Client-Key: <clientKey>    the app's development key: the app, no user
 *   X-Server-Key: <serverKey>    the app's own server (server-to-server, admin)
 *   X-Connected-App-Key: <secret> a connected app's back end: the directory only
 *                                (lookup), for checking a sign-in's signature
 *
 * Route config `auth` says which are accepted. A client key never names a
 * user: routes that act for a user (items, grants, one's own audit log) need a
 * device JWT. API keys are looked up by HMAC under the server pepper (they are
 * 256-bit random), so authentication costs one indexed read, never scrypt.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';
import { isAgentToken, verifyAgentTokenSignature } from '../crypto/delegation.js';
import { keyedHash } from '../crypto/secrets.js';
import { connectedAppForSecret, connectedAppHeader } from '../connected/credential.js';
import { badRequest, forbidden, unauthorized } from '../http/errors.js';
import type { AppRow } from '../store/types.js';

import type { AuthMode, Caller } from './caller.js';

export type { AuthMode, Caller };


const ACCEPTS: Record<AuthMode, { jwt: boolean; client: boolean; server: boolean }> = {
  none: { jwt: false, client: false, server: false },
  body: { jwt: false, client: false, server: false },
  device: { jwt: true, client: true, server: false },
  user: { jwt: true, client: false, server: false },
  lookup: { jwt: true, client: true, server: true },
  audit: { jwt: true, client: false, server: true },
  server: { jwt: false, client: false, server: true },
};

const WHAT: Record<AuthMode, string> = {
  none: '',
  body: '',
  device: 'send Authorization: Bearer <device JWT> or X-Client-Key',
  user: 'send Authorization: Bearer <device JWT> (a client key does not name a user)',
  lookup: 'send Authorization: Bearer <device JWT>, X-Client-Key, X-Server-Key or X-Connected-App-Key',
  audit: 'send Authorization: Bearer <device JWT> (your entries) or X-Server-Key (the app\'s)',
  server: 'send X-Server-Key',
};

/** One header value; a repeated header is a 400. */
export function singleHeader(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  if (Array.isArray(value)) throw badRequest(`send the ${name} header once`, 'bad_header');
  return value === undefined || value === '' ? undefined : value;
}

function checkApp(app: AppRow | undefined, what: string): AppRow {
  if (!app) throw unauthorized(`${what} is not valid`, `invalid_${what.replace(/ /g, '_')}`);
  if (app.revokedAt !== null) throw forbidden('this app has been revoked', 'app_revoked');
  return app;
}

export async function appForServerKey(ctx: ServerContext, serverKey: string): Promise<AppRow> {
  return checkApp(await ctx.store.appByServerKeyHash(keyedHash(ctx.pepper, serverKey)), 'server key');
}

async function deviceFromJwt(ctx: ServerContext, token: string): Promise<Caller> {
  const verified = ctx.jwtVerifier.verify(token);
  if (!verified.ok) {
    if (verified.reason === 'expired') throw unauthorized('the device token has expired: get a new one from gen-jwt', 'token_expired');
    throw unauthorized('the device token is not valid', 'invalid_token');
  }
  const { aud: appId, sub: deviceId, uid: userId } = verified.claims;
  const device = await ctx.store.deviceAuth(appId, deviceId);
  if (!device || device.userId !== userId) throw unauthorized('the device token names no registered device', 'invalid_token');
  if (device.appRevokedAt !== null) throw forbidden('this app has been revoked', 'app_revoked');
  if (device.revokedAt !== null) throw forbidden('this device has been revoked', 'device_revoked');
  return { kind: 'device', appId, deviceId, userId };
}

/**
 * An agent token (IOTICS, shared/delegation.ts): signed by a device key whose
 * delegation the device published; aud = the app; each jti accepted once
 * (kept in the database until the token expires, so every instance agrees).
 */
async function deviceFromAgentToken(ctx: ServerContext, token: string): Promise<Caller> {
  const now = Date.now();
  const verified = verifyAgentTokenSignature(token, now);
  if (!verified.ok) {
    if (verified.reason === 'expired') throw unauthorized('the agent token has expired: sign a new one', 'token_expired');
    throw unauthorized('the agent token is not valid', 'invalid_token');
  }
  const { iss, sub, aud: appId, jti, exp } = verified.claims;
  const device = await ctx.store.agentAuth(appId, iss);
  if (!device) throw unauthorized('the agent token names no delegated device of this app', 'invalid_token');
  const delegation = JSON.parse(device.delegationJson) as { did?: unknown; deviceDid?: unknown };
  if (device.did === null || device.did !== sub || delegation.did !== sub || delegation.deviceDid !== iss) {
    throw unauthorized('the agent token does not match its delegation', 'invalid_token');
  }
  if (device.appRevokedAt !== null) throw forbidden('this app has been revoked', 'app_revoked');
  if (device.revokedAt !== null) throw forbidden('this device has been revoked', 'device_revoked');
  if (!(await ctx.store.useAgentTokenId(appId, jti, exp * 1000, now))) throw unauthorized('this agent token was already used', 'token_replayed');
  return { kind: 'device', appId, deviceId: device.deviceId, userId: device.userId };
}

/** Resolves the caller from headers for a route's auth mode. @throws {ApiError} 400/401/403 */
export async function authenticate(ctx: ServerContext, request: FastifyRequest, mode: AuthMode): Promise<Caller> {
  const accepts = ACCEPTS[mode];
  const authorization = singleHeader(request, 'authorization');
  const clientKey = singleHeader(request, 'x-client-key');
  const serverKey = singleHeader(request, 'x-server-key');

  if (accepts.jwt && authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw unauthorized('Authorization must be "Bearer <device JWT>"', 'invalid_token');
    return isAgentToken(match[1]!) ? deviceFromAgentToken(ctx, match[1]!) : deviceFromJwt(ctx, match[1]!);
  }
  if (accepts.server && serverKey !== undefined) {
    const app = await appForServerKey(ctx, serverKey);
    return { kind: 'server', appId: app.id };
  }
  // A connected app reads its organisation's directory (lookup), like a client key.
  const connectedKey = mode === 'lookup' ? connectedAppHeader(request) : undefined;
  if (connectedKey !== undefined) return { kind: 'client', appId: (await connectedAppForSecret(ctx, connectedKey)).appId };
  if (accepts.client && clientKey !== undefined) {
    const app = checkApp(await ctx.store.appByClientKeyHash(keyedHash(ctx.pepper, clientKey)), 'client key');
    return { kind: 'client', appId: app.id };
  }
  if (authorization !== undefined || clientKey !== undefined || serverKey !== undefined) {
    throw unauthorized(`this route does not accept that credential: ${WHAT[mode]}`, 'wrong_credential');
  }
  throw unauthorized(`authentication required: ${WHAT[mode]}`);
}

/** Rate-limit counter keys for a caller (besides the per-IP one). */
function callerLimitKey(caller: Caller, ip: string): string | null {
  switch (caller.kind) {
    case 'device':
      return `dev:${caller.appId}:${caller.deviceId}`;
    case 'client':
      return `ck:${caller.appId}:${ip}`;
    case 'server':
      return `sk:${caller.appId}`;
    default:
      return null;
  }
}

/**
 * onRequest: authenticate from headers (before any body is read), then count
 * the request against the IP's and the caller's rate limits — also when
 * authentication failed, so guessing costs quota — then refuse if needed.
 */
export function registerAuth(app: FastifyInstance, ctx: ServerContext): void {
  app.decorateRequest('caller', null as never);
  app.addHook('onRequest', async (request) => {
    request.caller = { kind: 'none' };
    const mode = request.routeOptions.config.auth;
    let failure: unknown = null;
    if (mode && mode !== 'none' && mode !== 'body') {
      try {
        request.caller = await authenticate(ctx, request, mode);
      } catch (error) {
        failure = error;
      }
    }
    const limits = ctx.rateLimiter.options;
    if (limits && mode !== 'none') {
      const keys: Array<[string, number]> = [[`ip:${request.ip}`, limits.perIp]];
      const callerKey = callerLimitKey(request.caller, request.ip);
      if (callerKey) keys.push([callerKey, limits.perDevice]);
      await ctx.rateLimiter.hit(keys);
    }
    if (failure) throw failure;
  });
}

/** For routes that authenticate in the handler (body credentials): count the app's server-key limit too. */
export async function limitServerCaller(ctx: ServerContext, appId: string): Promise<void> {
  const limits = ctx.rateLimiter.options;
  if (limits) await ctx.rateLimiter.hit([[`sk:${appId}`, limits.perDevice]]);
}

/**
 * The connected application's credential: its secret in X-Connected-App-Key,
 * looked up by HMAC under the server pepper (one indexed read). A removed
 * application, or one whose organisation's app was revoked, is refused.
 * Imports nothing from the auth module, which uses it for directory lookups.
 * @module
 */
import type { FastifyRequest } from 'fastify';
import { CONNECTED_APP_HEADER } from '../../shared/connected-wire.js';
import type { ServerContext } from '../context.js';
import { keyedHash } from '../crypto/secrets.js';
import { badRequest, forbidden, unauthorized } from '../http/errors.js';
import { ConnectedStore, type ConnectedAppRow } from './store.js';

/** The application a secret names. @throws {ApiError} 401 invalid_connected_app_key, 403 connected_app_removed / app_revoked */
export async function connectedAppForSecret(ctx: ServerContext, secret: string): Promise<ConnectedAppRow> {
  const row = await new ConnectedStore(ctx.store).appBySecretHash(keyedHash(ctx.pepper, secret));
  if (!row) throw unauthorized('the connected-app key is not valid', 'invalid_connected_app_key');
  if (row.removedAt !== null) throw forbidden('this connected app was removed by an admin', 'connected_app_removed');
  const app = await ctx.store.getApp(row.appId);
  if (!app || app.revokedAt !== null) throw forbidden('this app has been revoked', 'app_revoked');
  return row;
}

/** The header's value, once; undefined when absent. @throws {ApiError} 400 when repeated */
export function connectedAppHeader(request: FastifyRequest): string | undefined {
  const value = request.headers[CONNECTED_APP_HEADER];
  if (Array.isArray(value)) throw badRequest(`send the ${CONNECTED_APP_HEADER} header once`, 'bad_header');
  return value === undefined || value === '' ? undefined : value;
}

/** Authenticates the calling application from the header. @throws {ApiError} 401 without it */
export async function connectedCaller(ctx: ServerContext, request: FastifyRequest): Promise<ConnectedAppRow> {
  const secret = connectedAppHeader(request);
  if (secret === undefined) throw unauthorized(`authentication required: send X-Connected-App-Key with the connected app's secret`);
  const row = await connectedAppForSecret(ctx, secret);
  request.caller = { kind: 'server', appId: row.appId };
  return row;
}

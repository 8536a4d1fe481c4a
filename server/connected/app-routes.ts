/**
 * Routes for a connected application's back end (docs/api.md "Connected apps"),
 * authenticated with its secret in X-Connected-App-Key, server to server:
 *   POST /v1/connected/requests       {username, reason, publicKey?, expiresIn?}: ask for the user's personal key
 *   POST /v1/connected/sign-in        {username?, returnTo, reason?, publicKey?, expiresIn?}: ask for a sign-in
 *                                     (with the key too when the app's mode is login or always)
 *   GET  /v1/connected/requests/{id}  pending | approved | denied | expired; the result once
 * A request lives 2 minutes (or expiresIn seconds, 30 to 600), is decided once, and its result is handed out
 * once. Requests are rate-limited per application and per user. The user's
 * devices hear of a new request on the push stream ({type:'approval'}).
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApprovalId, CreateKeyRequestBody, CreateSignInBody, USER_CODE_ALPHABET, type ApprovalKind, type RequestStateResponse } from '../../shared/connected-wire.js';
import { CommonQuery } from '../../shared/wire.js';
import { AdminError } from '../admin.js';
import type { ServerContext } from '../context.js';
import { ApiError, badRequest, conflict, forbidden, notFound } from '../http/errors.js';
import { usernameKey } from '../routes/users.js';
import { publishApproval } from '../stream/publish.js';
import { checkTransitKey } from './admin.js';
import { connectedCaller } from './credential.js';
import { ConnectedStore, type ApprovalRow, type ConnectedAppRow } from './store.js';
import { stateOf } from './view.js';

/** How long a request waits for the user's decision unless it says (expiresIn, 30 to 600 s). */
export const REQUEST_TTL_MS = 2 * 60_000;
/** Requests per rate-limit window: per application, and per user across applications. */
export const REQUESTS_PER_APP = 600;
export const REQUESTS_PER_USER = 20;

const query = z.strictObject(CommonQuery);
const IdParams = z.strictObject({ id: ApprovalId });

function userCode(): string {
  const bytes = randomBytes(8);
  return [...bytes].map((b) => USER_CODE_ALPHABET[b % 32]).join('');
}

function transitKeyOf(app: ConnectedAppRow, given: string | undefined, needed: boolean): string | null {
  if (!needed) return null;
  const pem = given ?? app.publicKey;
  if (pem === null) throw badRequest('this app has no transit key: send publicKey (a PEM RSA public key) with the request', 'transit_key_required');
  try {
    return checkTransitKey(pem, 'publicKey');
  } catch (error) {
    if (error instanceof AdminError) throw badRequest(error.message, 'invalid_public_key');
    throw error;
  }
}

export function connectedAppRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const store = new ConnectedStore(ctx.store);

  async function limit(ca: ConnectedAppRow, userId: string | null): Promise<void> {
    if (!ctx.rateLimiter.options) return;
    await ctx.rateLimiter.hit([[`ca:app:${ca.id}`, REQUESTS_PER_APP], ...(userId ? [[`ca:user:${ca.appId}:${userId}`, REQUESTS_PER_USER] as [string, number]] : [])]);
  }

  async function create(ca: ConnectedAppRow, kind: ApprovalKind, input: { username: string | null; reason: string | null; returnTo: string | null; publicKey?: string | undefined; expiresIn?: number | undefined }, ip: string) {
    let userId: string | null = null;
    if (input.username !== null) {
      const user = await ctx.store.userByName(ca.appId, usernameKey(input.username.normalize('NFC')));
      // Only a user with a registered identity has a device that could decide.
      if (!user || user.did === null) throw notFound("no such user in this application's organisation (or the user has no device yet)", 'unknown_user');
      userId = user.id;
    }
    await limit(ca, userId);
    const transitKey = transitKeyOf(ca, input.publicKey, kind !== 'sign-in');
    const now = Date.now();
    for (let attempt = 0; attempt < 5; attempt++) {
      const row: ApprovalRow = {
        id: randomBytes(16).toString('hex'),
        appId: ca.appId,
        connectedAppId: ca.id,
        kind,
        userId,
        userCode: userId === null ? userCode() : null,
        reason: input.reason,
        returnTo: input.returnTo,
        transitKey,
        nonce: randomBytes(16).toString('base64url'),
        ip,
        createdAt: now,
        expiresAt: now + (input.expiresIn !== undefined ? input.expiresIn * 1000 : REQUEST_TTL_MS),
        state: 'pending',
        decidedAt: null,
        decidedBy: null,
        result: null,
        collectedAt: null,
      };
      if (await store.insertRequest(row)) {
        if (userId) publishApproval(ctx.events, row.appId, userId, row.id);
        return { id: row.id, kind, state: 'pending' as const, nonce: row.nonce, expiresAt: new Date(row.expiresAt).toISOString(), userCode: row.userCode && `${row.userCode.slice(0, 4)}-${row.userCode.slice(4)}` };
      }
    }
    throw conflict('no free request id right now: try again', 'request_ids_exhausted');
  }

  app.post('/v1/connected/requests', { config: { auth: 'body', audit: 'connected.key-request' }, schema: { body: CreateKeyRequestBody, querystring: query } }, async (request) => {
    const ca = await connectedCaller(ctx, request);
    request.auditTarget = `connected-app:${ca.id}`;
    if (ca.mode === 'login') throw forbidden('this app receives keys only with a sign-in (mode login): ask an admin for mode api or always', 'mode_not_allowed');
    const body = request.body as z.output<typeof CreateKeyRequestBody>;
    const created = await create(ca, 'key', { username: body.username, reason: body.reason, returnTo: null, publicKey: body.publicKey, expiresIn: body.expiresIn }, request.ip);
    request.auditTarget = `connected-app:${ca.id}/request:${created.id}`;
    return created;
  });

  app.post('/v1/connected/sign-in', { config: { auth: 'body', audit: 'connected.sign-in' }, schema: { body: CreateSignInBody, querystring: query } }, async (request) => {
    const ca = await connectedCaller(ctx, request);
    request.auditTarget = `connected-app:${ca.id}`;
    const body = request.body as z.output<typeof CreateSignInBody>;
    const kind: ApprovalKind = ca.mode === 'api' ? 'sign-in' : 'sign-in+key';
    const created = await create(ca, kind, { username: body.username ?? null, reason: body.reason ?? null, returnTo: body.returnTo, publicKey: body.publicKey, expiresIn: body.expiresIn }, request.ip);
    request.auditTarget = `connected-app:${ca.id}/request:${created.id}`;
    return created;
  });

  app.get('/v1/connected/requests/:id', { config: { auth: 'body', audit: 'connected.read' }, schema: { params: IdParams, querystring: query } }, async (request): Promise<RequestStateResponse> => {
    const ca = await connectedCaller(ctx, request);
    const id = (request.params as { id: string }).id;
    request.auditTarget = `connected-app:${ca.id}/request:${id}`;
    const row = await store.request(ca.appId, id);
    // Another application's request is as unknown as a made-up id.
    if (!row || row.connectedAppId !== ca.id) throw notFound('no such request for this app', 'unknown_request');
    const now = Date.now();
    const state = stateOf(row, now);
    // Polled while pending: only reads that see a decision are written to the log.
    request.auditQuietSuccess = state === 'pending';
    let result = null;
    if (state === 'approved') {
      if (!(await store.collect(ca.appId, id, now))) throw new ApiError(410, 'request_used', "this request's result was handed out already: a request is used once, make a new one");
      result = JSON.parse(row.result!) as RequestStateResponse['result'];
    }
    return {
      id,
      kind: row.kind,
      state,
      createdAt: new Date(row.createdAt).toISOString(),
      expiresAt: new Date(row.expiresAt).toISOString(),
      decidedAt: row.decidedAt === null ? null : new Date(row.decidedAt).toISOString(),
      result,
    };
  });
}

/**
 * Routes for the user's devices (a device JWT or agent token of the user the
 * request is for; docs/api.md "Connected apps"):
 *   GET  /v1/approvals               the user's pending requests
 *   POST /v1/approvals/claim         {code}: a sign-in that named nobody, claimed with the code
 *                                    the application showed (it becomes this user's)
 *   POST /v1/approvals/{id}/approve  {signature, time, sealedKey}: checked (approval-check.ts), once
 *   POST /v1/approvals/{id}/deny     once
 * Another user's request answers 404 like a made-up id. A revoked device is
 * refused before any of this (403 device_revoked).
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ApprovalId, ApproveBody, ClaimBody, type RequestResult } from '../../shared/connected-wire.js';
import { CommonQuery } from '../../shared/wire.js';
import type { Caller } from '../auth/authenticate.js';
import type { ServerContext } from '../context.js';
import { ApiError, conflict, forbidden, notFound, unauthorized } from '../http/errors.js';
import { publishApproval } from '../stream/publish.js';
import { checkApproval } from './approval-check.js';
import { ConnectedStore, type ApprovalRow, type ConnectedAppRow } from './store.js';
import { pendingView, stateOf } from './view.js';

/** Code claims per user and per device in a rate-limit window, right or wrong. */
export const CLAIMS_PER_USER = 20;
export const CLAIMS_PER_DEVICE = 10;

const query = z.strictObject(CommonQuery);
const IdParams = z.strictObject({ id: ApprovalId });
type DeviceCaller = Extract<Caller, { kind: 'device' }>;

function device(request: FastifyRequest): DeviceCaller {
  const caller = request.caller;
  if (caller.kind !== 'device') throw unauthorized('authentication required');
  return caller;
}

const UNKNOWN = 'no such request for you: it was made for another user, or never existed';

export function approvalRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const store = new ConnectedStore(ctx.store);

  /** The caller's request and its application, still open for a decision. @throws {ApiError} 404, 409, 410, 403 */
  async function open(request: FastifyRequest, caller: DeviceCaller): Promise<{ row: ApprovalRow; ca: ConnectedAppRow }> {
    const id = (request.params as { id: string }).id;
    request.auditTarget = `approval:${id}`;
    const row = await store.request(caller.appId, id);
    if (!row || row.userId !== caller.userId) throw notFound(UNKNOWN, 'unknown_request');
    const ca = await store.app(row.connectedAppId);
    if (!ca) throw notFound(UNKNOWN, 'unknown_request');
    request.auditTarget = `approval:${id}/connected-app:${ca.id}`;
    const state = stateOf(row, Date.now());
    if (state === 'expired') throw new ApiError(410, 'request_expired', 'this request expired before a decision: the application must ask again');
    if (state !== 'pending') throw conflict(`this request was ${state} already: a request is decided once`, 'request_decided', { state });
    if (ca.removedAt !== null) throw forbidden('this connected app was removed by an admin', 'connected_app_removed');
    return { row, ca };
  }

  /** After a lost race: why the conditional update did not apply. */
  async function lost(row: ApprovalRow): Promise<never> {
    const again = await store.request(row.appId, row.id);
    const state = again ? stateOf(again, Date.now()) : 'expired';
    if (state === 'expired') throw new ApiError(410, 'request_expired', 'this request expired before a decision: the application must ask again');
    throw conflict(`this request was ${state} already: a request is decided once`, 'request_decided', { state });
  }

  app.get('/v1/approvals', { config: { auth: 'user', audit: 'approvals.list' }, schema: { querystring: query } }, async (request) => {
    const caller = device(request);
    request.auditTarget = `user:${caller.userId}`;
    // Read on every sync and every approval event: not written to the log unless refused.
    request.auditQuietSuccess = true;
    const rows = await store.pendingFor(caller.appId, caller.userId, Date.now());
    const apps = new Map<string, ConnectedAppRow | undefined>();
    const requests = [];
    for (const row of rows) {
      if (!apps.has(row.connectedAppId)) apps.set(row.connectedAppId, await store.app(row.connectedAppId));
      const ca = apps.get(row.connectedAppId);
      if (ca && ca.removedAt === null) requests.push(pendingView(row, ca));
    }
    return { requests };
  });

  app.post('/v1/approvals/claim', { config: { auth: 'user', audit: 'approvals.claim' }, schema: { body: ClaimBody, querystring: query } }, async (request) => {
    const caller = device(request);
    if (ctx.rateLimiter.options) {
      await ctx.rateLimiter.hit([
        [`approval-claim:u:${caller.appId}:${caller.userId}`, CLAIMS_PER_USER],
        [`approval-claim:d:${caller.appId}:${caller.deviceId}`, CLAIMS_PER_DEVICE],
      ]);
    }
    const code = (request.body as z.output<typeof ClaimBody>).code;
    const now = Date.now();
    const row = await store.byUserCode(caller.appId, code, now);
    if (!row || !(await store.claim(caller.appId, row.id, caller.userId, now))) {
      throw notFound('no sign-in waits with this code: check it on the application\'s page (it is valid for 2 minutes)', 'unknown_code');
    }
    request.auditTarget = `approval:${row.id}`;
    const ca = await store.app(row.connectedAppId);
    if (!ca || ca.removedAt !== null) throw notFound('no sign-in waits with this code', 'unknown_code');
    publishApproval(ctx.events, caller.appId, caller.userId, row.id);
    return pendingView({ ...row, userId: caller.userId }, ca);
  });

  app.post('/v1/approvals/:id/approve', { config: { auth: 'user', audit: 'approvals.approve' }, schema: { params: IdParams, body: ApproveBody, querystring: query } }, async (request) => {
    const caller = device(request);
    const { row } = await open(request, caller);
    const user = await ctx.store.userById(caller.appId, caller.userId);
    if (!user) throw notFound(UNKNOWN, 'unknown_request');
    const body = request.body as z.output<typeof ApproveBody>;
    const now = Date.now();
    const challenge = checkApproval(row, user, body, now);
    const result: RequestResult = { userId: user.id, username: user.username, did: user.did!, challenge, signature: body.signature, sealedKey: body.sealedKey };
    if (!(await store.decide(caller.appId, row.id, caller.userId, 'approved', caller.deviceId, JSON.stringify(result), now))) await lost(row);
    publishApproval(ctx.events, caller.appId, caller.userId, row.id);
    return { id: row.id, state: 'approved' as const };
  });

  app.post('/v1/approvals/:id/deny', { config: { auth: 'user', audit: 'approvals.deny' }, schema: { params: IdParams, querystring: query } }, async (request) => {
    const caller = device(request);
    const { row } = await open(request, caller);
    if (!(await store.decide(caller.appId, row.id, caller.userId, 'denied', caller.deviceId, null, Date.now()))) await lost(row);
    publishApproval(ctx.events, caller.appId, caller.userId, row.id);
    return { id: row.id, state: 'denied' as const };
  });
}

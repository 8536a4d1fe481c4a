/**
 * GET /v1/audit: a device JWT reads its user's entries; the app's server key
 * reads the whole app's. `?identifier=` reads the entries about one item (the
 * item's owner, or the server key). GET /v1/audit/verify (server key) recomputes the
 * app's hash chain.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AuditQuery, CommonQuery } from '../../shared/wire.js';
import type { ServerContext } from '../context.js';
import { notFound, unauthorized } from '../http/errors.js';
import type { AuditRow } from '../store/types.js';

export const auditOut = (r: AuditRow) => ({
  seq: r.seq,
  ts: new Date(r.ts).toISOString(),
  appId: r.chain,
  userId: r.userId,
  deviceId: r.deviceId,
  actor: r.actor,
  action: r.action,
  target: r.target,
  result: r.result,
  status: r.status,
  ip: r.ip,
  hash: r.hash.toString('hex'),
});

export function auditRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/v1/audit', { config: { auth: 'audit', audit: 'audit.read' }, schema: { querystring: AuditQuery } }, async (request) => {
    const caller = request.caller;
    if (caller.kind !== 'device' && caller.kind !== 'server') throw unauthorized('authentication required');
    const q = request.query as z.infer<typeof AuditQuery>;
    const limit = q.limit ?? 100;
    let rows: AuditRow[];
    if (q.identifier !== undefined) {
      // The owner reads what anyone did with their item (grantees' opens, refused
      // attempts); grantees and strangers get the same 404 as for the item itself.
      request.auditTarget = `item:${q.identifier}`;
      if (caller.kind === 'device') {
        const item = await ctx.store.getItem(caller.appId, q.identifier);
        if (!item || item.ownerId !== caller.userId) throw notFound('no such item of yours', 'unknown_item');
      }
      rows = await ctx.store.listAuditByTarget(caller.appId, `item:${q.identifier}`, q.after ?? 0, limit + 1);
    } else {
      request.auditTarget = caller.kind === 'device' ? `user:${caller.userId}` : `app:${caller.appId}`;
      rows = await ctx.store.listAudit(caller.appId, caller.kind === 'device' ? caller.userId : null, q.after ?? 0, limit + 1);
    }
    const page = rows.slice(0, limit);
    return { entries: page.map(auditOut), cursor: page.length ? page[page.length - 1]!.seq : (q.after ?? 0), hasMore: rows.length > limit };
  });

  app.get('/v1/audit/verify', { config: { auth: 'server', audit: 'audit.verify' }, schema: { querystring: z.strictObject(CommonQuery) } }, async (request) => {
    const caller = request.caller;
    if (caller.kind !== 'server') throw unauthorized('send X-Server-Key');
    request.auditTarget = `app:${caller.appId}`;
    return ctx.audit.verify(caller.appId);
  });
}

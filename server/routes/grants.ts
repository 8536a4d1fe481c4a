/**
 * Grants: an item's key wrapped (RSA-OAEP, by the owner's device) for another
 * user of the app, with a role. The owner sets and removes grants; a grantee
 * sees only their own grant and may remove it (leave the share).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DeleteGrantsBody, GrantsQuery, PutGrantsBody } from '../../shared/wire.js';
import type { ServerContext } from '../context.js';
import { badRequest, forbidden, notFound } from '../http/errors.js';
import type { GrantRow } from '../store/types.js';
import { IdentifierParams, access, refuseNoRole, userCaller } from './items.js';

const grantOut = (g: GrantRow) => ({ userid: g.userId, role: g.role, wrappedKey: g.wrappedKey.toString('base64'), grantedAt: new Date(g.grantedAt).toISOString() });

export function grantRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/v1/items/:identifier/grants',
    { config: { auth: 'user', audit: 'grants.get' }, schema: { params: IdentifierParams, querystring: GrantsQuery } },
    async (request) => {
      const who = userCaller(request);
      const { identifier } = request.params as { identifier: string };
      request.auditTarget = `item:${identifier}`;
      const { item, role } = await access(ctx, who, identifier);
      if (!item) throw notFound('no such item for you', 'unknown_item');
      if (role === null) return refuseNoRole(ctx, who, identifier, () => notFound('no such item for you', 'unknown_item'));
      const grants = role === 'owner' ? await ctx.store.listGrants(who.appId, identifier) : [(await ctx.store.getGrant(who.appId, identifier, who.userId))!];
      return { identifier, grants: grants.filter(Boolean).map(grantOut) };
    },
  );

  app.put(
    '/v1/items/:identifier/grants',
    { config: { auth: 'user', audit: 'grants.put' }, schema: { params: IdentifierParams, body: PutGrantsBody, querystring: GrantsQuery } },
    async (request) => {
      const who = userCaller(request);
      const { identifier } = request.params as { identifier: string };
      const { grants } = request.body as z.infer<typeof PutGrantsBody>;
      request.auditTarget = `item:${identifier}`;
      const { item, role } = await access(ctx, who, identifier);
      if (!item || role === null) throw notFound('no such item for you', 'unknown_item');
      if (role !== 'owner') throw forbidden('only the owner grants access', 'owner_only');
      const ids = grants.map((g) => g.userid);
      if (new Set(ids).size !== ids.length) throw badRequest('each userid may appear once', 'duplicate_userid');
      if (ids.includes(who.userId)) throw badRequest('the owner needs no grant: set wrappedKey on the item', 'self_grant');
      const users = await Promise.all(ids.map((id) => ctx.store.userById(who.appId, id)));
      const unknown = ids.filter((_, i) => !users[i]);
      if (unknown.length) throw notFound(`no such user in this app: ${unknown.join(', ')}`, 'unknown_user');
      const now = Date.now();
      await ctx.store.upsertGrants(
        who.appId,
        identifier,
        grants.map((g) => ({ identifier, userId: g.userid, role: g.role, wrappedKey: Buffer.from(g.wrappedKey, 'base64'), grantedAt: now })),
      );
      // The grantees (new access or a new role) and the owner's other devices sync the item's grants now.
      ctx.events.publish({ appId: who.appId, users: [...ids, who.userId] }, { type: 'grant', item: identifier });
      return { identifier, grants: (await ctx.store.listGrants(who.appId, identifier)).map(grantOut) };
    },
  );

  app.delete(
    '/v1/items/:identifier/grants',
    {
      config: { auth: 'user', audit: 'grants.delete' },
      schema: { params: IdentifierParams, querystring: GrantsQuery, body: DeleteGrantsBody.nullable() },
    },
    async (request) => {
      const who = userCaller(request);
      const { identifier } = request.params as { identifier: string };
      const query = request.query as z.infer<typeof GrantsQuery>;
      const body = request.body as z.infer<typeof DeleteGrantsBody> | null;
      request.auditTarget = `item:${identifier}`;
      const ids = [...(body?.userids ?? []), ...(query.userid ? [query.userid] : [])];
      if (ids.length === 0) throw badRequest('name the grantees: body {"userids": [...]} or ?userid=', 'missing_field');
      const { item, role } = await access(ctx, who, identifier);
      if (!item || role === null) throw notFound('no such item for you', 'unknown_item');
      if (role !== 'owner' && ids.some((id) => id !== who.userId)) throw forbidden('only the owner removes other users\' grants', 'owner_only');
      const removed = await ctx.store.deleteGrants(who.appId, identifier, [...new Set(ids)]);
      if (removed > 0) ctx.events.publish({ appId: who.appId, users: [...new Set([...ids, item.ownerId])] }, { type: 'revoke', item: identifier });
      const remaining = role === 'owner' ? await ctx.store.listGrants(who.appId, identifier) : [];
      return { identifier, removed, grants: remaining.map(grantOut) };
    },
  );
}

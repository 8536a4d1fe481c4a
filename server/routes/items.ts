/**
 * Encrypted vault items (IDENTOS encrypt/decrypt by identifier): an opaque
 * blob with a version for optimistic concurrency, owned by the user who
 * created it, readable by users it is granted to (grants.ts). The server
 * never sees item keys unwrapped.
 *
 *   owner        read, write, delete, manage grants
 *   edit grantee read, write (not wrappedKey, not grants)
 *   read grantee read
 *   revoked      403 access_revoked (they knew the item; telling them why is no leak)
 *   anyone else  404 (existence is not revealed on reads)
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CommonQuery, Identifier, ListItemsQuery, PutItemBody } from '../../shared/wire.js';
import type { ServerContext } from '../context.js';
import { badRequest, conflict, forbidden, notFound, unauthorized } from '../http/errors.js';
import type { ItemRow } from '../store/types.js';

export const IdentifierParams = z.strictObject({ identifier: Identifier });

export type Role = 'owner' | 'read' | 'edit';

export interface UserCaller {
  appId: string;
  userId: string;
}

export function userCaller(request: FastifyRequest): UserCaller {
  const c = request.caller;
  if (c.kind !== 'device') throw unauthorized('this route needs a device JWT');
  return { appId: c.appId, userId: c.userId };
}

/** The item and the caller's role on it; role null when the caller has none. */
export async function access(ctx: ServerContext, who: UserCaller, identifier: string): Promise<{ item: ItemRow | undefined; role: Role | null; wrappedKey: Buffer | null }> {
  const item = await ctx.store.getItem(who.appId, identifier);
  if (!item) return { item, role: null, wrappedKey: null };
  if (item.ownerId === who.userId) return { item, role: 'owner', wrappedKey: item.ownerWrappedKey };
  const grant = await ctx.store.getGrant(who.appId, identifier, who.userId);
  return grant ? { item, role: grant.role, wrappedKey: grant.wrappedKey } : { item, role: null, wrappedKey: null };
}

/**
 * Refuses a caller without a role: 403 access_revoked for a former grantee,
 * else `stranger` (404 on reads, 403 on writes to someone else's identifier).
 */
export async function refuseNoRole(ctx: ServerContext, who: UserCaller, identifier: string, stranger: () => Error): Promise<never> {
  if ((await ctx.store.revokedAt(who.appId, identifier, who.userId)) !== null) throw forbidden('the owner revoked your access to this item', 'access_revoked');
  throw stranger();
}

/** After a write to an item: its owner and every grantee sync it (one read of the grants, off the send path). */
async function publishItemChange(ctx: ServerContext, item: ItemRow): Promise<void> {
  const grantees = (await ctx.store.listGrants(item.appId, item.identifier)).map((g) => g.userId);
  ctx.events.publish({ appId: item.appId, users: [item.ownerId, ...grantees] }, { type: 'item', item: item.identifier });
}

function itemOut(item: ItemRow, role: Role, wrappedKey: Buffer | null, meta = false) {
  return {
    identifier: item.identifier,
    version: item.version,
    ...(!meta && { data: item.data.toString('base64') }),
    owner: item.ownerId,
    role,
    wrappedKey: wrappedKey ? wrappedKey.toString('base64') : null,
    createdAt: new Date(item.createdAt).toISOString(),
    updatedAt: new Date(item.updatedAt).toISOString(),
  };
}

export function itemRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.put(
    '/v1/items/:identifier',
    { config: { auth: 'user', audit: 'items.put' }, schema: { params: IdentifierParams, body: PutItemBody, querystring: z.strictObject(CommonQuery) } },
    async (request) => {
      const who = userCaller(request);
      const { identifier } = request.params as { identifier: string };
      const body = request.body as z.infer<typeof PutItemBody>;
      request.auditTarget = `item:${identifier}`;
      const data = Buffer.from(body.data, 'base64');
      const wrappedKey = body.wrappedKey === undefined ? null : Buffer.from(body.wrappedKey, 'base64');
      const now = Date.now();
      const { item, role } = await access(ctx, who, identifier);

      if (!item) {
        if (body.version !== 0) throw conflict('the item does not exist: create it with version 0', 'version_conflict', { currentVersion: 0 });
        const created = await ctx.store.createItem({ appId: who.appId, identifier, ownerId: who.userId, version: 1, data, ownerWrappedKey: wrappedKey, createdAt: now, updatedAt: now });
        if (!created) throw conflict('the item was created concurrently: fetch it and retry', 'version_conflict', { currentVersion: (await ctx.store.getItem(who.appId, identifier))?.version ?? 0 });
        ctx.events.publish({ appId: who.appId, users: [who.userId] }, { type: 'item', item: identifier });
        return { identifier, version: 1 };
      }
      if (role === null) return refuseNoRole(ctx, who, identifier, () => forbidden('this identifier belongs to another user', 'forbidden'));
      if (role === 'read') throw forbidden('you have read-only access to this item', 'read_only');
      if (role === 'edit' && wrappedKey !== null) throw badRequest('only the owner sets wrappedKey', 'owner_only');
      const version = await ctx.store.updateItem(who.appId, identifier, body.version, data, wrappedKey, now);
      if (version === null) {
        const current = await ctx.store.getItem(who.appId, identifier);
        throw conflict(`stale version ${body.version}: the item is at version ${current?.version ?? 0}; fetch, merge and retry`, 'version_conflict', {
          currentVersion: current?.version ?? 0,
        });
      }
      await publishItemChange(ctx, item);
      return { identifier, version };
    },
  );

  app.get(
    '/v1/items/:identifier',
    { config: { auth: 'user', audit: 'items.get' }, schema: { params: IdentifierParams, querystring: z.strictObject(CommonQuery) } },
    async (request) => {
      const who = userCaller(request);
      const { identifier } = request.params as { identifier: string };
      request.auditTarget = `item:${identifier}`;
      const { item, role, wrappedKey } = await access(ctx, who, identifier);
      if (!item) throw notFound('no such item for you', 'unknown_item');
      if (role === null) return refuseNoRole(ctx, who, identifier, () => notFound('no such item for you', 'unknown_item'));
      return itemOut(item, role, wrappedKey);
    },
  );

  app.delete(
    '/v1/items/:identifier',
    { config: { auth: 'user', audit: 'items.delete' }, schema: { params: IdentifierParams, querystring: z.strictObject(CommonQuery) } },
    async (request) => {
      const who = userCaller(request);
      const { identifier } = request.params as { identifier: string };
      request.auditTarget = `item:${identifier}`;
      const { item, role } = await access(ctx, who, identifier);
      if (!item || role === null) throw notFound('no such item for you', 'unknown_item');
      if (role !== 'owner') throw forbidden('only the owner deletes an item', 'owner_only');
      const grantees = (await ctx.store.listGrants(who.appId, identifier)).map((g) => g.userId);
      await ctx.store.deleteItem(who.appId, identifier);
      ctx.events.publish({ appId: who.appId, users: [who.userId] }, { type: 'item', item: identifier });
      if (grantees.length > 0) ctx.events.publish({ appId: who.appId, users: grantees }, { type: 'revoke', item: identifier });
      return { deleted: true };
    },
  );

  app.get(
    '/v1/items',
    { config: { auth: 'user', audit: 'items.list' }, schema: { querystring: ListItemsQuery } },
    async (request) => {
      const who = userCaller(request);
      const q = request.query as z.infer<typeof ListItemsQuery>;
      const limit = q.limit ?? 100;
      const after = q.after ?? '';
      request.auditTarget = q.shared ? 'items:shared' : 'items:own';
      const meta = q.meta ?? false;
      const items = q.shared
        ? (await ctx.store.listSharedItems(who.appId, who.userId, after, limit + 1)).map((i) => ({ row: i as ItemRow, out: itemOut(i, i.role, i.grantWrappedKey, meta) }))
        : (await ctx.store.listOwnItems(who.appId, who.userId, after, limit + 1)).map((i) => ({ row: i, out: itemOut(i, 'owner', i.ownerWrappedKey, meta) }));
      const page = items.slice(0, limit);
      // The owner's devices learn from the list alone whether an item's grants moved.
      const changed = q.shared ? null : await ctx.store.grantsChangedAt(who.appId, page.map((i) => i.row.identifier));
      const out = page.map((i) => (changed ? { ...i.out, grantsChangedAt: changed.has(i.row.identifier) ? new Date(changed.get(i.row.identifier)!).toISOString() : null } : i.out));
      return { items: out, cursor: page.length ? page[page.length - 1]!.row.identifier : null, hasMore: items.length > limit };
    },
  );
}

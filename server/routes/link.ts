/**
 * Device linking (docs/api.md "Device linking", docs/security.md "Device
 * linking"): a relay between a new device (the app's client key; it has no
 * device yet) and an existing, registered device of the same user (its JWT).
 *
 *   POST   /v1/link                  new device: username + commitment -> linkId, 8-digit code
 *   POST   /v1/link/claim            existing device: code + its ephemeral key (once)
 *   GET    /v1/link/{linkId}         either: the session's public values and ciphertext
 *   POST   /v1/link/{linkId}/reveal  new device: its ephemeral key, checked against the commitment
 *   POST   /v1/link/{linkId}/seal    the claiming device: the sealed secrets (once)
 *   DELETE /v1/link/{linkId}         either: done or cancelled
 *
 * The server stores what it relays in the database (so every instance agrees,
 * and a claim or seal happens once: conditional updates) and cannot open the
 * sealed secrets: the key comes from an X25519 exchange whose keys the two
 * screens' verification code vouches for. The code only routes the claim: a
 * claim needs a device JWT of the same user, so a stranger who guesses a code
 * gets the same 404 as a wrong one. Claims are rate-limited per user and device.
 * Every request is audited by the onSend hook (link.create, link.claim ...).
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ClaimLinkBody, CreateLinkBody, LinkId, RevealLinkBody, SealLinkBody, type LinkSessionResponse } from '../../shared/link-wire.js';
import { CommonQuery } from '../../shared/wire.js';
import type { Caller } from '../auth/authenticate.js';
import type { ServerContext } from '../context.js';
import { requireTotp } from '../totp/require.js';
import { badRequest, conflict, forbidden, notFound, unauthorized } from '../http/errors.js';
import type { LinkSessionRow } from '../store/types.js';
import { usernameKey } from './users.js';

/** How long a session lives from its creation: time to walk to the other device, not more. */
export const LINK_TTL_MS = 10 * 60_000;
/** Claims per user and per device in a rate-limit window, right or wrong. */
export const CLAIMS_PER_USER = 20;
export const CLAIMS_PER_DEVICE = 10;
const COMMIT_TAG = Buffer.from('sealpost/link/v1/commit');

const IdParams = z.strictObject({ linkId: LinkId });
const query = z.strictObject(CommonQuery);
const b64url = (b: Buffer): string => b.toString('base64url');

function appOf(caller: Caller): string {
  if (caller.kind !== 'device' && caller.kind !== 'client') throw unauthorized('authentication required');
  return caller.appId;
}

function view(row: LinkSessionRow): LinkSessionResponse {
  return {
    linkId: row.linkId,
    state: row.sealed ? 'sealed' : row.revealKey ? 'revealed' : row.claimKey ? 'claimed' : 'waiting',
    commitment: b64url(row.commitment),
    claimKey: row.claimKey && b64url(row.claimKey),
    revealKey: row.revealKey && b64url(row.revealKey),
    sealed: row.sealed && row.sealed.toString('base64'),
    expiresAt: new Date(row.expiresAt).toISOString(),
  };
}

/** The session a request names; a device JWT must belong to the session's user (others get the same 404). */
async function sessionFor(ctx: ServerContext, request: FastifyRequest): Promise<LinkSessionRow> {
  const appId = appOf(request.caller);
  const linkId = (request.params as { linkId: string }).linkId;
  request.auditTarget = `link:${linkId}`;
  const row = await ctx.store.getLinkSession(appId, linkId, Date.now());
  if (!row) throw notFound('no such link session: it expired, was finished or cancelled', 'unknown_link');
  if (request.caller.kind === 'device' && !(await sameUser(ctx, request.caller, row))) throw notFound('no such link session: it expired, was finished or cancelled', 'unknown_link');
  return row;
}

async function sameUser(ctx: ServerContext, caller: Extract<Caller, { kind: 'device' }>, row: LinkSessionRow): Promise<boolean> {
  const user = await ctx.store.userById(caller.appId, caller.userId);
  return user !== undefined && usernameKey(user.username) === row.usernameKey;
}

/**
 * Tells the session user's devices that the session changed (a new request to
 * approve, or one that moved on): their link screens pull it now. The new
 * device has no stream (it is not registered yet) and keeps polling.
 */
async function announce(ctx: ServerContext, row: LinkSessionRow, userId?: string): Promise<void> {
  const id = userId ?? (await ctx.store.userByName(row.appId, row.usernameKey))?.id;
  if (id) ctx.events.publish({ appId: row.appId, users: [id] }, { type: 'link', linkId: row.linkId });
}

export function linkRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/v1/link', { config: { auth: 'device', audit: 'link.create' }, schema: { body: CreateLinkBody, querystring: query } }, async (request) => {
    const appId = appOf(request.caller);
    const body = request.body as z.infer<typeof CreateLinkBody>;
    const key = usernameKey(body.username.normalize('NFC'));
    const user = await ctx.store.userByName(appId, key);
    // Only a user with a registered identity has a device that could approve.
    if (!user || user.did === null) throw notFound('no such user in this app (or it has no device yet)', 'unknown_user');
    const now = Date.now();
    for (let attempt = 0; attempt < 5; attempt++) {
      const row: LinkSessionRow = {
        linkId: randomBytes(16).toString('hex'),
        appId,
        usernameKey: key,
        code: String(randomInt(0, 100_000_000)).padStart(8, '0'),
        commitment: Buffer.from(body.commitment, 'base64url'),
        claimKey: null,
        claimedBy: null,
        revealKey: null,
        sealed: null,
        createdAt: now,
        expiresAt: now + LINK_TTL_MS,
      };
      if (await ctx.store.createLinkSession(row, now)) {
        request.auditTarget = `link:${row.linkId}`;
        await announce(ctx, row, user.id);
        return { linkId: row.linkId, code: row.code, expiresAt: new Date(row.expiresAt).toISOString() };
      }
    }
    throw conflict('no free link code right now: try again in a minute', 'link_codes_exhausted');
  });

  app.post('/v1/link/claim', { config: { auth: 'user', audit: 'link.claim' }, schema: { body: ClaimLinkBody, querystring: query } }, async (request) => {
    const caller = request.caller;
    if (caller.kind !== 'device') throw unauthorized('authentication required');
    if (ctx.rateLimiter.options) {
      await ctx.rateLimiter.hit([
        [`link:u:${caller.appId}:${caller.userId}`, CLAIMS_PER_USER],
        [`link:d:${caller.appId}:${caller.deviceId}`, CLAIMS_PER_DEVICE],
      ]);
    }
    // Approving a device link for a user with two-step verification on needs a current code (X-Sealpost-Totp).
    await requireTotp(ctx, request, caller.appId, caller.userId);
    const body = request.body as { code: string; publicKey: string };
    const code = body.code.replace(/[- ]/g, '');
    const now = Date.now();
    const row = await ctx.store.linkSessionByCode(caller.appId, code, now);
    if (!row || !(await sameUser(ctx, caller, row))) throw notFound('no link request with this code for your account: check the code on the new device (it is valid for 10 minutes)', 'unknown_link_code');
    request.auditTarget = `link:${row.linkId}`;
    if (!(await ctx.store.claimLinkSession(caller.appId, row.linkId, caller.deviceId, Buffer.from(body.publicKey, 'base64url'), now))) {
      throw conflict('this link request was claimed already: start again on the new device', 'link_claimed');
    }
    await announce(ctx, row, caller.userId);
    return { linkId: row.linkId, commitment: b64url(row.commitment), expiresAt: new Date(row.expiresAt).toISOString() };
  });

  app.get('/v1/link/:linkId', { config: { auth: 'device', audit: 'link.read' }, schema: { params: IdParams, querystring: query } }, async (request) => {
    const session = view(await sessionFor(ctx, request));
    // Both devices poll this about once a second: only the read that hands out the
    // sealed secrets is written to the log (refused reads always are).
    request.auditQuietSuccess = session.state !== 'sealed';
    return session;
  });

  app.post(
    '/v1/link/:linkId/reveal',
    { config: { auth: 'device', audit: 'link.reveal' }, schema: { params: IdParams, body: RevealLinkBody, querystring: query } },
    async (request) => {
      const row = await sessionFor(ctx, request);
      const key = Buffer.from((request.body as { publicKey: string }).publicKey, 'base64url');
      // The existing device checks this too; refusing here keeps a wrong key from ever being relayed.
      const committed = createHash('sha256').update(COMMIT_TAG).update(key).digest();
      if (!committed.equals(row.commitment)) throw badRequest('this key does not match the commitment the session was created with', 'commitment_mismatch');
      if (!row.claimKey) throw conflict('no device has claimed this link request yet', 'link_not_claimed');
      if (!(await ctx.store.revealLinkSession(row.appId, row.linkId, key, Date.now()))) throw conflict('the key was revealed already', 'link_revealed');
      await announce(ctx, row);
      return { linkId: row.linkId, state: 'revealed' as const };
    },
  );

  app.post(
    '/v1/link/:linkId/seal',
    { config: { auth: 'user', audit: 'link.seal' }, schema: { params: IdParams, body: SealLinkBody, querystring: query } },
    async (request) => {
      const caller = request.caller;
      if (caller.kind !== 'device') throw unauthorized('authentication required');
      const row = await sessionFor(ctx, request);
      if (row.claimedBy !== caller.deviceId) throw forbidden('only the device that claimed this link request can complete it', 'not_claimer');
      if (!row.revealKey) throw conflict('the new device has not revealed its key yet', 'link_not_revealed');
      const sealed = Buffer.from((request.body as { sealed: string }).sealed, 'base64');
      if (!(await ctx.store.sealLinkSession(row.appId, row.linkId, caller.deviceId, sealed, Date.now()))) throw conflict('this link request was completed already', 'link_sealed');
      await announce(ctx, row, caller.userId);
      return { linkId: row.linkId, state: 'sealed' as const };
    },
  );

  app.delete('/v1/link/:linkId', { config: { auth: 'device', audit: 'link.delete' }, schema: { params: IdParams, querystring: query } }, async (request) => {
    const row = await sessionFor(ctx, request);
    if (await ctx.store.deleteLinkSession(row.appId, row.linkId)) await announce(ctx, row, request.caller.kind === 'device' ? request.caller.userId : undefined);
    return { deleted: true as const };
  });
}

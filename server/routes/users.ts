/**
 * IDENTOS back end: POST /v1/user/register (the app's own server, with its
 * serverkey) and the directory GET /v1/users/{username or userid}: a DID
 * document with the identity key, encryption keys, published inboxes and
 * devices — what a sender needs to encrypt offline and check who it is for.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { DevicePackage } from '../../shared/device-package.js';
import { CommonQuery, RegisterBody, UserId, Username } from '../../shared/wire.js';
import { appForServerKey, limitServerCaller, singleHeader } from '../auth/authenticate.js';
import type { ServerContext } from '../context.js';
import { checkDelegation } from '../crypto/delegation.js';
import { DevicePackageError, base58btc, checkDevicePackage } from '../crypto/device-package.js';
import { parseRsaPublicKey } from '../crypto/online.js';
import { badRequest, conflict, forbidden, notFound, unauthorized } from '../http/errors.js';
import type { AppRow, UserRow } from '../store/types.js';
import { directoryKeyChanges } from './key-changes.js';

/** Usernames are unique per app regardless of case and Unicode normalisation form. */
export const usernameKey = (username: string): string => username.normalize('NFKC').toLowerCase();

/** serverkey from the body or X-Server-Key; appid must name the same app. */
export async function serverApp(ctx: ServerContext, request: FastifyRequest, body: { appid?: string; serverkey?: string }): Promise<AppRow> {
  const header = singleHeader(request, 'x-server-key');
  if (header !== undefined && body.serverkey !== undefined && header !== body.serverkey) {
    throw badRequest('serverkey was given twice with different values', 'conflicting_secrets');
  }
  const serverKey = body.serverkey ?? header;
  if (serverKey === undefined) throw unauthorized('serverkey is required (body field or X-Server-Key header)');
  const app = await appForServerKey(ctx, serverKey);
  if (body.appid !== undefined && body.appid !== app.id) throw unauthorized('appid and serverkey do not belong to the same app', 'invalid_server_key');
  request.caller = { kind: 'server', appId: app.id };
  await limitServerCaller(ctx, app.id);
  return app;
}

/** Binds a device to a user (and the user to the package's identity on first use); also for POST /v1/enroll. */
export async function addDevice(ctx: ServerContext, user: UserRow, pkg: DevicePackage): Promise<void> {
  let checked;
  try {
    checked = checkDevicePackage(pkg);
  } catch (error) {
    if (error instanceof DevicePackageError) throw badRequest(`devicePackage: ${error.message}`, 'invalid_device_package');
    throw error;
  }
  let bound = user;
  if (bound.did === null) bound = await ctx.store.bindUserIdentity(user.appId, user.id, pkg.did, pkg.signingPublicKey);
  if (bound.did !== pkg.did) throw conflict('this username is registered to a different identity', 'identity_mismatch');
  const device = await ctx.store.insertDeviceIfAbsent({
    appId: user.appId,
    deviceId: pkg.deviceId,
    userId: user.id,
    packageJson: JSON.stringify(pkg),
    encryptionKey: checked.encryptionKey,
    fingerprint: pkg.fingerprint,
    createdAt: Date.now(),
    revokedAt: null,
  });
  if (device.userId !== user.id) throw conflict('this device is registered to another user', 'device_taken');
  if (device.revokedAt !== null) throw forbidden('this device has been revoked', 'device_revoked');
}

const WhoParams = z.strictObject({ who: z.union([UserId, Username]) });
const DeviceParams = z.strictObject({ deviceId: z.string().regex(/^[0-9a-f]{32}$/) });
const DelegationBody = z.strictObject({ delegation: z.unknown() });

export function userRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post(
    '/v1/user/register',
    { config: { auth: 'body', audit: 'users.register' }, schema: { body: RegisterBody, querystring: z.strictObject(CommonQuery) } },
    async (request) => {
      const body = request.body as z.infer<typeof RegisterBody>;
      const appRow = await serverApp(ctx, request, body);
      const username = body.username.normalize('NFC');
      const candidate: UserRow = {
        id: `u_${randomBytes(12).toString('hex')}`,
        appId: appRow.id,
        username,
        did: null,
        signingKey: null,
        createdAt: Date.now(),
      };
      const user = await ctx.store.insertUserIfAbsent(candidate, usernameKey(username));
      request.auditTarget = `user:${user.id}`;
      if (body.devicePackage) await addDevice(ctx, user, body.devicePackage);
      return { userid: user.id };
    },
  );

  // A device publishes the delegation its user's identity key signed for its device key.
  app.post(
    '/v1/devices/:deviceId/delegation',
    { config: { auth: 'user', audit: 'devices.delegate' }, schema: { params: DeviceParams, body: DelegationBody, querystring: z.strictObject(CommonQuery) } },
    async (request) => {
      const caller = request.caller;
      if (caller.kind !== 'device') throw unauthorized('authentication required');
      const deviceId = (request.params as { deviceId: string }).deviceId;
      request.auditTarget = `device:${deviceId}`;
      if (caller.deviceId !== deviceId) throw forbidden('a device publishes only its own delegation', 'not_this_device');
      const user = await ctx.store.userById(caller.appId, caller.userId);
      if (!user || user.signingKey === null || user.did === null) throw conflict('this user has no identity key', 'no_identity');
      const checked = checkDelegation((request.body as { delegation: unknown }).delegation, user.signingKey);
      if (!checked.ok) throw badRequest(`delegation: ${checked.reason}`, 'invalid_delegation');
      const d = checked.delegation;
      if (d.did !== user.did) throw badRequest('delegation: did is not this user\'s identity', 'invalid_delegation');
      if (d.deviceId !== deviceId) throw badRequest('delegation: deviceId is not this device', 'invalid_delegation');
      const stored = await ctx.store.putDelegation(caller.appId, { deviceId, deviceDid: d.deviceDid, delegationJson: JSON.stringify(d) }, Date.now());
      if (!stored) throw conflict('this device key is delegated to another device', 'device_key_taken');
      return { deviceId, deviceDid: d.deviceDid };
    },
  );

  app.get(
    '/v1/users/:who',
    { config: { auth: 'lookup', audit: 'users.lookup' }, schema: { params: WhoParams, querystring: z.strictObject(CommonQuery) } },
    async (request) => {
      const caller = request.caller;
      if (caller.kind === 'none') throw unauthorized('authentication required');
      const who = (request.params as { who: string }).who;
      const user =
        (UserId.safeParse(who).success ? await ctx.store.userById(caller.appId, who) : undefined) ??
        (await ctx.store.userByName(caller.appId, usernameKey(who.normalize('NFC'))));
      if (!user) throw notFound('no such user in this app', 'unknown_user');
      request.auditTarget = `user:${user.id}`;
      const [devices, published, delegationRows] = await Promise.all([
        ctx.store.devicesOfUser(caller.appId, user.id),
        ctx.store.publishedKeysOfUser(caller.appId, user.id),
        ctx.store.delegationsOfUser(caller.appId, user.id),
      ]);
      const delegations = new Map(delegationRows.map((g) => [g.deviceId, g]));
      const rotation = await directoryKeyChanges(ctx, caller.appId, user.id, devices, published);

      const did = user.did ?? `urn:sealpost:${caller.appId}:${user.id}`;
      const multibase = user.signingKey ? `z${base58btc(Uint8Array.of(0xed, 0x01, ...Buffer.from(user.signingKey, 'base64url')))}` : null;
      const vmId = multibase ? `${did}#${multibase}` : null;

      const keys = new Map<string, { publicKeyPem: string; keyFingerprint: string; fingerprint: string | null; inbox: string | null }>();
      for (const d of devices) {
        if (d.revokedAt !== null || keys.has(d.encryptionKey)) continue;
        keys.set(d.encryptionKey, { publicKeyPem: d.encryptionKey, keyFingerprint: parseRsaPublicKey(d.encryptionKey).fingerprint, fingerprint: d.fingerprint, inbox: null });
      }
      for (const k of published) {
        const entry = keys.get(k.publicKey);
        if (entry && entry.inbox === null) entry.inbox = k.publishedToken;
        else if (!entry) keys.set(k.publicKey, { publicKeyPem: k.publicKey, keyFingerprint: k.fingerprint, fingerprint: null, inbox: k.publishedToken });
      }

      return {
        '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/suites/ed25519-2020/v1'],
        id: did,
        userid: user.id,
        username: user.username,
        verificationMethod: vmId && multibase ? [{ id: vmId, type: 'Ed25519VerificationKey2020', controller: did, publicKeyMultibase: multibase }] : [],
        authentication: vmId ? [vmId] : [],
        encryptionKeys: [...keys.values()],
        currentKey: rotation.currentKey,
        keyChanges: rotation.keyChanges,
        devices: devices.map((d) => ({
          deviceId: d.deviceId,
          fingerprint: d.fingerprint,
          createdAt: new Date(d.createdAt).toISOString(),
          revoked: d.revokedAt !== null,
          package: JSON.parse(d.packageJson) as Record<string, unknown>,
          deviceDid: delegations.get(d.deviceId)?.deviceDid ?? null,
          // Revoking a device withdraws its delegation from the document (the key
          // service keeps the row, so the device's tokens get 403 device_revoked).
          delegation: (() => {
            const g = delegations.get(d.deviceId);
            return g && d.revokedAt === null ? (JSON.parse(g.delegationJson) as Record<string, unknown>) : null;
          })(),
        })),
      };
    },
  );
}

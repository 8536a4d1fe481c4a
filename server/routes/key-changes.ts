/**
 * Encryption-key rotation (docs/api.md "Key changes"): a device of the user
 * publishes the new encryption key with the change its identity key signed
 * (shared/key-change.ts). The directory then lists the chain of changes and the
 * current key, so a contact's app can follow the chain from the key it knew.
 *
 * The key service checks what it can so a bad statement never reaches a
 * directory: the signature by the user's bound identity key, that the old key
 * is a current one of the user (no fork, no replay of an old change), and that
 * the new key is published with an inbox, so senders can reach it at once.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { KeyChangeBody, type KeyChange } from '../../shared/key-change.js';
import { CommonQuery } from '../../shared/wire.js';
import type { ServerContext } from '../context.js';
import { checkKeyChange } from '../crypto/key-change.js';
import { parseRsaPublicKey } from '../crypto/online.js';
import { badRequest, conflict, forbidden, unauthorized } from '../http/errors.js';
import type { DeviceRow, KeyChangeRow, KeyRow } from '../store/types.js';

/** Changes kept per user: the directory lists them all (shared/wire.ts caps the list at 256). */
export const MAX_KEY_CHANGES = 256;

/** The last change on the chain that starts at `fingerprint` (null: not rotated). */
function follow(fingerprint: string, changes: readonly KeyChangeRow[]): KeyChangeRow | null {
  const byOld = new Map(changes.map((c) => [c.oldFingerprint, c]));
  let last: KeyChangeRow | null = null;
  // At most one step per change: a chain never revisits a key (new keys are never reused).
  for (let i = 0, next = byOld.get(fingerprint); next && i < changes.length; i++, next = byOld.get(next.newFingerprint)) last = next;
  return last;
}

/** The fingerprints a user's current keys have: each unrevoked device's, moved along the changes. */
export function currentFingerprints(devices: readonly DeviceRow[], changes: readonly KeyChangeRow[]): Set<string> {
  return new Set(devices.filter((d) => d.revokedAt === null).map((d) => follow(d.fingerprint, changes)?.newFingerprint ?? d.fingerprint));
}

export interface DirectoryKeyChanges {
  /** The signed changes, oldest first, as the devices posted them. */
  keyChanges: KeyChange[];
  /** The earliest unrevoked device's key after its changes: what senders should seal to. */
  currentKey: { publicKeyPem: string; keyFingerprint: string; fingerprint: string; inbox: string | null; changedAt: string | null } | null;
}

/** What the directory adds about key changes (GET /v1/users/{who}). */
export async function directoryKeyChanges(ctx: ServerContext, appId: string, userId: string, devices: readonly DeviceRow[], published: readonly KeyRow[]): Promise<DirectoryKeyChanges> {
  const changes = await ctx.store.keyChangesOfUser(appId, userId);
  const keyChanges = changes.map((c) => JSON.parse(c.statementJson) as KeyChange);
  const first = devices.find((d) => d.revokedAt === null);
  if (!first) return { keyChanges, currentKey: null };
  const tip = follow(first.fingerprint, changes);
  const pem = tip ? (JSON.parse(tip.statementJson) as KeyChange).newPublicKey : first.encryptionKey;
  const info = parseRsaPublicKey(pem);
  const inbox = published.find((k) => k.fingerprint === info.fingerprint && k.publishedToken !== null)?.publishedToken ?? null;
  return {
    keyChanges,
    currentKey: {
      publicKeyPem: info.pem,
      keyFingerprint: info.fingerprint,
      fingerprint: tip?.newFingerprint ?? first.fingerprint,
      inbox,
      changedAt: tip ? new Date(tip.createdAt).toISOString() : null,
    },
  };
}

export function keyChangeRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post(
    '/v1/users/me/key-changes',
    { config: { auth: 'user', audit: 'users.keyChange' }, schema: { body: KeyChangeBody, querystring: z.strictObject(CommonQuery) } },
    async (request) => {
      const caller = request.caller;
      if (caller.kind !== 'device') throw unauthorized('authentication required');
      request.auditTarget = `user:${caller.userId}`;
      const user = await ctx.store.userById(caller.appId, caller.userId);
      if (!user || user.signingKey === null || user.did === null) throw conflict('this user has no identity key', 'no_identity');
      const checked = checkKeyChange((request.body as { keyChange: unknown }).keyChange, user.signingKey);
      if (!checked.ok) {
        if (checked.failure === 'not_signed') throw forbidden(`keyChange: ${checked.reason}`, 'key_change_not_signed');
        throw badRequest(`keyChange: ${checked.reason}`, 'invalid_key_change');
      }
      const change = checked.change;
      if (change.did !== user.did) throw forbidden("keyChange: did is not this user's identity", 'key_change_not_signed');
      const [devices, changes, published] = await Promise.all([
        ctx.store.devicesOfUser(caller.appId, user.id),
        ctx.store.keyChangesOfUser(caller.appId, user.id),
        ctx.store.publishedKeysOfUser(caller.appId, user.id),
      ]);
      if (changes.length >= MAX_KEY_CHANGES) throw conflict(`keyChange: a user may rotate at most ${MAX_KEY_CHANGES} times`, 'too_many_key_changes');
      if (!currentFingerprints(devices, changes).has(change.oldFingerprint)) {
        throw conflict('keyChange: oldFingerprint is not a current key of this user (rotated already, or not theirs)', 'stale_key_change');
      }
      const everUsed = new Set([...devices.map((d) => d.fingerprint), ...changes.map((c) => c.newFingerprint)]);
      if (everUsed.has(change.newFingerprint)) throw conflict('keyChange: the new key was used before; rotate to a fresh key', 'key_reused');
      const keyFingerprint = parseRsaPublicKey(checked.publicKeyPem).fingerprint;
      if (!published.some((k) => k.fingerprint === keyFingerprint && k.publishedToken !== null)) {
        throw conflict('keyChange: publish the new key with an inbox first (POST /v1/keys with publish: true)', 'key_not_published');
      }
      const stored = await ctx.store.insertKeyChange(caller.appId, user.id, {
        oldFingerprint: change.oldFingerprint,
        newFingerprint: change.newFingerprint,
        statementJson: JSON.stringify(change),
        createdAt: Date.now(),
      });
      if (!stored) throw conflict('keyChange: another change of this key was stored first', 'stale_key_change');
      // Every device of the app: the server does not know who has this user as a contact.
      ctx.events.publish({ appId: caller.appId, everyone: true }, { type: 'key-change', userId: user.id });
      return { did: change.did, fingerprint: change.newFingerprint, changes: changes.length + 1 };
    },
  );
}

/**
 * Sharing (docs/sharing.md): grants with roles made here and carried by the
 * key service, item sync for own and shared-with-me items, the key service's
 * log about an item, and the exported identity file for a second desktop.
 *
 * A grant wraps the item's data key for the contact's directory key. Keys the
 * user has not verified (safety number) need an explicit confirmation: the
 * directory vouches for a key, the user's comparison is what rules out a
 * directory that lies. Revoking lives in items.ts (it rotates the key) and is
 * carried out on the key service by the next sync.
 * @module
 */
import { ResultCode, resultCodeName, type Result } from '../../../shared/codes.js';
import type { Handlers, Output } from '../../../shared/contract.js';
import { sealIdentityFile } from '../crypto/identity-file.js';
import { wrapDekFor } from '../crypto/item-crypto.js';
import type { KdfParams } from '../crypto/pin-kdf.js';
import type { Connection } from '../sync/connection.js';
import { isSyncError } from '../sync/errors.js';
import { itemServiceLog, syncItems } from '../sync/item-sync.js';
import { readCredentials } from '../sync/credentials.js';
import type { Keychain } from '../keychain/types.js';
import { AuditVerifyResponse } from '../../../shared/wire.js';
import type { AuditAction, JsonValue } from '../vault/audit.js';
import { type Contact, getContact, getContactByUsername, listContacts } from '../vault/contacts.js';
import type { Db } from '../vault/_sql.js';
import { getItem } from '../vault/items.js';
import { listItemKeys, putItemKey } from '../vault/item-keys.js';
import { type GrantRole, getItemSync, listGrantStates, setGrantRole } from '../vault/item-sync.js';
import { syncFailure } from './messaging.js';
import { encodeSecrets, type PublicIdentity } from './profile.js';
import { failureOf, ok, ServiceError } from './results.js';
import type { UnlockedKeys } from './unlocked-keys.js';
import { unwrapOwnDek } from './own-keys.js';

export interface SharingContext {
  db: Db;
  keychain: Keychain;
  now(): number;
  identity(): PublicIdentity;
  unlocked(): UnlockedKeys;
  /** The keys when unlocked, else null (sync works while locked). */
  keysIfUnlocked(): UnlockedKeys | null;
  /** The key-service connection, or null when the profile is not registered. */
  connection(): Connection | null;
  /** Adds a contact from the directory (contacts:lookup). */
  lookup(username: string): Promise<Result<unknown>>;
  record(action: AuditAction, target: string | null, result: string, details?: Record<string, JsonValue> | null): Promise<void>;
  kdfParams?: KdfParams;
}

type SharingChannels = 'items:share' | 'items:sharing' | 'items:sync' | 'items:serviceLog' | 'identity:export';

const mapError = (e: unknown): Result<never> => failureOf(isSyncError(e) ? syncFailure(e) : e);

export function sharingHandlers(ctx: SharingContext): Pick<Handlers, SharingChannels> {
  let running: Promise<Output<'items:sync'>> | null = null;

  /**
   * Runs `op` and records its result. `details` may be a function of the value;
   * returning undefined for a success records nothing (failures always are).
   */
  async function audited<T>(
    action: AuditAction,
    target: string | null,
    details: Record<string, JsonValue> | null | ((value: T) => Record<string, JsonValue> | null | undefined),
    op: () => T | Promise<T>,
  ): Promise<Result<T>> {
    let result: Result<T>;
    try {
      result = ok(await op());
    } catch (error) {
      result = mapError(error);
    }
    const recorded = typeof details !== 'function' ? details : result.code === 0 ? details(result.value) : null;
    if (recorded === undefined) return result;
    try {
      await ctx.record(action, target, result.code === 0 ? 'ok' : resultCodeName(result.code), recorded);
    } catch (error) {
      if (result.code === 0) return failureOf(error);
    }
    return result;
  }

  /** What an item sync changed (the non-zero counts); undefined when it changed nothing, which is not worth an entry. */
  const syncChanges = (report: Output<'items:sync'>): Record<string, JsonValue> | undefined => {
    const changed = Object.entries(report).filter(([, n]) => typeof n === 'number' && n > 0);
    return changed.length > 0 ? Object.fromEntries(changed) : undefined;
  };

  const notRegistered = () => new ServiceError(ResultCode.DeviceUnregistered, 'This device is not registered with a key service yet.');

  function conn(): Connection {
    const c = ctx.connection();
    if (!c) throw notRegistered();
    return c;
  }

  function label(userId: string): string {
    if (userId === ctx.identity().did) return 'You';
    return getContact(ctx.db, userId)?.username ?? userId;
  }

  async function contactFor(who: string): Promise<Contact> {
    const known = getContact(ctx.db, who) ?? getContactByUsername(ctx.db, who);
    if (known) return known;
    const r = await ctx.lookup(who);
    if (r.code !== 0) throw new ServiceError(r.code, r.message, r.details);
    const found = getContactByUsername(ctx.db, who);
    if (!found) throw new ServiceError(ResultCode.NotFound, `No user ${who} in the directory.`);
    return found;
  }

  function sharingOf(identifier: string): Output<'items:sharing'> {
    const item = getItem(ctx.db, identifier);
    if (!item) throw new ServiceError(ResultCode.NotFound, `No item ${identifier}.`);
    const me = ctx.identity().did;
    const mine = item.owner === me;
    const st = getItemSync(ctx.db, identifier);
    const roles = new Map(listGrantStates(ctx.db, identifier).map((g) => [g.grantee, g]));
    const grants = mine
      ? listItemKeys(ctx.db, identifier)
          .filter((k) => k.grantee !== item.owner)
          .map((k) => ({
            userId: k.grantee,
            label: label(k.grantee),
            role: roles.get(k.grantee)?.role ?? 'read',
            verified: getContact(ctx.db, k.grantee)?.verified ?? false,
            grantedAt: new Date(k.grantedAt).toISOString(),
            synced: roles.get(k.grantee)?.synced ?? false,
          }))
      : [];
    return {
      identifier,
      role: mine ? 'owner' : st.role === 'owner' ? 'read' : st.role,
      mine,
      sharedBy: mine ? null : (st.sharedByName ?? (st.sharedBy ? label(st.sharedBy) : item.owner)),
      sharedAt: !mine && st.sharedAt !== null ? new Date(st.sharedAt).toISOString() : null,
      revokedAt: st.revokedAt !== null ? new Date(st.revokedAt).toISOString() : null,
      grants,
    };
  }

  async function share(identifier: string, to: string[], role: GrantRole, confirmUnverified: boolean): Promise<Output<'items:share'>> {
    const keys = ctx.unlocked();
    const item = getItem(ctx.db, identifier);
    if (!item || item.deleted) throw new ServiceError(ResultCode.NotFound, `No item ${identifier}.`);
    if (item.owner !== ctx.identity().did) throw new ServiceError(ResultCode.InvalidState, 'Only the owner of an item can share it.');
    const contacts: Contact[] = [];
    for (const who of to) contacts.push(await contactFor(who));
    const unverified = contacts.filter((c) => !c.verified || c.keyChanged);
    if (unverified.length && !confirmUnverified) {
      throw new ServiceError(
        ResultCode.InvalidState,
        `Not verified: ${unverified.map((c) => c.username).join(', ')}. Compare safety numbers first, or confirm sharing with an unverified key.`,
        { unverified: unverified.map((c) => c.username) },
      );
    }
    const dek = unwrapOwnDek(listItemKeys(ctx.db, identifier), keys);
    if (!dek) throw new ServiceError(ResultCode.NotFound, `This device holds no key for item ${identifier}.`);
    try {
      const wrapped = contacts.map((c) => [c, wrapDekFor(dek, c.encryptionKey)] as const);
      ctx.db.transaction(() => {
        for (const [c, w] of wrapped) {
          putItemKey(ctx.db, identifier, { grantee: c.userId, keyId: w.keyId, wrapped: w.wrapped }, ctx.now());
          setGrantRole(ctx.db, identifier, c.userId, role);
        }
      })();
    } finally {
      dek.fill(0);
    }
    const all = sharingOf(identifier).grants;
    return { granted: all.filter((g) => contacts.some((c) => c.userId === g.userId)) };
  }

  return {
    'items:share': ({ identifier, to, role, confirmUnverified }) =>
      audited('grant', identifier, { count: to.length, role, unverifiedConfirmed: confirmUnverified }, () => share(identifier, to, role, confirmUnverified)),

    'items:sharing': async ({ identifier }) => {
      try {
        return ok(sharingOf(identifier));
      } catch (e) {
        return mapError(e);
      }
    },

    'items:sync': () => {
      // The Vault screen syncs every 30 s: a sync is logged only when it changed
      // something or failed, and not at all on an unregistered device, where
      // nothing is attempted. Otherwise the log would bury what matters.
      if (!ctx.connection()) return Promise.resolve(failureOf(notRegistered()));
      return audited('item.sync', null, syncChanges, () => {
        // One at a time (the UI's timer, its button and a share's immediate push can
        // overlap): a second caller joins the running sync instead of racing it.
        running ??= syncItems({ db: ctx.db, conn: conn(), now: ctx.now, identity: ctx.identity(), keys: ctx.keysIfUnlocked(), record: (a, t, r, d) => ctx.record(a, t, r, d ?? null) }).finally(() => {
          running = null;
        });
        return running;
      });
    },

    'items:serviceLog': async ({ identifier, limit }) => {
      try {
        const c = conn();
        const me = c.registration.userId;
        const names = new Map(listContacts(ctx.db).map((x) => [x.userId, x.username]));
        const entries = (await itemServiceLog(c, identifier, limit ?? 1000)).map((e) => ({
          seq: e.seq,
          ts: e.ts,
          userId: e.userId,
          who: e.userId === me ? 'you' : e.userId ? (names.get(e.userId) ?? e.userId) : 'anonymous',
          action: e.action,
          result: e.result,
          status: e.status,
        }));
        return ok({ entries, chainOk: await serviceChainOk(c) });
      } catch (e) {
        return mapError(e);
      }
    },

    'identity:export': ({ passphrase }) =>
      audited('identity.export', null, { file: true }, async () => {
        const keys = ctx.unlocked();
        const id = ctx.identity();
        const secrets = encodeSecrets(keys.seed, keys.rsaPrivateKeyDer, keys.previousKeys.map((k) => k.rsaPrivateKeyDer));
        try {
          const file = await sealIdentityFile(passphrase, secrets, ctx.kdfParams);
          return { file: Buffer.from(file).toString('base64'), did: id.did, fingerprint: id.fingerprint };
        } finally {
          secrets.fill(0);
        }
      }),
  };

  /**
   * Whether the app's key-service chain verifies (GET /v1/audit/verify needs the
   * app's server key, which a desktop that registers itself holds); null when this
   * device has no server key or the check could not run.
   */
  async function serviceChainOk(c: Connection): Promise<boolean | null> {
    const creds = await readCredentials(ctx.keychain);
    if (!creds.serverKey) return null;
    try {
      const v = await c.client.request('GET', '/v1/audit/verify', { auth: { serverKey: creds.serverKey }, schema: AuditVerifyResponse });
      return v!.ok;
    } catch {
      return null;
    }
  }
}

/**
 * Vault items as the desktop UI works with them: notes and files, each sealed
 * as one IDENTOS item (crypto/item-crypto.ts, the same container and data key
 * that vault:encrypt / vault:decrypt use), so an item made here opens with
 * `vault:decrypt` and the other way round.
 *
 * What is sealed is a small JSON document (the title travels inside the
 * ciphertext, never beside it in the database):
 *
 *   {"sealpost":"item/1","kind":"note","title":...,"text":...}
 *   {"sealpost":"item/1","kind":"file","title":...,"fileName":...,"mime":...,"data":<base64>}
 *
 * Plaintext that is not such a document (what `vault:encrypt` stored) is shown
 * as kind "data" with its identifier as the title.
 *
 * Edits keep the item's data key, so grants stay valid; revoking rotates the
 * key and re-wraps it only for who keeps access (design §3), so a revoked user
 * cannot open any version sealed after that. Every call is audited with its
 * outcome; details name the operation, never content.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ResultCode, resultCodeName, type Result } from '../../../shared/codes.js';
import { ItemContent, type Handlers, type Output } from '../../../shared/contract.js';
import { wipe } from '../crypto/_bytes.js';
import { openItemWithDek, sealItem } from '../crypto/item-crypto.js';
import type { AuditAction, JsonValue } from '../vault/audit.js';
import { getContact } from '../vault/contacts.js';
import type { Db } from '../vault/_sql.js';
import { getItem, listItems, listRevisions, putItem, resolveConflict, type Item } from '../vault/items.js';
import { listItemKeys, putItemKey, replaceItemKeys } from '../vault/item-keys.js';
import { getItemSync, listGrantStates, queueGrantRemovals, setGrantRole } from '../vault/item-sync.js';
import type { PublicIdentity } from './profile.js';
import { failureOf, ok, ServiceError } from './results.js';
import type { UnlockedKeys } from './unlocked-keys.js';
import { unwrapOwnDek } from './own-keys.js';

/** What the item handlers need from the engine (handler-table.ts passes its own). */
export interface ItemContext {
  db: Db;
  now(): number;
  /** @throws ServiceError NoIdentity */
  identity(): PublicIdentity;
  /** Unlocked keys; also counts as activity for auto-lock. @throws SessionLockedError */
  unlocked(): UnlockedKeys;
  record(action: AuditAction, target: string | null, result: string, details?: Record<string, JsonValue> | null): Promise<void>;
}

type ItemChannels = 'items:list' | 'items:create' | 'items:open' | 'items:update' | 'items:delete' | 'items:history' | 'items:resolve' | 'items:access' | 'items:revoke';
type Content = z.output<typeof ItemContent>;
type Summary = Output<'items:list'>[number];

const MARK = 'item/1';
const Stored = z.object({ sealpost: z.literal(MARK) }).passthrough();

function encodeContent(content: Content): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ sealpost: MARK, ...content }));
}

/** The sealed document back as content; anything else is raw "data". */
function decodeContent(plain: Uint8Array, identifier: string): Content {
  try {
    const json: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plain));
    if (Stored.safeParse(json).success) {
      const { sealpost: _mark, ...rest } = json as Record<string, unknown>;
      const parsed = ItemContent.safeParse(rest);
      if (parsed.success) return parsed.data;
    }
  } catch {
    // not UTF-8 JSON: raw data from vault:encrypt
  }
  return { kind: 'data', title: identifier, data: Buffer.from(plain).toString('base64') };
}

function contentSize(content: Content): number {
  if (content.kind === 'note') return new TextEncoder().encode(content.text).length;
  return Math.floor((content.data.length * 3) / 4) - (content.data.endsWith('==') ? 2 : content.data.endsWith('=') ? 1 : 0);
}

export function itemHandlers(ctx: ItemContext): Pick<Handlers, ItemChannels> {
  /** Runs one request and records it with its outcome, failures included. */
  async function audited<T>(action: AuditAction, target: string | null, details: Record<string, JsonValue> | null, op: () => T | Promise<T>): Promise<Result<T>> {
    let result: Result<T>;
    try {
      result = ok(await op());
    } catch (error) {
      result = failureOf(error);
    }
    try {
      await ctx.record(action, target, result.code === 0 ? 'ok' : resultCodeName(result.code), details);
    } catch (error) {
      if (result.code === 0) return failureOf(error);
    }
    return result;
  }

  async function plain<T>(op: () => T | Promise<T>): Promise<Result<T>> {
    try {
      return ok(await op());
    } catch (error) {
      return failureOf(error);
    }
  }

  /** Our unwrapped data key for an item. Caller wipes it. @throws NotFound */
  function ownDek(identifier: string, keys: UnlockedKeys): Uint8Array {
    const dek = unwrapOwnDek(listItemKeys(ctx.db, identifier), keys);
    if (!dek) throw new ServiceError(ResultCode.NotFound, `This device holds no key for item ${identifier}.`);
    return dek;
  }

  function current(identifier: string): Item {
    const item = getItem(ctx.db, identifier);
    if (!item || item.deleted) throw new ServiceError(ResultCode.NotFound, `No item ${identifier}.`);
    return item;
  }

  function openWith(dek: Uint8Array, r: { identifier: string; version: number; ciphertext: Uint8Array }): Content {
    const plainBytes = openItemWithDek({ identifier: r.identifier, version: r.version, ciphertext: r.ciphertext, dek });
    try {
      return decodeContent(plainBytes, r.identifier);
    } finally {
      wipe(plainBytes);
    }
  }

  function summary(item: Item, content: Content): Summary {
    const me = ctx.identity().did;
    const keys = listItemKeys(ctx.db, item.identifier);
    const conflicts = listRevisions(ctx.db, item.identifier).filter((r) => r.kind === 'conflict' && !r.resolved).length;
    const st = getItemSync(ctx.db, item.identifier);
    const mine = item.owner === me;
    return {
      identifier: item.identifier,
      version: item.version,
      kind: content.kind,
      title: content.title || item.identifier,
      updatedAt: new Date(item.updatedAt).toISOString(),
      owner: item.owner,
      mine: item.owner === me,
      dirty: item.dirty,
      size: contentSize(content),
      conflicts,
      // For an item shared with us our own key is the only one here: count no one.
      sharedWith: mine ? keys.filter((k) => k.grantee !== item.owner).length : 0,
      role: mine ? 'owner' : st.role === 'owner' ? 'read' : st.role,
      sharedBy: mine ? null : (st.sharedByName ?? st.sharedBy ?? item.owner),
      sharedAt: !mine && st.sharedAt !== null ? new Date(st.sharedAt).toISOString() : null,
      revoked: st.revokedAt !== null,
    };
  }

  /** Seals `content` as a new version (default: the next one) under the item's existing data key. */
  function saveVersion(item: Item, content: Content, opts: { version?: number; deleted?: boolean } = {}): Item {
    const keys = ctx.unlocked();
    const dek = ownDek(item.identifier, keys);
    const data = encodeContent(content);
    const version = opts.version ?? item.version + 1;
    try {
      const sealed = sealItem({ identifier: item.identifier, version, data, dek });
      wipe(sealed.dek);
      return putItem(
        ctx.db,
        { identifier: item.identifier, version, ciphertext: sealed.ciphertext, owner: item.owner, deleted: opts.deleted ?? false },
        { expectedVersion: item.version, now: ctx.now() },
      );
    } finally {
      wipe(dek, data);
    }
  }

  /** Edits need the owner or an edit grant that was not revoked; the key service checks the same again. */
  function mayEdit(item: Item, op: 'update' | 'delete'): void {
    if (item.owner === ctx.identity().did) return;
    const st = getItemSync(ctx.db, item.identifier);
    if (st.revokedAt !== null) throw new ServiceError(ResultCode.InvalidState, `The owner revoked your access to item ${item.identifier}.`);
    if (op === 'delete') throw new ServiceError(ResultCode.InvalidState, 'Only the owner can delete a shared item.');
    if (st.role !== 'edit') throw new ServiceError(ResultCode.InvalidState, `Item ${item.identifier} was shared with you read-only.`);
  }

  function expect(item: Item, expectedVersion: number): void {
    if (item.version !== expectedVersion) {
      throw new ServiceError(ResultCode.Conflict, `Item ${item.identifier} is at version ${item.version} now, not ${expectedVersion}: reopen it and apply your change again.`, {
        current: item.version,
      });
    }
  }

  return {
    'items:list': () =>
      plain(() => {
        const keys = ctx.unlocked();
        return listItems(ctx.db).flatMap((item) => {
          // An item this device cannot open (shared with us under a key we no longer
          // hold, or damaged) still shows, so it can be deleted or its history read.
          try {
            const dek = ownDek(item.identifier, keys);
            try {
              return [summary(item, openWith(dek, item))];
            } finally {
              wipe(dek);
            }
          } catch {
            return [summary(item, { kind: 'data', title: `${item.identifier} (cannot be opened here)`, data: '' })];
          }
        });
      }),

    'items:create': ({ content }) =>
      audited('encrypt', null, { op: 'create', kind: content.kind }, () => {
        ctx.unlocked();
        const identity = ctx.identity();
        const identifier = `item-${randomBytes(12).toString('hex')}`;
        const data = encodeContent(content);
        const sealed = sealItem({ identifier, version: 1, data, recipients: [identity.rsaPublicPem] });
        try {
          const item = ctx.db.transaction(() => {
            const stored = putItem(ctx.db, { identifier, version: 1, ciphertext: sealed.ciphertext, owner: identity.did }, { expectedVersion: null, now: ctx.now() });
            for (const w of sealed.wrappedKeys) putItemKey(ctx.db, identifier, { grantee: identity.did, keyId: w.keyId, wrapped: w.wrapped }, ctx.now());
            return stored;
          })();
          return summary(item, content);
        } finally {
          wipe(sealed.dek, data);
        }
      }),

    'items:open': ({ identifier }) =>
      audited('decrypt', identifier, { op: 'open' }, () => {
        const item = current(identifier);
        const dek = ownDek(identifier, ctx.unlocked());
        try {
          const content = openWith(dek, item);
          return { item: summary(item, content), content };
        } finally {
          wipe(dek);
        }
      }),

    'items:update': ({ identifier, expectedVersion, content }) =>
      audited('encrypt', identifier, { op: 'update', kind: content.kind }, () => {
        const item = current(identifier);
        mayEdit(item, 'update');
        expect(item, expectedVersion);
        return summary(saveVersion(item, content), content);
      }),

    'items:delete': ({ identifier, expectedVersion }) =>
      audited('encrypt', identifier, { op: 'delete' }, () => {
        const item = current(identifier);
        mayEdit(item, 'delete');
        expect(item, expectedVersion);
        // A sealed, empty tombstone: sync can tell other devices, and the history keeps the old versions.
        saveVersion(item, { kind: 'data', title: '', data: '' }, { deleted: true });
        return { deleted: true as const };
      }),

    'items:history': ({ identifier }) =>
      plain(() => {
        const keys = ctx.unlocked();
        if (!getItem(ctx.db, identifier)) throw new ServiceError(ResultCode.NotFound, `No item ${identifier}.`);
        let dek: Uint8Array | null = null;
        try {
          dek = ownDek(identifier, keys);
        } catch {
          dek = null;
        }
        try {
          return listRevisions(ctx.db, identifier).map((r) => {
            let title: string | null = null;
            if (dek && !r.deleted) {
              try {
                title = openWith(dek, r).title || identifier;
              } catch {
                title = null; // sealed under a key rotated away, or from another device's key
              }
            }
            return { id: r.id, version: r.version, kind: r.kind, updatedAt: new Date(r.updatedAt).toISOString(), deleted: r.deleted, resolved: r.resolved, title };
          });
        } finally {
          wipe(dek);
        }
      }),

    'items:resolve': ({ identifier, revisionId, keep }) =>
      audited('encrypt', identifier, { op: 'resolve', keep }, () => {
        const item = current(identifier);
        const revision = listRevisions(ctx.db, identifier).find((r) => r.id === revisionId && r.kind === 'conflict' && !r.resolved);
        if (!revision) throw new ServiceError(ResultCode.NotFound, `No open conflict ${revisionId} on item ${identifier}.`);
        const keys = ctx.unlocked();
        const dek = ownDek(identifier, keys);
        let chosen: Content;
        try {
          chosen = keep === 'remote' ? openWith(dek, revision) : openWith(dek, item);
        } finally {
          wipe(dek);
        }
        // Either way the choice is saved as a version above both sides, so the next
        // sync pushes it instead of meeting the same conflict again.
        const saved = ctx.db.transaction(() => {
          resolveConflict(ctx.db, revisionId);
          return saveVersion(item, chosen, { version: Math.max(item.version, revision.version) + 1 });
        })();
        return summary(saved, chosen);
      }),

    'items:access': ({ identifier }) =>
      plain(() => {
        const item = getItem(ctx.db, identifier);
        if (!item) throw new ServiceError(ResultCode.NotFound, `No item ${identifier}.`);
        const me = ctx.identity().did;
        return listItemKeys(ctx.db, identifier).map((k) => ({
          grantee: k.grantee,
          label: k.grantee === me ? 'You' : (getContact(ctx.db, k.grantee)?.username ?? k.grantee),
          owner: k.grantee === item.owner,
          grantedAt: new Date(k.grantedAt).toISOString(),
        }));
      }),

    'items:revoke': ({ identifier, userIds }) =>
      audited('revoke', identifier, { count: userIds.length }, () => {
        const item = current(identifier);
        const identity = ctx.identity();
        if (item.owner !== identity.did) throw new ServiceError(ResultCode.InvalidState, 'Only the owner of an item can take access away.');
        if (userIds.includes(identity.did)) throw new ServiceError(ResultCode.InvalidParameter, 'You cannot revoke your own access to your item.');
        const grants = listItemKeys(ctx.db, identifier);
        const revoked = grants.filter((g) => userIds.includes(g.grantee)).map((g) => g.grantee);
        if (revoked.length === 0) throw new ServiceError(ResultCode.NotFound, 'None of those users has access to this item.');
        const keeping = grants.filter((g) => !userIds.includes(g.grantee));
        // Everyone who keeps access needs the new key wrapped for their current public key.
        const recipients = keeping.map((g) => {
          if (g.grantee === identity.did) return { grantee: g.grantee, pem: identity.rsaPublicPem };
          const contact = getContact(ctx.db, g.grantee);
          if (!contact) throw new ServiceError(ResultCode.NotFound, `Grantee ${g.grantee} is no longer in your contacts: revoke them too, or add them back first.`);
          return { grantee: g.grantee, pem: contact.encryptionKey };
        });
        const keys = ctx.unlocked();
        const dek = ownDek(identifier, keys);
        let data: Uint8Array;
        try {
          data = openItemWithDek({ identifier, version: item.version, ciphertext: item.ciphertext, dek });
        } finally {
          wipe(dek);
        }
        const version = item.version + 1;
        const sealed = sealItem({ identifier, version, data, recipients: recipients.map((r) => r.pem) });
        const roles = listGrantStates(ctx.db, identifier);
        try {
          ctx.db.transaction(() => {
            putItem(ctx.db, { identifier, version, ciphertext: sealed.ciphertext, owner: item.owner }, { expectedVersion: item.version, now: ctx.now() });
            replaceItemKeys(
              ctx.db,
              identifier,
              recipients.map((r, i) => ({ grantee: r.grantee, keyId: sealed.wrappedKeys[i]!.keyId, wrapped: sealed.wrappedKeys[i]!.wrapped })),
              ctx.now(),
            );
            // The new rows are unsynced: the next sync removes the grants on the key service,
            // pushes this version, then the remaining grants with the new key.
            for (const r of roles) if (r.role === 'edit' && !revoked.includes(r.grantee)) setGrantRole(ctx.db, identifier, r.grantee, 'edit');
            queueGrantRemovals(ctx.db, identifier, revoked, ctx.now());
          })();
        } finally {
          wipe(sealed.dek, data);
        }
        return { revoked, version };
      }),
  };
}


/**
 * Vault items and grants through the key service (docs/sharing.md): push what
 * changed here, pull our own items (other devices of the same identity) and
 * the items shared with us. The key service stores each item as an opaque
 * sync record (docs/format.md §Sync record) and the item key wrapped per
 * user; it never sees a key unwrapped, and it enforces roles itself (a
 * read-only grantee's PUT is a 403 there, not only here).
 *
 * Order of a push: grant removals first (a revoked user loses the key
 * service's copy before anything else moves), then items (a revoke's rotated
 * version), then grants (the new key wrapped for who keeps access).
 *
 * Versions: the key service counts its own versions; the record carries the
 * version the ciphertext is sealed for (bound as AAD). A PUT is based on the
 * service version last seen here; a 409 pulls the item and keeps the remote
 * revision as an open conflict beside the local one (design §5). Items with
 * an open conflict are not pushed until the user chooses.
 * @module
 */
import { z } from 'zod';
import { AuditResponse, GrantsResponse, ItemMetaOut, ItemOut, ListItemsMetaResponse, PutGrantsBody, PutItemResponse } from '../../../shared/wire.js';
import { concat, Reader, u64be, utf8 } from '../crypto/_bytes.js';
import { wipe } from '../crypto/_bytes.js';
import { openItemWithDek, sealItem } from '../crypto/item-crypto.js';
import { unwrapWithOwnKeys } from '../service/own-keys.js';
import { keyId } from '../crypto/rsa.js';
import type { UnlockedKeys } from '../service/unlocked-keys.js';
import type { PublicIdentity } from '../service/profile.js';
import type { AuditAction, JsonValue } from '../vault/audit.js';
import { getContact } from '../vault/contacts.js';
import type { Db } from '../vault/_sql.js';
import { applyRemoteItem, getItem, type Item, listConflicts, listItems, markItemSynced, putItem, type RemoteOutcome } from '../vault/items.js';
import { deleteItemKey, listItemKeys, putItemKey } from '../vault/item-keys.js';
import {
  clearGrantRemovals,
  getItemSync,
  hasPendingRemoval,
  itemsWithUnsyncedGrants,
  listGrantRemovals,
  listGrantStates,
  listItemSync,
  markGrantsSynced,
  setGrantRole,
  updateItemSync,
} from '../vault/item-sync.js';
import type { Auth } from './client.js';
import type { Connection } from './connection.js';
import { SyncError } from './errors.js';

const RECORD_MAGIC = utf8('SPSR');
const RECORD_VERSION = 1;
const FLAG_DELETED = 1;
/** magic(4) + format(1) + sealed version(8) + flags(1). */
const RECORD_HEADER = 14;
/** Grants per PUT (the key service takes up to 100). */
const GRANT_CHUNK = 100;
const PAGE = 500;

/** The bytes the key service stores for an item: "SPSR" || 0x01 || u64be(sealed version) || flags || item ciphertext. */
export function encodeSyncRecord(r: { version: number; deleted: boolean; ciphertext: Uint8Array }): Uint8Array {
  return concat(RECORD_MAGIC, Uint8Array.of(RECORD_VERSION), u64be(r.version), Uint8Array.of(r.deleted ? FLAG_DELETED : 0), r.ciphertext);
}

/** @throws {SyncError} 'bad-response' when the bytes are not a sync record */
export function decodeSyncRecord(bytes: Uint8Array): { version: number; deleted: boolean; ciphertext: Uint8Array } {
  try {
    const r = new Reader(bytes, 'sync record');
    const magic = r.bytesN(4);
    if (!magic.every((b, i) => b === RECORD_MAGIC[i]) || r.u8() !== RECORD_VERSION) throw new Error('not a record');
    const hi = r.u32();
    const lo = r.u32();
    const version = hi * 2 ** 32 + lo;
    const flags = r.u8();
    if (!Number.isSafeInteger(version) || flags & ~FLAG_DELETED) throw new Error('bad header');
    return { version, deleted: (flags & FLAG_DELETED) !== 0, ciphertext: bytes.subarray(RECORD_HEADER) };
  } catch {
    throw new SyncError('bad-response', 'An item on the key service is not a Sealpost sync record.');
  }
}

export interface ItemSyncDeps {
  db: Db;
  conn: Connection;
  now: () => number;
  identity: PublicIdentity;
  /** The unlocked keys, or null while locked (a key rotation meeting unsynced edits then waits). */
  keys: UnlockedKeys | null;
  record(action: AuditAction, target: string | null, result: string, details?: Record<string, JsonValue>): Promise<void>;
}

export interface ItemSyncReport {
  pushed: number;
  pulled: number;
  conflicts: number;
  grantsPushed: number;
  grantsRemoved: number;
  /** Writes or reads the key service refused (read-only, revoked). */
  denied: number;
  /** Shared items we lost access to in this sync. */
  revoked: number;
  /** Items left for a sync with the keys unlocked (a rotated key met unsynced edits). */
  deferred: number;
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const path = (identifier: string, rest = ''): string => `/v1/items/${encodeURIComponent(identifier)}${rest}`;
const Removed = z.object({ identifier: z.string(), removed: z.number().int() }).passthrough();

function isDenied(e: unknown): e is SyncError {
  return e instanceof SyncError && e.kind === 'denied';
}
function isGone(e: unknown): boolean {
  return e instanceof SyncError && e.extra.status === 404;
}

/** One push and one pull. Transient failures (offline, 5xx, 429) stop it and are thrown. @throws {SyncError} */
export async function syncItems(d: ItemSyncDeps): Promise<ItemSyncReport> {
  const report: ItemSyncReport = { pushed: 0, pulled: 0, conflicts: 0, grantsPushed: 0, grantsRemoved: 0, denied: 0, revoked: 0, deferred: 0 };
  await pushRemovals(d, report);
  await pushItems(d, report);
  await pushGrants(d, report);
  await pull(d, report);
  return report;
}

const call = <T>(d: ItemSyncDeps, op: (auth: Auth) => Promise<T>): Promise<T> => d.conn.call(op);

async function pushRemovals(d: ItemSyncDeps, report: ItemSyncReport): Promise<void> {
  const byItem = new Map<string, string[]>();
  for (const r of listGrantRemovals(d.db)) byItem.set(r.identifier, [...(byItem.get(r.identifier) ?? []), r.userId]);
  for (const [identifier, userIds] of byItem) {
    if (getItemSync(d.db, identifier).remoteVersion === 0) {
      clearGrantRemovals(d.db, identifier, userIds); // never reached the service: nothing to remove there
      continue;
    }
    for (let i = 0; i < userIds.length; i += GRANT_CHUNK) {
      const chunk = userIds.slice(i, i + GRANT_CHUNK);
      try {
        const r = await call(d, (auth) => d.conn.client.request('DELETE', path(identifier, '/grants'), { auth, body: { userids: chunk }, schema: Removed }));
        report.grantsRemoved += r!.removed;
        await d.record('revoke', identifier, 'ok', { on: 'key-service', count: chunk.length });
      } catch (e) {
        if (!isGone(e)) throw e;
      }
      clearGrantRemovals(d.db, identifier, chunk);
    }
  }
}

async function pushItems(d: ItemSyncDeps, report: ItemSyncReport): Promise<void> {
  const blocked = new Set(listConflicts(d.db).map((c) => c.identifier));
  const ourKeyIds = new Set([keyId(d.identity.rsaPublicPem), ...(d.identity.previousKeys ?? []).map((k) => keyId(k.rsaPublicPem))]);
  for (const item of listItems(d.db, { includeDeleted: true, dirtyOnly: true })) {
    if (blocked.has(item.identifier)) continue; // the user chooses first (design §5)
    const st = getItemSync(d.db, item.identifier);
    if (st.revokedAt !== null) continue;
    const own = st.role === 'owner' ? listItemKeys(d.db, item.identifier).find((k) => ourKeyIds.has(k.keyId)) : undefined;
    const body = {
      data: b64(encodeSyncRecord(item)),
      version: st.remoteVersion,
      ...(own && { wrappedKey: b64(own.wrapped) }),
    };
    try {
      const r = await call(d, (auth) => d.conn.client.request('PUT', path(item.identifier), { auth, body, schema: PutItemResponse }));
      d.db.transaction(() => {
        updateItemSync(d.db, item.identifier, { remoteVersion: r!.version });
        markItemSynced(d.db, item.identifier, item.version);
      })();
      report.pushed++;
    } catch (e) {
      if (e instanceof SyncError && e.extra.status === 409) {
        // Someone else wrote first: keep theirs beside ours and let the user choose.
        const out = await fetchItem(d, item.identifier);
        if (out && (await applyOut(d, out, report)) === 'conflict') report.conflicts++;
        continue;
      }
      if (isDenied(e)) {
        report.denied++;
        if (e.extra.code === 'access_revoked') {
          updateItemSync(d.db, item.identifier, { revokedAt: d.now() });
          report.revoked++;
        }
        await d.record('encrypt', item.identifier, 'Denied', { op: 'push', code: e.extra.code ?? 'denied' });
        continue;
      }
      throw e;
    }
  }
}

async function pushGrants(d: ItemSyncDeps, report: ItemSyncReport): Promise<void> {
  for (const identifier of itemsWithUnsyncedGrants(d.db)) {
    const item = getItem(d.db, identifier);
    const st = getItemSync(d.db, identifier);
    if (!item || st.role !== 'owner') {
      markGrantsSynced(d.db, identifier, listGrantStates(d.db, identifier).map((g) => g.grantee)); // not ours to grant
      continue;
    }
    // Grants wait until the key service has the version they are wrapped for (a push
    // refused with 409 leaves the item dirty): a grantee never gets a key that does not
    // open the item the service holds.
    if (st.remoteVersion === 0 || item.dirty) continue;
    const roles = new Map(listGrantStates(d.db, identifier).map((g) => [g.grantee, g.role]));
    const keys = listItemKeys(d.db, identifier).filter((k) => k.grantee !== item.owner);
    for (let i = 0; i < keys.length; i += GRANT_CHUNK) {
      const chunk = keys.slice(i, i + GRANT_CHUNK);
      const body: z.input<typeof PutGrantsBody> = { grants: chunk.map((k) => ({ userid: k.grantee, role: roles.get(k.grantee) ?? 'read', wrappedKey: b64(k.wrapped) })) };
      try {
        await call(d, (auth) => d.conn.client.request('PUT', path(identifier, '/grants'), { auth, body, schema: GrantsResponse }));
        report.grantsPushed += chunk.length;
        await d.record('grant', identifier, 'ok', { on: 'key-service', count: chunk.length });
      } catch (e) {
        if (!(e instanceof SyncError) || e.transient) throw e;
        report.denied++;
        await d.record('grant', identifier, 'Denied', { on: 'key-service', code: e.extra.code ?? e.kind });
        continue;
      }
      markGrantsSynced(d.db, identifier, chunk.map((k) => k.grantee));
    }
    markGrantsSynced(d.db, identifier, [item.owner]);
  }
}

async function fetchItem(d: ItemSyncDeps, identifier: string): Promise<z.infer<typeof ItemOut> | null> {
  try {
    return await call(d, (auth) => d.conn.client.request('GET', path(identifier), { auth, schema: ItemOut }));
  } catch (e) {
    if (isGone(e)) return null;
    throw e;
  }
}

/** Versions, keys and grant times only: the data of what changed is fetched item by item. */
async function listAll(d: ItemSyncDeps, shared: boolean): Promise<Array<z.infer<typeof ItemMetaOut>>> {
  const out: Array<z.infer<typeof ItemMetaOut>> = [];
  let after = '';
  for (;;) {
    const q = `?meta=1&limit=${PAGE}${shared ? '&shared=1' : ''}${after ? `&after=${encodeURIComponent(after)}` : ''}`;
    const page = (await call(d, (auth) => d.conn.client.request('GET', `/v1/items${q}`, { auth, schema: ListItemsMetaResponse })))!;
    out.push(...page.items);
    if (!page.hasMore || page.cursor === null) return out;
    after = page.cursor;
  }
}

/** Stores one item as the key service has it. */
/**
 * Our unsynced edit and the incoming revision are under different item keys
 * (the owner rotated it). The owner's key wins: a grantee re-seals its local
 * edit under the incoming key and adopts it; the owner (who rotated here and
 * has not pushed yet) re-seals the incoming revision under its own key. Either
 * way both revisions open with the one key kept, so the conflict can be resolved.
 */
function reconcileKeys(
  d: ItemSyncDeps,
  keys: UnlockedKeys,
  x: { mine: boolean; local: Item; ours: Uint8Array; incoming: Uint8Array; remote: { version: number; ciphertext: Uint8Array } },
): { remoteCiphertext: Uint8Array; keepOurKey: boolean } {
  // Either may be wrapped for a key we rotated out.
  const oldDek = unwrapWithOwnKeys(x.ours, keys);
  const newDek = unwrapWithOwnKeys(x.incoming, keys);
  const identifier = x.local.identifier;
  try {
    if (Buffer.from(oldDek).equals(Buffer.from(newDek))) return { remoteCiphertext: x.remote.ciphertext, keepOurKey: false }; // re-wrapped only
    if (x.mine) {
      const plain = openItemWithDek({ identifier, version: x.remote.version, ciphertext: x.remote.ciphertext, dek: newDek });
      try {
        const sealed = sealItem({ identifier, version: x.remote.version, data: plain, dek: oldDek });
        wipe(sealed.dek);
        return { remoteCiphertext: sealed.ciphertext, keepOurKey: true };
      } finally {
        wipe(plain);
      }
    }
    const plain = openItemWithDek({ identifier, version: x.local.version, ciphertext: x.local.ciphertext, dek: oldDek });
    try {
      const version = x.local.version + 1;
      const sealed = sealItem({ identifier, version, data: plain, dek: newDek });
      wipe(sealed.dek);
      d.db.transaction(() => {
        putItem(d.db, { identifier, version, ciphertext: sealed.ciphertext, owner: x.local.owner, deleted: x.local.deleted }, { expectedVersion: x.local.version, now: d.now() });
        putItemKey(d.db, identifier, { grantee: d.identity.did, keyId: keyId(d.identity.rsaPublicPem), wrapped: x.incoming }, d.now());
      })();
      return { remoteCiphertext: x.remote.ciphertext, keepOurKey: true };
    } finally {
      wipe(plain);
    }
  } finally {
    wipe(oldDek, newDek);
  }
}

async function applyOut(d: ItemSyncDeps, out: z.infer<typeof ItemOut>, report: ItemSyncReport): Promise<RemoteOutcome | 'invalid' | 'deferred'> {
  let rec: ReturnType<typeof decodeSyncRecord>;
  try {
    rec = decodeSyncRecord(unb64(out.data));
  } catch {
    await d.record('decrypt', out.identifier, 'Tampered', { op: 'pull' });
    return 'invalid';
  }
  const mine = out.role === 'owner';
  const contact = mine ? null : getContact(d.db, out.owner);
  const owner = mine ? d.identity.did : (contact?.did ?? out.owner);
  const incomingKey = out.wrappedKey ? unb64(out.wrappedKey) : null;
  const local = getItem(d.db, out.identifier);
  const ours = listItemKeys(d.db, out.identifier).find((k) => k.grantee === d.identity.did);
  let ciphertext = rec.ciphertext;
  let keepOurKey = false;
  if (local?.dirty && ours && incomingKey && !Buffer.from(ours.wrapped).equals(incomingKey)) {
    // The item key may have been rotated (a revoke) while we had unsynced edits:
    // both sides must open with one key, or the conflict could not be resolved.
    if (!d.keys) {
      report.deferred++;
      return 'deferred';
    }
    const r = reconcileKeys(d, d.keys, { mine, local, ours: ours.wrapped, incoming: incomingKey, remote: { version: rec.version, ciphertext } });
    ciphertext = r.remoteCiphertext;
    keepOurKey = r.keepOurKey;
  }
  const outcome = applyRemoteItem(d.db, { identifier: out.identifier, version: rec.version, ciphertext, owner, deleted: rec.deleted }, d.now());
  d.db.transaction(() => {
    // The key that opens the current ciphertext: the incoming one unless our unsynced
    // version is current (then ours, reconciled above, still is).
    const current = getItem(d.db, out.identifier);
    const take = incomingKey && !keepOurKey && (!ours || !current?.dirty || outcome !== 'conflict');
    if (take && (!ours || !Buffer.from(ours.wrapped).equals(incomingKey))) {
      putItemKey(d.db, out.identifier, { grantee: d.identity.did, keyId: keyId(d.identity.rsaPublicPem), wrapped: incomingKey }, d.now());
      markGrantsSynced(d.db, out.identifier, [d.identity.did]);
    }
    updateItemSync(d.db, out.identifier, {
      remoteVersion: out.version,
      role: out.role,
      ownerUserId: out.owner,
      revokedAt: null,
      ...(!mine && { sharedBy: out.owner, sharedByName: contact?.username ?? null }),
    });
  })();
  if (!mine && !contact && getItemSync(d.db, out.identifier).sharedByName === null) {
    // Not a contact (yet): the directory names the owner, so the user sees who shared it.
    // Only the name is kept; encrypting to them still needs a contact lookup.
    try {
      const dir = await call(d, (auth) => d.conn.client.lookupUser(auth, out.owner));
      updateItemSync(d.db, out.identifier, { sharedByName: dir.username });
    } catch (e) {
      if (e instanceof SyncError && e.transient) throw e;
    }
  }
  if (outcome === 'inserted' || outcome === 'updated') report.pulled++;
  return outcome;
}

async function pull(d: ItemSyncDeps, report: ItemSyncReport): Promise<void> {
  const own = await listAll(d, false);
  for (const listed of own) {
    const st = getItemSync(d.db, listed.identifier);
    const local = getItem(d.db, listed.identifier);
    // Same version but a new key matters only with nothing unsynced here (else the
    // reconciliation at the 409 already chose the key, and a refetch would add the conflict twice).
    if (!local || listed.version !== st.remoteVersion || (!local.dirty && keyMoved(d, listed))) {
      const out = await fetchItem(d, listed.identifier);
      if (out) await applyOut(d, out, report);
    }
    const changedAt = listed.grantsChangedAt ? Date.parse(listed.grantsChangedAt) : null;
    if (changedAt !== null && Number.isFinite(changedAt) && changedAt !== getItemSync(d.db, listed.identifier).grantsSeen && getItem(d.db, listed.identifier)) {
      if (await pullGrants(d, listed.identifier)) updateItemSync(d.db, listed.identifier, { grantsSeen: changedAt });
    }
  }

  const shared = await listAll(d, true);
  const seen = new Set(shared.map((s) => s.identifier));
  for (const listed of shared) {
    const st = getItemSync(d.db, listed.identifier);
    const local = getItem(d.db, listed.identifier);
    const roleChanged = st.role !== listed.role;
    if (local && listed.version === st.remoteVersion && !roleChanged && (local.dirty || !keyMoved(d, listed))) continue;
    // Fetched one by one so the owner's key-service log names each item we read.
    const out = await fetchItem(d, listed.identifier);
    if (!out) continue;
    const first = !local;
    const outcome = await applyOut(d, out, report);
    if (outcome === 'conflict') report.conflicts++;
    if (first || st.sharedAt === null) await pullOwnGrant(d, out.identifier);
  }

  // Shared items no longer listed: ask, so a revocation is told apart from a deletion.
  for (const st of listItemSync(d.db)) {
    if (st.role === 'owner' || st.revokedAt !== null || seen.has(st.identifier)) continue;
    try {
      const out = await fetchItem(d, st.identifier);
      if (out) await applyOut(d, out, report);
    } catch (e) {
      if (!isDenied(e)) throw e;
      updateItemSync(d.db, st.identifier, { revokedAt: d.now() });
      report.revoked++;
      await d.record('decrypt', st.identifier, 'Denied', { op: 'pull', code: e.extra.code ?? 'denied' });
    }
  }
}

/** A new wrapped key for us without a new version (the owner pushed the rotated item, then the grants). */
function keyMoved(d: ItemSyncDeps, listed: z.infer<typeof ItemMetaOut>): boolean {
  const ours = listItemKeys(d.db, listed.identifier).find((k) => k.grantee === d.identity.did);
  return listed.wrappedKey !== null && (!ours || Buffer.from(ours.wrapped).toString('base64') !== listed.wrappedKey);
}

/** When the grant shared with us was made (the grantee sees its own grant). */
async function pullOwnGrant(d: ItemSyncDeps, identifier: string): Promise<void> {
  const r = await call(d, (auth) => d.conn.client.request('GET', path(identifier, '/grants'), { auth, schema: GrantsResponse }));
  const g = r!.grants[0];
  if (!g) return;
  const at = Date.parse(g.grantedAt);
  updateItemSync(d.db, identifier, { sharedAt: Number.isFinite(at) ? at : null });
}

/**
 * Our own item's grants as the key service has them (another device of ours may
 * have granted or revoked). Skipped while this device has grant changes of its own
 * to send for the item.
 */
async function pullGrants(d: ItemSyncDeps, identifier: string): Promise<boolean> {
  const item = getItem(d.db, identifier);
  if (!item) return false;
  const local = listGrantStates(d.db, identifier);
  if (local.some((g) => !g.synced && g.grantee !== item.owner) || hasRemovals(d, identifier)) return false;
  const r = await call(d, (auth) => d.conn.client.request('GET', path(identifier, '/grants'), { auth, schema: GrantsResponse }));
  const remote = r!.grants.filter((g) => !hasPendingRemoval(d.db, identifier, g.userid));
  const keys = new Map(listItemKeys(d.db, identifier).map((k) => [k.grantee, k]));
  d.db.transaction(() => {
    for (const g of remote) {
      const wrapped = unb64(g.wrappedKey);
      const have = keys.get(g.userid);
      if (!have || !Buffer.from(have.wrapped).equals(wrapped)) {
        const contact = getContact(d.db, g.userid);
        putItemKey(d.db, identifier, { grantee: g.userid, keyId: contact ? keyId(contact.encryptionKey) : `user:${g.userid}`.slice(0, 200), wrapped }, Date.parse(g.grantedAt) || d.now());
      }
      setGrantRole(d.db, identifier, g.userid, g.role);
      markGrantsSynced(d.db, identifier, [g.userid]);
    }
    const remoteIds = new Set(remote.map((g) => g.userid));
    for (const g of local) if (g.grantee !== item.owner && g.synced && !remoteIds.has(g.grantee)) deleteItemKey(d.db, identifier, g.grantee);
  })();
  return true;
}

const hasRemovals = (d: ItemSyncDeps, identifier: string): boolean => listGrantRemovals(d.db).some((r) => r.identifier === identifier);

/** GET /v1/audit?identifier=: what the key service logged about our item, whoever asked. @throws {SyncError} */
export async function itemServiceLog(conn: Connection, identifier: string, limit = 1000): Promise<z.infer<typeof AuditResponse>['entries']> {
  const r = await conn.call((auth) => conn.client.request('GET', `/v1/audit?identifier=${encodeURIComponent(identifier)}&limit=${limit}`, { auth, schema: AuditResponse }));
  return r!.entries;
}

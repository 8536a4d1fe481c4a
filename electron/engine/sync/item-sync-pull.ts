/**
 * The pull half of the vault items' sync: our own items (other devices of the
 * same identity) and their grants, the items shared with us, and the shared
 * items no longer listed (a revocation told apart from a deletion).
 * @module
 */
import type { z } from 'zod';
import { GrantsResponse, type ItemMetaOut, ListItemsMetaResponse } from '../../../shared/wire.js';
import { keyId } from '../crypto/rsa.js';
import { getContact } from '../vault/contacts.js';
import { getItem } from '../vault/items.js';
import { deleteItemKey, listItemKeys, putItemKey } from '../vault/item-keys.js';
import { getItemSync, hasPendingRemoval, listGrantRemovals, listGrantStates, listItemSync, markGrantsSynced, setGrantRole, updateItemSync } from '../vault/item-sync.js';
import { applyOut, fetchItem } from './item-sync-apply.js';
import { call, isDenied, itemPath, type ItemSyncDeps, type ItemSyncReport, unb64 } from './item-sync-deps.js';

const PAGE = 500;

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

export async function pull(d: ItemSyncDeps, report: ItemSyncReport): Promise<void> {
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
  const r = await call(d, (auth) => d.conn.client.request('GET', itemPath(identifier, '/grants'), { auth, schema: GrantsResponse }));
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
  const r = await call(d, (auth) => d.conn.client.request('GET', itemPath(identifier, '/grants'), { auth, schema: GrantsResponse }));
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

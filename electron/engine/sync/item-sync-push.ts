/**
 * The push half of the vault items' sync, in its order: grant removals first
 * (a revoked user loses the key service's copy before anything else moves),
 * then items (a revoke's rotated version), then grants (the new key wrapped
 * for who keeps access). An item with an open conflict is not pushed until
 * the user chooses.
 * @module
 */
import { z } from 'zod';
import { GrantsResponse, PutGrantsBody, PutItemResponse } from '../../../shared/wire.js';
import { keyId } from '../crypto/rsa.js';
import { getItem, listConflicts, listItems, markItemSynced } from '../vault/items.js';
import { listItemKeys } from '../vault/item-keys.js';
import { clearGrantRemovals, getItemSync, itemsWithUnsyncedGrants, listGrantRemovals, listGrantStates, markGrantsSynced, updateItemSync } from '../vault/item-sync.js';
import { SyncError } from './errors.js';
import { applyOut, fetchItem } from './item-sync-apply.js';
import { b64, call, GRANT_CHUNK, isDenied, isGone, itemPath, type ItemSyncDeps, type ItemSyncReport } from './item-sync-deps.js';
import { encodeSyncRecord } from './sync-record.js';

const Removed = z.object({ identifier: z.string(), removed: z.number().int() }).passthrough();

export async function pushRemovals(d: ItemSyncDeps, report: ItemSyncReport): Promise<void> {
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
        const r = await call(d, (auth) => d.conn.client.request('DELETE', itemPath(identifier, '/grants'), { auth, body: { userids: chunk }, schema: Removed }));
        report.grantsRemoved += r!.removed;
        await d.record('revoke', identifier, 'ok', { on: 'key-service', count: chunk.length });
      } catch (e) {
        if (!isGone(e)) throw e;
      }
      clearGrantRemovals(d.db, identifier, chunk);
    }
  }
}

export async function pushItems(d: ItemSyncDeps, report: ItemSyncReport): Promise<void> {
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
      const r = await call(d, (auth) => d.conn.client.request('PUT', itemPath(item.identifier), { auth, body, schema: PutItemResponse }));
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

export async function pushGrants(d: ItemSyncDeps, report: ItemSyncReport): Promise<void> {
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
        await call(d, (auth) => d.conn.client.request('PUT', itemPath(identifier, '/grants'), { auth, body, schema: GrantsResponse }));
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

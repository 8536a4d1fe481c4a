/**
 * Storing an item as the key service has it (pull, or a 409 on push): decode
 * its sync record, reconcile keys when the owner rotated under our unsynced
 * edit, apply it (a conflict is kept beside the local revision), and take the
 * wrapped key and the sharing details that came with it.
 * @module
 */
import type { z } from 'zod';
import { ItemOut } from '../../../shared/wire.js';
import { keyId } from '../crypto/rsa.js';
import { getContact } from '../vault/contacts.js';
import { applyRemoteItem, getItem, type RemoteOutcome } from '../vault/items.js';
import { listItemKeys, putItemKey } from '../vault/item-keys.js';
import { getItemSync, markGrantsSynced, updateItemSync } from '../vault/item-sync.js';
import { SyncError } from './errors.js';
import { reconcileKeys } from './item-key-reconcile.js';
import { call, isGone, itemPath, type ItemSyncDeps, type ItemSyncReport, unb64 } from './item-sync-deps.js';
import { decodeSyncRecord } from './sync-record.js';

/** One item from the key service; null when it is gone. */
export async function fetchItem(d: ItemSyncDeps, identifier: string): Promise<z.infer<typeof ItemOut> | null> {
  try {
    return await call(d, (auth) => d.conn.client.request('GET', itemPath(identifier), { auth, schema: ItemOut }));
  } catch (e) {
    if (isGone(e)) return null;
    throw e;
  }
}

/** Stores one item as the key service has it. */
export async function applyOut(d: ItemSyncDeps, out: z.infer<typeof ItemOut>, report: ItemSyncReport): Promise<RemoteOutcome | 'invalid' | 'deferred'> {
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

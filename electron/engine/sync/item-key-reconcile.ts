/**
 * Key reconciliation on revoke: when the owner rotated an item's key (a
 * revoke) while this device had unsynced edits, both revisions are brought
 * under one key so the conflict can still be resolved.
 * @module
 */
import { wipe } from '../crypto/_bytes.js';
import { openItemWithDek, sealItem } from '../crypto/item-crypto.js';
import { keyId } from '../crypto/rsa.js';
import { unwrapWithOwnKeys } from '../service/own-keys.js';
import type { UnlockedKeys } from '../service/unlocked-keys.js';
import { type Item, putItem } from '../vault/items.js';
import { putItemKey } from '../vault/item-keys.js';
import type { ItemSyncDeps } from './item-sync-deps.js';

/**
 * Our unsynced edit and the incoming revision are under different item keys
 * (the owner rotated it). The owner's key wins: a grantee re-seals its local
 * edit under the incoming key and adopts it; the owner (who rotated here and
 * has not pushed yet) re-seals the incoming revision under its own key. Either
 * way both revisions open with the one key kept, so the conflict can be resolved.
 */
export function reconcileKeys(
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

/**
 * The IDENTOS vault calls on single items (encrypt, decrypt, grantAccess):
 * sealing data as a vault item under its own data key, opening it with the
 * key this device holds, and wrapping that key for contacts. Moved out of the
 * service facade (handler-table.ts maps them to results and audits them).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { ResultCode } from '../../../shared/codes.js';
import { fromBase64, toBase64 } from '../crypto/_bytes.js';
import { decodeItemContainer, encodeItemContainer } from '../crypto/item-container.js';
import { openItemWithDek, sealItem, wrapDekFor } from '../crypto/item-crypto.js';
import type { Db } from '../vault/_sql.js';
import { getContact, getContactByUsername, type Contact } from '../vault/contacts.js';
import { getItem, putItem } from '../vault/items.js';
import { listItemKeys, putItemKey } from '../vault/item-keys.js';
import { unwrapOwnDek } from './own-keys.js';
import type { PublicIdentity } from './profile.js';
import { ServiceError } from './results.js';
import type { UnlockedKeys } from './unlocked-keys.js';

export interface IdentosItemsDeps {
  db(): Db;
  now(): number;
  identity(): PublicIdentity;
  /** @throws SessionLockedError */
  unlocked(): UnlockedKeys;
}

export class IdentosItems {
  constructor(private readonly d: IdentosItemsDeps) {}

  /** Our wrapped copy of an item's data key, unwrapped. @throws NotFound */
  private ownDek(identifier: string, keys: UnlockedKeys): Uint8Array {
    const dek = unwrapOwnDek(listItemKeys(this.d.db(), identifier), keys);
    if (!dek) throw new ServiceError(ResultCode.NotFound, `No key for item ${identifier} on this device.`);
    return dek;
  }

  /**
   * IDENTOS encrypt(data, identifier?): seals `data` as a vault item. A new
   * identifier gets a fresh data key wrapped for us; an existing one gets its next
   * version under the same data key, so grants stay valid.
   */
  encrypt(dataBase64: string, identifier?: string): [string, string] {
    const keys = this.d.unlocked();
    const data = fromBase64(dataBase64, 'data');
    const id = identifier ?? `item-${randomBytes(12).toString('hex')}`;
    const current = getItem(this.d.db(), id);
    const dek = current ? this.ownDek(id, keys) : undefined;
    const version = current ? current.version + 1 : 1;
    const sealed = sealItem({ identifier: id, version, data, ...(dek ? { dek } : { recipients: [this.d.identity().rsaPublicPem] }) });
    try {
      this.d.db().transaction(() => {
        putItem(this.d.db(), { identifier: id, version, ciphertext: sealed.ciphertext, owner: current?.owner ?? this.d.identity().did }, { expectedVersion: current?.version ?? null, now: this.d.now() });
        for (const w of sealed.wrappedKeys) putItemKey(this.d.db(), id, { grantee: this.d.identity().did, keyId: w.keyId, wrapped: w.wrapped }, this.d.now());
      })();
    } finally {
      sealed.dek.fill(0);
      dek?.fill(0);
      data.fill(0);
    }
    return [toBase64(encodeItemContainer({ identifier: id, version, ciphertext: sealed.ciphertext })), id];
  }

  /** IDENTOS decrypt(ciphertext) -> [plaintext, identifier], with the key this device holds for the item. */
  decrypt(containerBase64: string): [string, string] {
    const keys = this.d.unlocked();
    const container = decodeItemContainer(fromBase64(containerBase64, 'ciphertext'));
    const dek = this.ownDek(container.identifier, keys);
    try {
      const plaintext = openItemWithDek({ identifier: container.identifier, version: container.version, ciphertext: container.ciphertext, dek });
      const out = toBase64(plaintext);
      plaintext.fill(0);
      return [out, container.identifier];
    } finally {
      dek.fill(0);
    }
  }

  /** IDENTOS grantAccess(identifier, userIds): wraps the item's data key for each contact. */
  grantAccess(identifier: string, userIds: string[]): { granted: string[] } {
    const keys = this.d.unlocked();
    if (!getItem(this.d.db(), identifier)) throw new ServiceError(ResultCode.NotFound, `No item ${identifier}.`);
    const contacts = userIds.map((u) => [u, getContact(this.d.db(), u) ?? getContactByUsername(this.d.db(), u)] as const);
    const missing = contacts.filter(([, c]) => !c).map(([u]) => u);
    if (missing.length) throw new ServiceError(ResultCode.NotFound, `Not in your contacts: ${missing.join(', ')}.`, { missing });
    const dek = this.ownDek(identifier, keys);
    try {
      const wrapped = contacts.map(([, c]) => [c as Contact, wrapDekFor(dek, (c as Contact).encryptionKey)] as const);
      this.d.db().transaction(() => {
        for (const [c, w] of wrapped) putItemKey(this.d.db(), identifier, { grantee: c.userId, keyId: w.keyId, wrapped: w.wrapped }, this.d.now());
      })();
      return { granted: wrapped.map(([c]) => c.userId) };
    } finally {
      dek.fill(0);
    }
  }
}

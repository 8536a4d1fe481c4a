/**
 * Opening with any key we hold: the current encryption key first, then the keys
 * rotated out (newest first). What was sealed to an old key before (or while) it
 * was rotated keeps opening: messages, attachments, files and vault items.
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { isCryptoError } from '../crypto/errors.js';
import { unwrapDek } from '../crypto/item-crypto.js';
import type { UnlockedKeys } from './unlocked-keys.js';

export interface OwnKey {
  keyId: string;
  rsaPrivateKey: KeyObject;
}

/** Our keys, current first. */
export function ownKeys(keys: UnlockedKeys): OwnKey[] {
  return [keys, ...keys.previousKeys];
}

/**
 * Runs `op` with each of our keys until one is addressed: a 'wrong-key' failure
 * (not addressed to that key) tries the next; any other failure is final.
 * @throws the last key's error when none is addressed
 */
export async function withOwnKey<T>(keys: UnlockedKeys, op: (key: OwnKey) => Promise<T> | T): Promise<T> {
  const all = ownKeys(keys);
  for (let i = 0; ; i++) {
    try {
      return await op(all[i]!);
    } catch (e) {
      if (i + 1 >= all.length || !isCryptoError(e) || e.kind !== 'wrong-key') throw e;
    }
  }
}

/**
 * A data key wrapped for us, unwrapped with whichever of our keys it was wrapped
 * for (`hint` first: the key id it is filed under). A wrapped key carries no key id
 * of its own, and one filed under our current key may have been wrapped for an
 * older one by someone who had not seen the rotation.
 * @throws {WrongKeyError} none of our keys unwraps it
 */
export function unwrapWithOwnKeys(wrapped: Uint8Array, keys: UnlockedKeys, hint?: string): Uint8Array {
  const all = ownKeys(keys);
  const ordered = [...all.filter((k) => k.keyId === hint), ...all.filter((k) => k.keyId !== hint)];
  let last: unknown;
  for (const key of ordered) {
    try {
      return unwrapDek(wrapped, key.rsaPrivateKey);
    } catch (e) {
      if (!isCryptoError(e)) throw e;
      last = e;
    }
  }
  throw last;
}

/** Whether `id` is the key id of one of our keys (current or rotated out). */
export const isOwnKeyId = (keys: UnlockedKeys, id: string): boolean => ownKeys(keys).some((k) => k.keyId === id);

/** Our wrapped copy of an item's data key (filed under any key we hold), unwrapped; null when none is ours. Caller wipes it. */
export function unwrapOwnDek(rows: readonly { keyId: string; wrapped: Uint8Array }[], keys: UnlockedKeys): Uint8Array | null {
  for (const key of ownKeys(keys)) {
    const row = rows.find((r) => r.keyId === key.keyId);
    if (row) return unwrapWithOwnKeys(row.wrapped, keys, row.keyId);
  }
  return null;
}

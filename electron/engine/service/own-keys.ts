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

/** Our wrapped copy of an item's data key (under any key we hold), unwrapped; null when none is ours. Caller wipes it. */
export function unwrapOwnDek(rows: readonly { keyId: string; wrapped: Uint8Array }[], keys: UnlockedKeys): Uint8Array | null {
  for (const key of ownKeys(keys)) {
    const row = rows.find((r) => r.keyId === key.keyId);
    if (row) return unwrapDek(row.wrapped, key.rsaPrivateKey);
  }
  return null;
}

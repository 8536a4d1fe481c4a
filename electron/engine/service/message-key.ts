/**
 * The message cache key (derived from the vault seed) for the length of one
 * operation, zero-filled afterwards.
 * @module
 */
import { cacheKey } from '../sync/content.js';
import type { UnlockedKeys } from './unlocked-keys.js';

/** Runs `op` with the cache key of `keys`, then wipes the key. */
export function withMessageKey<T>(keys: UnlockedKeys, op: (key: Uint8Array) => T): T {
  const key = cacheKey(keys.seed);
  try {
    return op(key);
  } finally {
    key.fill(0);
  }
}

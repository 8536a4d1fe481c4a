/**
 * The check values that gate a share's release on the key service
 * (docs/format.md §14.3, server/routes/recovery.ts):
 *
 *   pinCheck   = SHA-256("sealpost/recovery/pin-check" || escrowShare xor pinShare)
 *   wordsCheck = SHA-256("sealpost/recovery/words-check" || K)
 *
 * escrowShare xor pinShare = K xor serviceShare, so the key service (which holds
 * serviceShare) could compute pinCheck only from K; it cannot test PIN guesses
 * without the escrow share. The service stores SHA-256 of each check only.
 * @module
 */
import { createHash } from 'node:crypto';
import { checkBytes, utf8 } from './_bytes.js';

const PIN_LABEL = utf8('sealpost/recovery/pin-check');
const WORDS_LABEL = utf8('sealpost/recovery/words-check');

const hash = (label: Uint8Array, data: Uint8Array): string => createHash('sha256').update(label).update(data).digest('hex');

/** @throws {InvalidInputError} shares not 32 bytes */
export function pinCheck(escrowShare: Uint8Array, pinShare: Uint8Array): string {
  checkBytes(escrowShare, 'escrowShare', 32);
  checkBytes(pinShare, 'pinShare', 32);
  const x = escrowShare.map((b, i) => b ^ pinShare[i]!);
  const out = hash(PIN_LABEL, x);
  x.fill(0);
  return out;
}

/** @throws {InvalidInputError} key not 32 bytes */
export function wordsCheck(key: Uint8Array): string {
  checkBytes(key, 'key', 32);
  return hash(WORDS_LABEL, key);
}

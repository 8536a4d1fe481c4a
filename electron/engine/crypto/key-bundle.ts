/**
 * A user's RSA private keys in one field: the current key first, then the keys it
 * replaced, newest first (docs/format.md §18.2). Each is a PKCS#8 DER, and DER says
 * its own length, so the bundle is just the DERs one after another:
 *
 *   bundle = der(current) || der(previous 1) || der(previous 2) || ...
 *
 * A bundle of one key is byte for byte the single PKCS#8 DER the v1 records hold,
 * so the records (secrets, identity backup, full backup, identity file) keep their
 * layout and only their version byte says whether older keys may follow.
 * @module
 */
import { concat } from './_bytes.js';
import { InvalidInputError } from './errors.js';

/** Most keys a bundle may hold (the current one and 63 rotations). */
export const MAX_BUNDLE_KEYS = 64;

/** The DERs in one buffer, current first. @throws {InvalidInputError} empty or too many */
export function encodeKeyBundle(current: Uint8Array, previous: readonly Uint8Array[] = []): Uint8Array {
  if (previous.length + 1 > MAX_BUNDLE_KEYS) throw new InvalidInputError(`a key bundle holds at most ${MAX_BUNDLE_KEYS} keys`);
  for (const der of [current, ...previous]) derLength(der, 0);
  return concat(current, ...previous);
}

/**
 * Views (no copies) into `bundle`: the current DER and the previous ones, newest first.
 * @throws {InvalidInputError} not a sequence of DER SEQUENCEs
 */
export function decodeKeyBundle(bundle: Uint8Array): { current: Uint8Array; previous: Uint8Array[] } {
  const ders: Uint8Array[] = [];
  let at = 0;
  while (at < bundle.length) {
    if (ders.length >= MAX_BUNDLE_KEYS) throw new InvalidInputError(`a key bundle holds at most ${MAX_BUNDLE_KEYS} keys`);
    const end = derLength(bundle, at);
    ders.push(bundle.subarray(at, end));
    at = end;
  }
  const [current, ...previous] = ders;
  if (!current) throw new InvalidInputError('the key bundle is empty');
  return { current, previous };
}

/** End offset of the DER SEQUENCE starting at `at`. @throws {InvalidInputError} */
function derLength(bytes: Uint8Array, at: number): number {
  if (bytes[at] !== 0x30 || at + 2 > bytes.length) throw new InvalidInputError('key bundle: not a DER SEQUENCE');
  const first = bytes[at + 1]!;
  let length: number;
  let header: number;
  if (first < 0x80) {
    length = first;
    header = 2;
  } else {
    const n = first & 0x7f;
    if (n === 0 || n > 3 || at + 2 + n > bytes.length) throw new InvalidInputError('key bundle: bad DER length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + bytes[at + 2 + i]!;
    header = 2 + n;
  }
  const end = at + header + length;
  if (end > bytes.length) throw new InvalidInputError('key bundle: a key is cut short');
  return end;
}

/**
 * Padmé padding (Nikitin, Barman, Lueks, Underwood, Hubaux, Ford: "Reducing
 * Metadata Leakage from Encrypted Files and Communication with PURBs", PETS 2019, §4).
 * Padmé rounds a length L up so that at most O(log log L) bits of L leak and the
 * overhead is at most ~12%:
 *
 *   E = floor(log2 L), S = floor(log2 E) + 1, z = E - S, padme(L) = ceil(L / 2^z) * 2^z
 *   (for L < 2: padme(L) = L)
 *
 * Sealpost's padded block (docs/format.md §Padding):
 *   u32be(len(data)) || data || 0x00 * (padme(4 + len(data)) - 4 - len(data))
 * @module
 */
import { Reader, u32be } from './_bytes.js';
import { InvalidInputError, TamperedError } from './errors.js';

/** Largest data length a padded block can carry (the u32 prefix). */
export const MAX_PADDED_DATA = 0xffff_fffb;

/** Padmé length for `L` (a non-negative safe integer). @throws {InvalidInputError} */
export function padme(L: number): number {
  if (!Number.isSafeInteger(L) || L < 0) throw new InvalidInputError('length must be a non-negative safe integer');
  if (L < 2) return L;
  const E = L.toString(2).length - 1; // floor(log2 L), exact for any safe integer
  const S = E.toString(2).length; // floor(log2 E) + 1
  const unit = 2 ** (E - S);
  return Math.ceil(L / unit) * unit;
}

/** Length of the padded block for `dataLength` bytes of data. */
export const paddedLength = (dataLength: number): number => padme(4 + dataLength);

/** Pads `data` into a fresh buffer. @throws {InvalidInputError} data too long */
export function pad(data: Uint8Array): Uint8Array {
  if (data.length > MAX_PADDED_DATA) throw new InvalidInputError('data too long to pad');
  const out = new Uint8Array(paddedLength(data.length));
  out.set(u32be(data.length), 0);
  out.set(data, 4);
  return out;
}

/**
 * The data inside a padded block (a subarray view). The block must have exactly the
 * Padmé length and all-zero padding.
 * @throws {TamperedError} wrong length prefix, wrong total length, non-zero padding
 */
export function unpad(padded: Uint8Array): Uint8Array {
  let n: number;
  try {
    n = new Reader(padded, 'padded block').u32();
  } catch {
    throw new TamperedError('padded block is malformed');
  }
  if (n > padded.length - 4 || paddedLength(n) !== padded.length) throw new TamperedError('padded block is malformed');
  let nonzero = 0;
  for (let i = 4 + n; i < padded.length; i++) nonzero |= padded[i]!;
  if (nonzero !== 0) throw new TamperedError('padding is not zero');
  return padded.subarray(4, 4 + n);
}

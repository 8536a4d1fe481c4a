/**
 * Mutations of a valid encoded input, as fast-check arbitraries: truncation,
 * bit flips, length-field lies (a u8/u16/u32 somewhere overwritten with 0,
 * 1, its maximum or one past the input's length), reordering (two slices
 * swapped), and extension (bytes appended or inserted). Every mutation
 * returns bytes that differ from the input.
 */
import fc from 'fast-check';

export type MutationKind = 'truncate' | 'bit flip' | 'length lie' | 'reorder' | 'extend';

export interface Mutated {
  kind: MutationKind;
  bytes: Uint8Array;
}

function differs(a: Uint8Array, b: Uint8Array): boolean {
  return a.length !== b.length || a.some((x, i) => x !== b[i]);
}

export function mutation(valid: Uint8Array): fc.Arbitrary<Mutated> {
  const n = valid.length;
  const at = fc.integer({ min: 0, max: n - 1 });
  const truncate = fc.integer({ min: 0, max: n - 1 }).map((len): Mutated => ({ kind: 'truncate', bytes: valid.slice(0, len) }));
  const flips = fc.array(fc.tuple(at, fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 4 }).map((list): Mutated => {
    const bytes = valid.slice();
    for (const [i, bit] of list) bytes[i]! ^= 1 << bit;
    return { kind: 'bit flip', bytes };
  });
  const lengthLie = fc.tuple(at, fc.constantFrom(1, 2, 4), fc.constantFrom(0, 1, 0xff, 0xffff, 0xffffffff, n + 1, n * 2, 0x7fffffff)).map(([i, width, value]): Mutated => {
    const bytes = valid.slice();
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const start = Math.min(i, Math.max(0, n - width));
    if (width === 1) v.setUint8(start, value & 0xff);
    else if (width === 2 && start + 2 <= n) v.setUint16(start, value & 0xffff);
    else if (start + 4 <= n) v.setUint32(start, value >>> 0);
    return { kind: 'length lie', bytes };
  });
  const reorder = fc.tuple(at, at, fc.integer({ min: 1, max: 64 })).map(([i, j, len]): Mutated => {
    const [a, b] = i < j ? [i, j] : [j, i];
    const l = Math.max(1, Math.min(len, b - a, n - b));
    const bytes = valid.slice();
    bytes.set(valid.subarray(b, b + l), a);
    bytes.set(valid.subarray(a, a + l), b);
    return { kind: 'reorder', bytes };
  });
  const extend = fc.tuple(fc.integer({ min: 0, max: n }), fc.uint8Array({ minLength: 1, maxLength: 32 })).map(([i, extra]): Mutated => {
    const bytes = new Uint8Array(n + extra.length);
    bytes.set(valid.subarray(0, i));
    bytes.set(extra, i);
    bytes.set(valid.subarray(i), i + extra.length);
    return { kind: 'extend', bytes };
  });
  return fc.oneof(truncate, flips, lengthLie, reorder, extend).filter((m) => differs(m.bytes, valid));
}

/** Counts per mutation kind, for the report. */
export class MutationCounts {
  readonly counts: Record<string, number> = {};
  add(kind: MutationKind): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
  }
  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }
}

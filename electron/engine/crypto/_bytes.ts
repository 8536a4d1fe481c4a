/**
 * Internal byte helpers shared by the crypto modules (not part of the public API):
 * hex, UTF-8, big-endian integers, a bounds-checked reader, wiping.
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import { InvalidInputError, TruncatedError } from './errors.js';

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 encode. */
export const utf8 = (s: string): Uint8Array => encoder.encode(s);

/** Strict UTF-8 decode. @throws {InvalidInputError} on malformed UTF-8 */
export function fromUtf8(b: Uint8Array, what = 'text'): string {
  try {
    return strictDecoder.decode(b);
  } catch {
    throw new InvalidInputError(`${what} is not valid UTF-8`);
  }
}

/** A plain Uint8Array view over a Buffer (no copy), so results compare equal to Uint8Arrays. */
export const view = (b: Uint8Array): Uint8Array =>
  b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/** A Buffer view (no copy) for node: APIs. */
export const buf = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Lowercase hex. */
export const toHex = (b: Uint8Array): string => buf(b).toString('hex');

/** Strict hex decode (even length, [0-9a-fA-F] only). @throws {InvalidInputError} */
export function fromHex(hex: string, what = 'hex string'): Uint8Array {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new InvalidInputError(`${what} must be an even-length hex string`);
  }
  return view(Buffer.from(hex, 'hex'));
}

/** Concatenates into one new Uint8Array. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function u16be(n: number): Uint8Array {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, n);
  return b;
}

export function u32be(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

export function u64be(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

/** Constant-time equality for equal-length secrets/digests (false when lengths differ). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Best-effort zero-fill (JS gives no guarantee that copies do not exist elsewhere). */
export function wipe(...arrays: Array<Uint8Array | undefined | null>): void {
  for (const a of arrays) a?.fill(0);
}

/** Checks `x` is a Uint8Array (optionally of exact length). @throws {InvalidInputError} */
export function checkBytes(x: unknown, what: string, length?: number): Uint8Array {
  if (!(x instanceof Uint8Array)) throw new InvalidInputError(`${what} must be a Uint8Array`);
  if (length !== undefined && x.length !== length) {
    throw new InvalidInputError(`${what} must be ${length} bytes, got ${x.length}`);
  }
  return x;
}

/** Bounds-checked big-endian reader: every overrun is a TruncatedError. */
export class Reader {
  private readonly dv: DataView;
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    private readonly what: string,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get remaining(): number {
    return this.bytes.length - this.pos;
  }
  private need(n: number): void {
    if (this.remaining < n) throw new TruncatedError(`${this.what} is truncated`);
  }
  u8(): number {
    this.need(1);
    return this.dv.getUint8(this.pos++);
  }
  u16(): number {
    this.need(2);
    const v = this.dv.getUint16(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.dv.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  /** A subarray view (no copy). */
  bytesN(n: number): Uint8Array {
    this.need(n);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
}

/** Standard base64 with padding. */
export const toBase64 = (b: Uint8Array): string => buf(b).toString('base64');

/** Strict standard base64 (RFC 4648 §4, padded, no whitespace). @throws {InvalidInputError} */
export function fromBase64(s: string, what = 'base64 string'): Uint8Array {
  if (typeof s !== 'string' || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) {
    throw new InvalidInputError(`${what} is not valid base64`);
  }
  const out = Buffer.from(s, 'base64');
  if (out.toString('base64') !== s) throw new InvalidInputError(`${what} is not canonical base64`);
  return view(out);
}

/**
 * Minimal ASN.1 DER (X.690) encoder and reader: just enough for PKCS#8
 * EncryptedPrivateKeyInfo with PBES2 (RFC 8018). Definite lengths only.
 * @module
 */
import { concat } from './_bytes.js';
import { InvalidInputError } from './errors.js';

export const TAG = { INTEGER: 0x02, OCTET_STRING: 0x04, NULL: 0x05, OID: 0x06, SEQUENCE: 0x30 } as const;

function encodeLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export const tlv = (tag: number, content: Uint8Array): Uint8Array => concat(Uint8Array.of(tag), encodeLength(content.length), content);
export const seq = (...items: Uint8Array[]): Uint8Array => tlv(TAG.SEQUENCE, concat(...items));
export const octets = (b: Uint8Array): Uint8Array => tlv(TAG.OCTET_STRING, b);
export const nul = (): Uint8Array => Uint8Array.of(TAG.NULL, 0);

/** Non-negative INTEGER, minimal two's complement. */
export function integer(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidInputError('DER integer must be a non-negative safe integer');
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  if (bytes.length === 0 || bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(TAG.INTEGER, Uint8Array.from(bytes));
}

/** OBJECT IDENTIFIER from dotted form. */
export function oid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const first = arcs[0]! * 40 + arcs[1]!;
  const out: number[] = [];
  for (const arc of [first, ...arcs.slice(2)]) {
    const base128: number[] = [];
    let v = arc;
    do {
      base128.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let i = 0; i < base128.length - 1; i++) base128[i]! |= 0x80;
    out.push(...base128);
  }
  return tlv(TAG.OID, Uint8Array.from(out));
}

/** One parsed element: its tag, its content, and the whole encoding. */
export interface Der {
  tag: number;
  content: Uint8Array;
}

const bad = (): InvalidInputError => new InvalidInputError('malformed DER');

/** Splits `bytes` into consecutive elements. @throws {InvalidInputError} */
export function readAll(bytes: Uint8Array): Der[] {
  const out: Der[] = [];
  let p = 0;
  while (p < bytes.length) {
    const tag = bytes[p++]!;
    if (p >= bytes.length) throw bad();
    let len = bytes[p++]!;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || p + n > bytes.length) throw bad();
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + bytes[p++]!;
    }
    if (p + len > bytes.length) throw bad();
    out.push({ tag, content: bytes.subarray(p, p + len) });
    p += len;
  }
  return out;
}

/** Reads the children of a SEQUENCE, checking the tag. @throws {InvalidInputError} */
export function children(el: Der | undefined, tag: number = TAG.SEQUENCE): Der[] {
  if (!el || el.tag !== tag) throw bad();
  return readAll(el.content);
}

/** Expects exactly one element in `bytes`. @throws {InvalidInputError} */
export function single(bytes: Uint8Array): Der {
  const all = readAll(bytes);
  if (all.length !== 1) throw bad();
  return all[0]!;
}

/** Value of a small non-negative INTEGER. @throws {InvalidInputError} */
export function readInteger(el: Der | undefined): number {
  if (!el || el.tag !== TAG.INTEGER || el.content.length === 0 || el.content.length > 6) throw bad();
  if (el.content[0]! & 0x80) throw bad();
  let v = 0;
  for (const b of el.content) v = v * 256 + b;
  return v;
}

/** True iff `el` is the OID `dotted`. */
export function isOid(el: Der | undefined, dotted: string): boolean {
  if (!el || el.tag !== TAG.OID) return false;
  const enc = oid(dotted);
  return Buffer.compare(Buffer.from(enc.subarray(2)), Buffer.from(el.content)) === 0;
}

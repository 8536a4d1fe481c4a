/**
 * Recipient index and key table, shared by the message envelope, the file
 * envelope and nothing else (docs/format.md §Recipients).
 *
 *   index    = u16be(n) || n × ( keyId(16) || wrapDigest(16) )      (inside the AAD header)
 *   keyTable = n × ( u16be(len) || wrapped(len) )                   (after the header)
 *   wrapDigest = SHA-256(wrapped)[0..16)
 *
 * A key-table entry of length 0 means "omitted" (the wire form carries only the
 * recipient's own wrapped key). Because each digest sits in the authenticated
 * header, every byte of every wrapped key present is authenticated too.
 * @module
 */
import { createHash, KeyObject } from 'node:crypto';
import { concat, equalBytes, fromHex, type Reader, toHex, u16be, view } from './_bytes.js';
import { InvalidInputError, TamperedError, WrongKeyError } from './errors.js';
import {
  importPrivateKey,
  keyIdBytes,
  KEY_ID_LENGTH,
  publicKeyFromPrivate,
  type PrivateKeyInput,
  type PublicKeyInput,
  unwrapKey,
  wrapKey,
} from './rsa.js';

/** Most recipients one envelope may name. */
export const MAX_RECIPIENTS = 1024;
const DIGEST_LENGTH = 16;
const MAX_WRAPPED = 2048; // 16384-bit modulus

export interface RecipientEntry {
  keyId: Uint8Array;
  digest: Uint8Array;
  /** Empty when omitted. */
  wrapped: Uint8Array;
}

export const wrapDigest = (wrapped: Uint8Array): Uint8Array =>
  view(createHash('sha256').update(wrapped).digest().subarray(0, DIGEST_LENGTH));

/**
 * Wraps `key32` for every recipient.
 * @throws {InvalidInputError} no recipients, too many, a duplicate, a bad public key
 */
export function wrapForRecipients(recipients: readonly PublicKeyInput[], key32: Uint8Array): RecipientEntry[] {
  if (!Array.isArray(recipients) || recipients.length === 0) throw new InvalidInputError('at least one recipient is required');
  if (recipients.length > MAX_RECIPIENTS) throw new InvalidInputError(`at most ${MAX_RECIPIENTS} recipients`);
  const seen = new Set<string>();
  return recipients.map((r) => {
    const keyId = keyIdBytes(r);
    const hex = toHex(keyId);
    if (seen.has(hex)) throw new InvalidInputError('duplicate recipient');
    seen.add(hex);
    const wrapped = wrapKey(r, key32);
    return { keyId, digest: wrapDigest(wrapped), wrapped };
  });
}

export function encodeIndex(entries: readonly RecipientEntry[]): Uint8Array {
  return concat(u16be(entries.length), ...entries.flatMap((e) => [e.keyId, e.digest]));
}

export function encodeKeyTable(entries: readonly RecipientEntry[]): Uint8Array {
  return concat(...entries.flatMap((e) => [u16be(e.wrapped.length), e.wrapped]));
}

/** Reads the index. @throws {TruncatedError} @throws {TamperedError} n = 0 or too large */
export function readIndex(r: Reader): RecipientEntry[] {
  const n = r.u16();
  if (n === 0 || n > MAX_RECIPIENTS) throw new TamperedError('recipient count out of range');
  const out: RecipientEntry[] = [];
  for (let i = 0; i < n; i++) out.push({ keyId: r.bytesN(KEY_ID_LENGTH), digest: r.bytesN(DIGEST_LENGTH), wrapped: new Uint8Array(0) });
  return out;
}

/** Reads the key table into `entries` (in place). @throws {TruncatedError} @throws {TamperedError} */
export function readKeyTable(r: Reader, entries: RecipientEntry[]): void {
  for (const e of entries) {
    const len = r.u16();
    if (len > MAX_WRAPPED) throw new TamperedError('wrapped key too long');
    e.wrapped = r.bytesN(len);
  }
}

/** A private key ready for opening: the KeyObject and its key id. */
export interface OpenKey {
  privateKey: KeyObject;
  keyId: Uint8Array;
}

/** What callers may pass to open something: a private key, or one with its id / public key. */
export type OpenKeyInput =
  | PrivateKeyInput
  | { privateKey: PrivateKeyInput; keyId?: string | Uint8Array; publicKeyPem?: string };

const openKeyCache = new WeakMap<KeyObject, Uint8Array>();

/**
 * Normalises an {@link OpenKeyInput}. Without a key id, it is computed from the
 * private key (cached per KeyObject).
 * @throws {InvalidInputError} bad key or key id
 */
export function prepareOpenKey(input: OpenKeyInput): OpenKey {
  const hasFields = !(input instanceof KeyObject) && !(input instanceof Uint8Array);
  const privateKey = importPrivateKey(hasFields ? input.privateKey : input);
  let keyId: Uint8Array | undefined;
  if (hasFields && input.keyId !== undefined) {
    keyId = typeof input.keyId === 'string' ? fromHex(input.keyId, 'keyId') : input.keyId;
    if (!(keyId instanceof Uint8Array) || keyId.length !== KEY_ID_LENGTH) throw new InvalidInputError('keyId must be 16 bytes');
  } else if (hasFields && input.publicKeyPem !== undefined) {
    keyId = keyIdBytes(input.publicKeyPem);
  } else {
    keyId = openKeyCache.get(privateKey);
    if (!keyId) {
      keyId = keyIdBytes(publicKeyFromPrivate(privateKey));
      openKeyCache.set(privateKey, keyId);
    }
  }
  return { privateKey, keyId };
}

/**
 * Checks every present wrapped key against its digest, finds ours and unwraps it.
 * @throws {TamperedError} a wrapped key does not match its digest, or ours does not unwrap
 * @throws {WrongKeyError} our key id is not listed, or our wrapped key was omitted
 */
export function unwrapFor(entries: readonly RecipientEntry[], key: OpenKey): Uint8Array {
  let mine: RecipientEntry | undefined;
  for (const e of entries) {
    if (e.wrapped.length !== 0 && !equalBytes(wrapDigest(e.wrapped), e.digest)) {
      throw new TamperedError('a wrapped key does not match the header');
    }
    if (equalBytes(e.keyId, key.keyId)) mine = e;
  }
  if (!mine) throw new WrongKeyError('not addressed to this key');
  if (mine.wrapped.length === 0) throw new WrongKeyError("this recipient's wrapped key is not included");
  try {
    return unwrapKey(key.privateKey, mine.wrapped);
  } catch {
    throw new TamperedError('the wrapped key for this recipient does not decrypt');
  }
}


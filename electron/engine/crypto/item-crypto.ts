/**
 * Vault item encryption (design §3; docs/format.md §Vault item): a per-item data
 * key (DEK) seals gzip(data) with AES-256-GCM bound to the item's identifier and
 * version; the DEK is wrapped with RSA-OAEP-SHA256 for the owner and each grantee.
 *
 *   ciphertext = "SPIT" || 0x01 || nonce(12) || AES-256-GCM(DEK, nonce, AAD, gzip(data))
 *   AAD        = "SPIT" || 0x01 || nonce || u32be(len(id)) || UTF-8(id) || u64be(version)
 *
 * Edits re-seal with the same DEK (fresh nonce) so existing grants stay valid;
 * revoking a grantee rotates the DEK ({@link rotateItem}) and re-wraps it for the rest.
 * @module
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { checkBytes, concat, equalBytes, Reader, u32be, u64be, utf8, view, wipe } from './_bytes.js';
import { KEY_LENGTH, newKey, newNonce, open as aeadOpen, seal as aeadSeal } from './aead.js';
import { InvalidInputError, TamperedError, UnsupportedVersionError } from './errors.js';
import { keyId, type PrivateKeyInput, type PublicKeyInput, unwrapKey, wrapKey } from './rsa.js';

const MAGIC = utf8('SPIT');
const VERSION = 1;
const HEADER_LENGTH = 4 + 1 + 12;
/** Default cap on an item's inflated data. */
export const DEFAULT_MAX_ITEM_BYTES = 64 * 1024 * 1024;
export const ITEM_GZIP_LEVEL = 6;

/** A DEK wrapped for one public key. */
export interface WrappedKey {
  keyId: string;
  wrapped: Uint8Array;
}

export interface SealItemInput {
  identifier: string;
  version: number;
  data: Uint8Array | string;
  /** Public keys to wrap the DEK for (owner and grantees). May be empty when `dek` is reused. */
  recipients?: readonly PublicKeyInput[];
  /** Reuse this DEK (an edit); omitted = a fresh DEK (new item or rotation). */
  dek?: Uint8Array;
}

export interface SealedItem {
  ciphertext: Uint8Array;
  /** The item's DEK: keep it only as long as needed and wipe it (`dek.fill(0)`). */
  dek: Uint8Array;
  wrappedKeys: WrappedKey[];
}

function checkIdentity(identifier: string, version: number): Uint8Array {
  if (typeof identifier !== 'string' || identifier.length === 0) throw new InvalidInputError('identifier must be a non-empty string');
  const id = utf8(identifier);
  if (id.length > 1024) throw new InvalidInputError('identifier longer than 1024 bytes');
  if (!Number.isSafeInteger(version) || version < 0) throw new InvalidInputError('version must be a non-negative integer');
  return id;
}

const aadOf = (header: Uint8Array, id: Uint8Array, version: number): Uint8Array =>
  concat(header, u32be(id.length), id, u64be(version));

/**
 * Wraps a DEK for one more public key (a grant).
 * @throws {InvalidInputError} DEK not 32 bytes, bad public key
 */
export function wrapDekFor(dek: Uint8Array, publicKey: PublicKeyInput): WrappedKey {
  return { keyId: keyId(publicKey), wrapped: wrapKey(publicKey, dek) };
}

/**
 * Unwraps a DEK with our private key.
 * @throws {InvalidInputError} bad private key
 * @throws {WrongKeyError} not wrapped for this key, or corrupted
 */
export function unwrapDek(wrappedKey: Uint8Array, privateKey: PrivateKeyInput): Uint8Array {
  return unwrapKey(privateKey, wrappedKey);
}

/**
 * Seals an item.
 * @throws {InvalidInputError} bad identifier/version/data/DEK/recipient, duplicate recipient,
 *   no recipients for a fresh DEK
 */
export function sealItem(input: SealItemInput): SealedItem {
  const id = checkIdentity(input.identifier, input.version);
  const data = typeof input.data === 'string' ? utf8(input.data) : checkBytes(input.data, 'data');
  const recipients = input.recipients ?? [];
  if (input.dek === undefined && recipients.length === 0) {
    throw new InvalidInputError('a fresh DEK needs at least one recipient');
  }
  const dek = input.dek === undefined ? newKey() : checkBytes(input.dek, 'dek', KEY_LENGTH).slice();
  const seen = new Set<string>();
  const wrappedKeys = recipients.map((r) => {
    const w = wrapDekFor(dek, r);
    if (seen.has(w.keyId)) throw new InvalidInputError('duplicate recipient');
    seen.add(w.keyId);
    return w;
  });
  const nonce = newNonce();
  const header = concat(MAGIC, Uint8Array.of(VERSION), nonce);
  const gz = view(gzipSync(data, { level: ITEM_GZIP_LEVEL }));
  const ciphertext = concat(header, aeadSeal(dek, nonce, gz, aadOf(header, id, input.version)));
  wipe(gz);
  return { ciphertext, dek, wrappedKeys };
}

/**
 * Opens an item with its DEK.
 * @throws {InvalidInputError} bad arguments, not an item, data inflates beyond the cap
 * @throws {UnsupportedVersionError} newer format
 * @throws {TruncatedError} cut short
 * @throws {TamperedError} modified bytes, or another identifier/version, or another DEK
 */
export function openItemWithDek(input: {
  identifier: string;
  version: number;
  ciphertext: Uint8Array;
  dek: Uint8Array;
  maxBytes?: number;
}): Uint8Array {
  const id = checkIdentity(input.identifier, input.version);
  checkBytes(input.dek, 'dek', KEY_LENGTH);
  const cap = input.maxBytes ?? DEFAULT_MAX_ITEM_BYTES;
  const r = new Reader(checkBytes(input.ciphertext, 'ciphertext'), 'item ciphertext');
  if (!equalBytes(r.bytesN(4), MAGIC)) throw new InvalidInputError('not a Sealpost vault item');
  const version = r.u8();
  if (version !== VERSION) throw new UnsupportedVersionError(`item format version ${version} is not supported`);
  const nonce = r.bytesN(12);
  const header = input.ciphertext.subarray(0, HEADER_LENGTH);
  const gz = aeadOpen(input.dek, nonce, input.ciphertext.subarray(HEADER_LENGTH), aadOf(header, id, input.version));
  try {
    return view(gunzipSync(gz, { maxOutputLength: cap }));
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new InvalidInputError(`item inflates beyond ${cap} bytes`);
    throw new TamperedError('item payload is not valid gzip');
  } finally {
    wipe(gz);
  }
}

/**
 * Opens an item with our wrapped DEK and private key.
 * @throws {WrongKeyError} the wrapped key is not for this private key
 * @throws as {@link openItemWithDek}
 */
export function openItem(input: {
  identifier: string;
  version: number;
  ciphertext: Uint8Array;
  wrappedKey: Uint8Array;
  privateKey: PrivateKeyInput;
  maxBytes?: number;
}): Uint8Array {
  const dek = unwrapDek(input.wrappedKey, input.privateKey);
  try {
    return openItemWithDek({ ...input, dek });
  } finally {
    wipe(dek);
  }
}

/**
 * Rotation (revocation): opens the item and re-seals it under a fresh DEK wrapped only
 * for `recipients`, at `newVersion` (default: version + 1).
 * @throws as {@link openItem} and {@link sealItem}
 */
export function rotateItem(input: {
  identifier: string;
  version: number;
  ciphertext: Uint8Array;
  wrappedKey: Uint8Array;
  privateKey: PrivateKeyInput;
  recipients: readonly PublicKeyInput[];
  newVersion?: number;
  maxBytes?: number;
}): SealedItem {
  const data = openItem(input);
  try {
    return sealItem({
      identifier: input.identifier,
      version: input.newVersion ?? input.version + 1,
      data,
      recipients: input.recipients,
    });
  } finally {
    wipe(data);
  }
}

/**
 * The ciphertext that IDENTOS-style encrypt(data, identifier) hands back and
 * decrypt(ciphertext) takes: a vault item (docs/format.md §12) framed with the
 * identifier and version it was sealed for, so decrypt needs nothing else to find
 * the item's key (docs/format.md §12.1).
 *
 *   container = "SPIC" || 0x01 || u16be(len(id)) || UTF-8(id) || u64be(version) || item ciphertext
 *
 * The framing is not secret and not authenticated on its own: the item's AAD binds
 * identifier and version, so a container whose frame was edited fails to open.
 * @module
 */
import { concat, fromUtf8, Reader, u16be, u64be, utf8 } from './_bytes.js';
import { InvalidInputError, UnsupportedVersionError } from './errors.js';

const MAGIC = utf8('SPIC');
const VERSION = 1;
const MAX_ID_BYTES = 1024;

export interface ItemContainer {
  identifier: string;
  version: number;
  /** The §12 item ciphertext ("SPIT" ...). */
  ciphertext: Uint8Array;
}

/** @throws {InvalidInputError} identifier empty or over 1024 UTF-8 bytes, version not a safe non-negative integer */
export function encodeItemContainer(c: ItemContainer): Uint8Array {
  const id = utf8(c.identifier);
  if (id.length < 1 || id.length > MAX_ID_BYTES) throw new InvalidInputError('identifier must be 1..1024 UTF-8 bytes');
  if (!Number.isSafeInteger(c.version) || c.version < 0) throw new InvalidInputError('version must be a non-negative integer');
  return concat(MAGIC, Uint8Array.of(VERSION), u16be(id.length), id, u64be(c.version), c.ciphertext);
}

/**
 * Reads the frame; the item ciphertext is a view into `bytes`.
 * @throws {InvalidInputError} not a container; {UnsupportedVersionError} newer; {TruncatedError} cut short
 */
export function decodeItemContainer(bytes: Uint8Array): ItemContainer {
  const r = new Reader(bytes, 'item container');
  const magic = r.bytesN(MAGIC.length);
  if (!magic.every((b, i) => b === MAGIC[i])) throw new InvalidInputError('not a Sealpost encrypted item (bad magic)');
  const version = r.u8();
  if (version !== VERSION) throw new UnsupportedVersionError(`item container version ${version} is newer than this build`);
  const idLength = r.u16();
  if (idLength < 1 || idLength > MAX_ID_BYTES) throw new InvalidInputError('item container: bad identifier length');
  const identifier = fromUtf8(r.bytesN(idLength), 'identifier');
  const hi = r.u32();
  const lo = r.u32();
  const itemVersion = hi * 2 ** 32 + lo;
  if (!Number.isSafeInteger(itemVersion)) throw new InvalidInputError('item container: version out of range');
  return { identifier, version: itemVersion, ciphertext: r.bytesN(r.remaining) };
}

/**
 * The sync record: the bytes the key service stores for a vault item
 * (docs/format.md §Sync record). A small header says which version the
 * ciphertext is sealed for and whether the item is deleted; the service never
 * reads past it.
 * @module
 */
import { concat, Reader, u64be, utf8 } from '../crypto/_bytes.js';
import { SyncError } from './errors.js';

const RECORD_MAGIC = utf8('SPSR');
const RECORD_VERSION = 1;
const FLAG_DELETED = 1;
/** magic(4) + format(1) + sealed version(8) + flags(1). */
const RECORD_HEADER = 14;

/** The bytes the key service stores for an item: "SPSR" || 0x01 || u64be(sealed version) || flags || item ciphertext. */
export function encodeSyncRecord(r: { version: number; deleted: boolean; ciphertext: Uint8Array }): Uint8Array {
  return concat(RECORD_MAGIC, Uint8Array.of(RECORD_VERSION), u64be(r.version), Uint8Array.of(r.deleted ? FLAG_DELETED : 0), r.ciphertext);
}

/** @throws {SyncError} 'bad-response' when the bytes are not a sync record */
export function decodeSyncRecord(bytes: Uint8Array): { version: number; deleted: boolean; ciphertext: Uint8Array } {
  try {
    const r = new Reader(bytes, 'sync record');
    const magic = r.bytesN(4);
    if (!magic.every((b, i) => b === RECORD_MAGIC[i]) || r.u8() !== RECORD_VERSION) throw new Error('not a record');
    const hi = r.u32();
    const lo = r.u32();
    const version = hi * 2 ** 32 + lo;
    const flags = r.u8();
    if (!Number.isSafeInteger(version) || flags & ~FLAG_DELETED) throw new Error('bad header');
    return { version, deleted: (flags & FLAG_DELETED) !== 0, ciphertext: bytes.subarray(RECORD_HEADER) };
  } catch {
    throw new SyncError('bad-response', 'An item on the key service is not a Sealpost sync record.');
  }
}

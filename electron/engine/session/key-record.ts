/**
 * The identity's keychain entry, version 2 (docs/security.md "Keys that fit every
 * keychain", docs/format.md §13.1): the wrong-PIN counter and a random 256-bit
 * key-encryption key (KEK), nothing else. The sealed identity itself lives in the
 * profile folder (sealed-identity.ts), encrypted under that KEK on top of the PIN KDF.
 *
 *   { "format": "sealpost-pin-vault", "v": 2, "state": "sealed", "pinDisabled": bool,
 *     "failures": n, "lastFailureAt": ms|null, "kek": base64(32 bytes),
 *     "file": "identity-<16 hex>.sealed" }
 *   { "format": "sealpost-pin-vault", "v": 2, "state": "wiped", "wipedAt": ms }
 *
 * About 200 bytes, so it fits the smallest OS keychain (Windows Credential Manager:
 * 2,560 bytes). The counter stays in the keychain, beside the KEK, so whoever can only
 * write the profile folder cannot reset it, and deleting the entry deletes the KEK:
 * the sealed file is then useless. Version 1 (record.ts) held the whole PIN blob and
 * is migrated to this on the next unlock (pin-vault.ts).
 * @module
 */
import { z } from 'zod';
import { KeychainError } from '../keychain/types.js';
import { MAX_WRONG_PINS } from './policy.js';
import { FORMAT, parseRecord, type WipedRecord } from './record.js';

const KEK_LENGTH = 32;
/** The sealed file's name: generated, never from input (it is joined to the profile path). */
export const SEALED_FILE = /^identity-[0-9a-f]{16}\.sealed$/;
const Ms = z.number().int().nonnegative();

const SealedSchema = z
  .object({
    format: z.literal(FORMAT),
    v: z.literal(2),
    state: z.literal('sealed'),
    pinDisabled: z.boolean(),
    failures: z.number().int().min(0).max(MAX_WRONG_PINS),
    lastFailureAt: Ms.nullable(),
    kek: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'a 32-byte key in base64'),
    file: z.string().regex(SEALED_FILE),
  })
  .strict();
const WipedSchema = z.object({ format: z.literal(FORMAT), v: z.literal(2), state: z.literal('wiped'), wipedAt: Ms }).strict();
const RecordSchema = z.discriminatedUnion('state', [SealedSchema, WipedSchema]);

/** A v2 sealed record: the counter, the KEK and the name of the sealed file it opens. */
export interface KeyRecord {
  state: 'sealed';
  pinDisabled: boolean;
  failures: number;
  lastFailureAt: number | null;
  kek: Uint8Array;
  file: string;
}

/** The record format version stored in an entry (1 = the whole PIN blob inline), or null for another format. */
export function recordVersion(bytes: Uint8Array): number | null {
  try {
    const json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
    if (typeof json !== 'object' || json === null || (json as { format?: unknown }).format !== FORMAT) return null;
    const v = (json as { v?: unknown }).v;
    return typeof v === 'number' ? v : null;
  } catch {
    return null;
  }
}

export function encodeKeyRecord(record: KeyRecord | WipedRecord): Uint8Array {
  const json =
    record.state === 'sealed'
      ? {
          format: FORMAT,
          v: 2,
          state: 'sealed',
          pinDisabled: record.pinDisabled,
          failures: record.failures,
          lastFailureAt: record.lastFailureAt,
          kek: Buffer.from(record.kek).toString('base64'),
          file: record.file,
        }
      : { format: FORMAT, v: 2, state: 'wiped', wipedAt: record.wipedAt };
  return new TextEncoder().encode(JSON.stringify(json));
}

/**
 * Parses a v2 entry read from the keychain (untrusted bytes).
 * @throws {KeychainError} 'corrupt' when it is not a valid v2 record
 */
export function decodeKeyRecord(bytes: Uint8Array): KeyRecord | WipedRecord {
  const r = parseRecord(bytes, RecordSchema);
  if (r.state === 'wiped') return { state: 'wiped', wipedAt: r.wipedAt };
  const kek = Buffer.from(r.kek, 'base64');
  if (kek.length !== KEK_LENGTH) throw new KeychainError('corrupt', 'the identity record has an unexpected shape');
  return {
    state: 'sealed',
    pinDisabled: r.pinDisabled,
    failures: r.failures,
    lastFailureAt: r.lastFailureAt,
    kek: new Uint8Array(kek.buffer, kek.byteOffset, kek.byteLength),
    file: r.file,
  };
}

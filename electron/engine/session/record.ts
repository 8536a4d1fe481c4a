/**
 * Version 1 of the identity record in the keychain account 'identity', read only to
 * migrate it (pin-vault.ts): version 2 (key-record.ts) keeps the PIN blob in the
 * profile folder, because a v1 record holding an RSA-3072/4096 key is larger than
 * Windows Credential Manager's 2,560 bytes. A v1 record held the PIN-sealed
 * secrets AND the wrong-PIN counter, in one entry. Keeping them together is the
 * point: whoever deletes the record to reset the counter deletes the keys too, and
 * nothing in the profile directory (vault.db, settings) holds attempt state.
 *
 *   { "format": "sealpost-pin-vault", "v": 1, "state": "sealed", "pinDisabled": bool,
 *     "failures": n, "lastFailureAt": ms|null, "sealed": base64(pin-kdf blob) }
 *   { "format": "sealpost-pin-vault", "v": 1, "state": "wiped", "wipedAt": ms }
 *
 * The counter is not authenticated: anyone able to rewrite it can also copy the
 * sealed blob and search PINs offline, so a MAC would add nothing (docs/security.md).
 * @module
 */
import { z } from 'zod';
import { KeychainError } from '../keychain/types.js';
import { MAX_WRONG_PINS } from './policy.js';

/** The `format` of every identity record, v1 and v2 (key-record.ts). */
export const FORMAT = 'sealpost-pin-vault';
const Base64 = z.string().max(64 * 1024).regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
const Ms = z.number().int().nonnegative();

const SealedSchema = z
  .object({
    format: z.literal(FORMAT),
    v: z.literal(1),
    state: z.literal('sealed'),
    pinDisabled: z.boolean(),
    failures: z.number().int().min(0).max(MAX_WRONG_PINS),
    lastFailureAt: Ms.nullable(),
    sealed: Base64,
  })
  .strict();

const WipedSchema = z.object({ format: z.literal(FORMAT), v: z.literal(1), state: z.literal('wiped'), wipedAt: Ms }).strict();

const RecordSchema = z.discriminatedUnion('state', [SealedSchema, WipedSchema]);

export interface SealedRecord {
  state: 'sealed';
  pinDisabled: boolean;
  failures: number;
  lastFailureAt: number | null;
  sealed: Uint8Array;
}
export interface WipedRecord {
  state: 'wiped';
  wipedAt: number;
}
export type PinRecord = SealedRecord | WipedRecord;

/**
 * Decodes an identity record's bytes (untrusted: read from the keychain) as UTF-8 JSON
 * and validates it against one version's schema; shared by v1 and v2 (key-record.ts).
 * @throws {KeychainError} 'corrupt' when it is not JSON or not of that shape
 */
export function parseRecord<S extends z.ZodTypeAny>(bytes: Uint8Array, schema: S): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new KeychainError('corrupt', 'the identity record is not valid JSON', { cause: e });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new KeychainError('corrupt', 'the identity record has an unexpected shape');
  return parsed.data as z.output<S>;
}

/** Serialises a record for the keychain. */
export function encodeRecord(record: PinRecord): Uint8Array {
  const json =
    record.state === 'sealed'
      ? {
          format: FORMAT,
          v: 1,
          state: 'sealed',
          pinDisabled: record.pinDisabled,
          failures: record.failures,
          lastFailureAt: record.lastFailureAt,
          sealed: Buffer.from(record.sealed).toString('base64'),
        }
      : { format: FORMAT, v: 1, state: 'wiped', wipedAt: record.wipedAt };
  return new TextEncoder().encode(JSON.stringify(json));
}

/**
 * Parses a record read from the keychain (untrusted bytes: validated here).
 * @throws {KeychainError} 'corrupt' when it is not a valid record
 */
export function decodeRecord(bytes: Uint8Array): PinRecord {
  const r = parseRecord(bytes, RecordSchema);
  if (r.state === 'wiped') return { state: 'wiped', wipedAt: r.wipedAt };
  const sealed = Buffer.from(r.sealed, 'base64');
  return {
    state: 'sealed',
    pinDisabled: r.pinDisabled,
    failures: r.failures,
    lastFailureAt: r.lastFailureAt,
    sealed: new Uint8Array(sealed.buffer, sealed.byteOffset, sealed.byteLength),
  };
}

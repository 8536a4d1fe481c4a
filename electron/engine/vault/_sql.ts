/**
 * Internals shared by the repositories: a per-connection prepared-statement cache,
 * row validation at the disk edge, and small column converters.
 * @module
 */
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { VaultError } from './errors.js';

export type Db = Database.Database;

/** Any Uint8Array (Buffer included); z.instanceof would narrow to Uint8Array<ArrayBuffer>. */
const anyBytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'must be a Uint8Array');

const cache = new WeakMap<Db, Map<string, Database.Statement>>();

/** The prepared statement for `sql` on `db` (prepared once per connection). */
export function stmt(db: Db, sql: string): Database.Statement {
  let perDb = cache.get(db);
  if (!perDb) cache.set(db, (perDb = new Map()));
  let s = perDb.get(sql);
  if (!s) perDb.set(sql, (s = db.prepare(sql)));
  return s;
}

/**
 * Validates a row read from disk: a damaged or hand-edited vault.db surfaces as a
 * typed error instead of a wrong value further in.
 * @throws {VaultError} 'corrupt-row'
 */
export function parseRow<T>(schema: z.ZodType<T>, row: unknown, table: string): T {
  const parsed = schema.safeParse(row);
  if (!parsed.success) throw new VaultError('corrupt-row', `a row of ${table} failed validation: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

export const parseRows = <T>(schema: z.ZodType<T>, rows: unknown[], table: string): T[] => rows.map((r) => parseRow(schema, r, table));

/** Column schemas. */
export const col = {
  text: z.string(),
  int: z.number().int(),
  ms: z.number().int().nonnegative(),
  bool: z.union([z.literal(0), z.literal(1)]).transform((v) => v === 1),
  /** better-sqlite3 returns Buffers; callers get plain Uint8Array views (no copy, no Buffer JSON shape). */
  blob: anyBytes.transform((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)),
};

/**
 * Validates caller input (trusted code, but a wrong value must never reach disk).
 * @throws {VaultError} 'invalid-input'
 */
export function checkInput<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new VaultError('invalid-input', `${what}: ${issue ? `${issue.path.join('.') || 'value'} ${issue.message}` : 'invalid'}`);
  }
  return parsed.data;
}

export const input = {
  id: z.string().min(1).max(200),
  userId: z.string().min(1).max(200),
  bytes: anyBytes,
  ms: z.number().int().nonnegative(),
  version: z.number().int().nonnegative(),
};

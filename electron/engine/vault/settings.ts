/**
 * Settings as JSON values under short keys. Nothing secret belongs here (it is
 * readable by anyone with the profile directory); the auto-lock time, the key
 * service URL, UI preferences do. PIN attempt state deliberately does NOT live
 * here (see session/record.ts).
 * @module
 */
import { z } from 'zod';
import { checkInput, type Db, stmt } from './_sql.js';
import { VaultError } from './errors.js';

const Key = z.string().regex(/^[a-z][a-zA-Z0-9._-]{0,127}$/);

/**
 * The stored value checked against `schema`, or undefined when unset.
 * @throws {VaultError} 'corrupt-row' when the stored value does not parse or fit the schema
 */
export function getSetting<T>(db: Db, key: string, schema: z.ZodType<T>): T | undefined {
  const row = stmt(db, 'SELECT value FROM settings WHERE key = ?').get(checkInput(Key, key, 'setting key')) as { value: string } | undefined;
  if (!row) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(row.value);
  } catch (e) {
    throw new VaultError('corrupt-row', `setting ${key} is not JSON`, { cause: e });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new VaultError('corrupt-row', `setting ${key} has an unexpected value`);
  return parsed.data;
}

/**
 * Stores any JSON-serialisable value (up to 64 KiB).
 * @throws {VaultError} 'invalid-input'
 */
export function setSetting(db: Db, key: string, value: unknown, now: number): void {
  const k = checkInput(Key, key, 'setting key');
  const json = value === undefined ? undefined : JSON.stringify(value);
  if (json === undefined || json.length > 64 * 1024) throw new VaultError('invalid-input', `setting ${k}: value must be JSON up to 64 KiB`);
  stmt(db, 'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at').run(
    k,
    json,
    now,
  );
}

export function deleteSetting(db: Db, key: string): boolean {
  return stmt(db, 'DELETE FROM settings WHERE key = ?').run(key).changes > 0;
}

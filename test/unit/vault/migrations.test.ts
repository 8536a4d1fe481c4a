/** Schema migrations and the connection's durability settings. */
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate, openVault, SCHEMA_VERSION, userVersion, VaultError } from '../../../electron/engine/vault/index.js';
import { tempVault, type TempVault } from './helpers.js';

let t: TempVault;
beforeEach(() => {
  t = tempVault();
});
afterEach(() => t.cleanup());

const schema = (db: Database.Database): unknown[] => db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name').all();

describe('migrations', () => {
  it('a fresh profile gets every table at the newest version', () => {
    expect(t.vault.migrated).toEqual({ from: 0, to: SCHEMA_VERSION });
    expect(userVersion(t.vault.db)).toBe(MIGRATIONS.length);
    const tables = t.vault.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).pluck().all();
    // Every table a migration step creates, and nothing else.
    const created = MIGRATIONS.flatMap((sql) => [...sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(\w+)/g)].map((m) => m[1]!)).sort();
    expect(tables).toEqual(created);
    expect(tables).toEqual(expect.arrayContaining(['audit', 'contacts', 'item_keys', 'item_revisions', 'items', 'messages', 'outbox', 'settings']));
  });

  it('re-opening is idempotent: same version, same schema, data kept', () => {
    const before = schema(t.vault.db);
    t.vault.db.prepare(`INSERT INTO settings (key, value, updated_at) VALUES ('x', '1', 0)`).run();
    const again = t.reopen();
    expect(again.migrated).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    expect(schema(again.db)).toEqual(before);
    expect(again.db.prepare('SELECT value FROM settings').pluck().get()).toBe('1');
    expect(migrate(again.db)).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
  });

  it('a failing step is rolled back entirely (no half-applied schema, version unchanged)', () => {
    const steps = [...MIGRATIONS, `CREATE TABLE extra (a INTEGER) STRICT; INSERT INTO extra VALUES ('not an integer');`];
    expect(() => migrate(t.vault.db, steps)).toThrow();
    expect(userVersion(t.vault.db)).toBe(SCHEMA_VERSION);
    expect(t.vault.db.prepare(`SELECT count(*) FROM sqlite_master WHERE name = 'extra'`).pluck().get()).toBe(0);
    // the next, correct step applies on top
    expect(migrate(t.vault.db, [...MIGRATIONS, 'CREATE TABLE extra (a INTEGER) STRICT;'])).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION + 1 });
  });

  it('refuses a database written by a newer build', () => {
    t.vault.db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    t.vault.close();
    expect(() => openVault(t.dir)).toThrow(VaultError);
    try {
      openVault(t.dir);
    } catch (e) {
      expect(e).toMatchObject({ kind: 'newer-schema' });
    }
    t.vault = openVault(t.dir, { migrations: [...MIGRATIONS, ...Array.from({ length: 5 }, () => 'SELECT 1;')] });
  });

  it('durability settings: WAL, synchronous=FULL, foreign keys, secure_delete; file 0600', () => {
    const db = t.vault.db;
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('secure_delete', { simple: true })).toBe(1);
    expect(statSync(t.vault.path).mode & 0o777).toBe(0o600);
    expect(statSync(t.dir).mode & 0o077).toBe(0);
  });
});

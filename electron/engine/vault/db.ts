/**
 * Opens the profile's local store, `<profileDir>/vault.db` (SQLite via
 * better-sqlite3), configured for durability first (design §5: the outbox must
 * never drop an entry):
 * - journal_mode=WAL: readers do not block the writer; a commit is one append;
 * - synchronous=FULL: the WAL is fsynced at every commit, so a committed
 *   transaction survives power loss, not only a process crash (NORMAL would not);
 * - foreign_keys=ON, trusted_schema=OFF, secure_delete=ON (deleted rows are
 *   overwritten with zeros instead of lingering in free pages);
 * - busy_timeout: the CLI and the app may share a profile.
 * The file (and so its -wal/-shm, which SQLite creates with the same mode) is 0600
 * in a 0700 directory. Then migrations run, and outbox entries a crash left
 * 'sending' go back to 'pending' (the key service dedupes on client id).
 * @module
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Db } from './_sql.js';
import { migrate, MIGRATIONS } from './migrations.js';
import { recoverInFlight } from './outbox.js';

/** File name of the store inside the profile directory. */
export const VAULT_FILE = 'vault.db';

export interface Vault {
  readonly db: Db;
  readonly path: string;
  /** Schema versions before and after opening. */
  readonly migrated: { from: number; to: number };
  /** Outbox entries moved back from 'sending' to 'pending' at open. */
  readonly recovered: number;
  close(): void;
}

export interface OpenVaultOptions {
  /** For tests of the migration runner. */
  migrations?: readonly string[];
  /** ms to wait for another process's write lock (default 5000). */
  busyTimeoutMs?: number;
}

/**
 * @throws {VaultError} 'newer-schema'
 * @throws SQLite / fs errors (unreadable file, not a database, ...)
 */
export function openVault(profileDir: string, options: OpenVaultOptions = {}): Vault {
  mkdirSync(profileDir, { recursive: true, mode: 0o700 });
  const file = path.join(path.resolve(profileDir), VAULT_FILE);
  closeSync(openSync(file, 'a', 0o600)); // create it 0600 before SQLite does with the umask
  if (process.platform !== 'win32') chmodSync(file, 0o600);
  const db = new Database(file);
  try {
    configure(db, options.busyTimeoutMs ?? 5000);
    const migrated = migrate(db, options.migrations ?? MIGRATIONS);
    const recovered = recoverInFlight(db);
    return { db, path: file, migrated, recovered, close: () => db.close() };
  } catch (e) {
    db.close();
    throw e;
  }
}

function configure(db: Db, busyTimeoutMs: number): void {
  db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') throw new Error(`vault.db: could not enable WAL (journal_mode=${String(mode)})`);
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('trusted_schema = OFF');
  db.pragma('secure_delete = ON');
}

/** `PRAGMA integrity_check` (slow on big files: for tests and a "repair" command). */
export function checkIntegrity(db: Db): string {
  const rows = db.pragma('integrity_check') as { integrity_check: string }[];
  return rows.map((r) => r.integrity_check).join('; ');
}

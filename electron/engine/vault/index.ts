/**
 * The local vault: one SQLite file per profile (db.ts) and a small typed
 * repository per table. Repositories take the connection as first argument and
 * validate rows read from disk; none of them sees plaintext or key material.
 * @module
 */
export { VaultError, type VaultErrorKind } from './errors.js';
export type { Db } from './_sql.js';
export { openVault, checkIntegrity, VAULT_FILE, type Vault, type OpenVaultOptions } from './db.js';
export { migrate, userVersion, MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
export * from './items.js';
export * from './item-keys.js';
export * from './messages.js';
export * from './outbox.js';
export * from './contacts.js';
export * from './settings.js';
export * from './audit.js';

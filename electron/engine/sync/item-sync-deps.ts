/**
 * What the vault items' sync (item-sync.ts and its push, pull and apply parts)
 * works with and reports, and the small request helpers they share.
 * @module
 */
import type { UnlockedKeys } from '../service/unlocked-keys.js';
import type { PublicIdentity } from '../service/profile.js';
import type { AuditAction, JsonValue } from '../vault/audit.js';
import type { Db } from '../vault/_sql.js';
import type { Auth } from './client.js';
import type { Connection } from './connection.js';
import { SyncError } from './errors.js';

/** Grants per PUT (the key service takes up to 100). */
export const GRANT_CHUNK = 100;

export interface ItemSyncDeps {
  db: Db;
  conn: Connection;
  now: () => number;
  identity: PublicIdentity;
  /** The unlocked keys, or null while locked (a key rotation meeting unsynced edits then waits). */
  keys: UnlockedKeys | null;
  record(action: AuditAction, target: string | null, result: string, details?: Record<string, JsonValue>): Promise<void>;
}

export interface ItemSyncReport {
  pushed: number;
  pulled: number;
  conflicts: number;
  grantsPushed: number;
  grantsRemoved: number;
  /** Writes or reads the key service refused (read-only, revoked). */
  denied: number;
  /** Shared items we lost access to in this sync. */
  revoked: number;
  /** Items left for a sync with the keys unlocked (a rotated key met unsynced edits). */
  deferred: number;
}

export const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
export const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
/** The key service's path of one item (and below it). */
export const itemPath = (identifier: string, rest = ''): string => `/v1/items/${encodeURIComponent(identifier)}${rest}`;

/** The key service refused (read-only, revoked). */
export function isDenied(e: unknown): e is SyncError {
  return e instanceof SyncError && e.kind === 'denied';
}
/** The key service does not have it (any more). */
export function isGone(e: unknown): boolean {
  return e instanceof SyncError && e.extra.status === 404;
}

/** One authenticated call through the connection. */
export const call = <T>(d: ItemSyncDeps, op: (auth: Auth) => Promise<T>): Promise<T> => d.conn.call(op);

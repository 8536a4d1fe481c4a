/**
 * Vault items and grants through the key service (docs/sharing.md): push what
 * changed here, pull our own items (other devices of the same identity) and
 * the items shared with us. The key service stores each item as an opaque
 * sync record (docs/format.md §Sync record) and the item key wrapped per
 * user; it never sees a key unwrapped, and it enforces roles itself (a
 * read-only grantee's PUT is a 403 there, not only here).
 *
 * Order of a push: grant removals first (a revoked user loses the key
 * service's copy before anything else moves), then items (a revoke's rotated
 * version), then grants (the new key wrapped for who keeps access).
 *
 * Versions: the key service counts its own versions; the record carries the
 * version the ciphertext is sealed for (bound as AAD). A PUT is based on the
 * service version last seen here; a 409 pulls the item and keeps the remote
 * revision as an open conflict beside the local one (design §5). Items with
 * an open conflict are not pushed until the user chooses.
 *
 * The parts: sync-record.ts (the record codec), item-sync-push.ts,
 * item-sync-pull.ts, item-sync-apply.ts (storing what the service has) and
 * item-key-reconcile.ts (one key for both revisions after a revoke).
 * @module
 */
import type { z } from 'zod';
import { AuditResponse } from '../../../shared/wire.js';
import type { Connection } from './connection.js';
import type { ItemSyncDeps, ItemSyncReport } from './item-sync-deps.js';
import { pull } from './item-sync-pull.js';
import { pushGrants, pushItems, pushRemovals } from './item-sync-push.js';

// Importers reach these through item-sync.ts; they live in the parts now.
export type { ItemSyncDeps, ItemSyncReport } from './item-sync-deps.js';
export { decodeSyncRecord, encodeSyncRecord } from './sync-record.js';

/** One push and one pull. Transient failures (offline, 5xx, 429) stop it and are thrown. @throws {SyncError} */
export async function syncItems(d: ItemSyncDeps): Promise<ItemSyncReport> {
  const report: ItemSyncReport = { pushed: 0, pulled: 0, conflicts: 0, grantsPushed: 0, grantsRemoved: 0, denied: 0, revoked: 0, deferred: 0 };
  await pushRemovals(d, report);
  await pushItems(d, report);
  await pushGrants(d, report);
  await pull(d, report);
  return report;
}

/** GET /v1/audit?identifier=: what the key service logged about our item, whoever asked. @throws {SyncError} */
export async function itemServiceLog(conn: Connection, identifier: string, limit = 1000): Promise<z.infer<typeof AuditResponse>['entries']> {
  const r = await conn.call((auth) => conn.client.request('GET', `/v1/audit?identifier=${encodeURIComponent(identifier)}&limit=${limit}`, { auth, schema: AuditResponse }));
  return r!.entries;
}

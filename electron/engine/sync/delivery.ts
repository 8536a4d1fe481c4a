/**
 * Delivery receipts: "delivered" means the recipient's device has fetched the
 * message from the key service (a read past its MessageId acknowledges it,
 * docs/api.md). After each flush the sync asks the key service about sent
 * messages not yet known delivered, a bounded batch at a time, the least
 * recently asked first (so old undelivered messages never starve new ones),
 * and records message_info.delivered_at.
 * @module
 */
import type { Db } from '../vault/_sql.js';
import { dueSentReceipts, recordDeliveries, sentReceiptsOf } from '../vault/sync-store.js';
import type { Connection } from './connection.js';

/** Receipts asked per sync (the key service takes up to 500 per request). */
export const DELIVERY_BATCH = 500;

export interface DeliveryDeps {
  db: Db;
  conn: Connection;
  now: () => number;
  limit?: number;
  /** Ask about these sent messages (a `delivered` stream event names them) instead of the due batch. */
  clientIds?: readonly string[];
}

/** Asks about one batch of sent, undelivered messages. Returns how many became delivered. @throws {SyncError} */
export async function checkDeliveries(d: DeliveryDeps): Promise<number> {
  const limit = Math.max(1, Math.min(d.limit ?? DELIVERY_BATCH, DELIVERY_BATCH));
  const asked = d.clientIds ? sentReceiptsOf(d.db, d.clientIds.slice(0, limit)) : dueSentReceipts(d.db, limit);
  if (asked.length === 0) return 0;
  const delivered = await d.conn.call((auth) => d.conn.client.delivered(auth, asked.map((r) => ({ token: r.inbox, MessageId: r.remoteId }))));
  const hit = new Set(delivered.map((x) => `${x.token}\n${x.MessageId}`));
  const clientIds = new Set(asked.filter((r) => hit.has(`${r.inbox}\n${r.remoteId}`)).map((r) => r.clientId));
  recordDeliveries(d.db, asked, clientIds, d.now());
  return clientIds.size;
}

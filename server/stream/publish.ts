/**
 * What the routes raise on the push stream, after their write succeeded
 * (docs/api.md "Push stream", events table). Publishing never fails a
 * request and never reads the database: the routes pass what they already
 * know (the send passes the owner from the key row it read anyway).
 */
import { createHash } from 'node:crypto';
import type { EventBus } from './bus.js';
import type { AckedMessage } from '../store/types.js';

/** clientIds per delivered event (the wire's maximum). */
const DELIVERED_PER_EVENT = 100;
/** And their bytes, so a NOTIFY payload (< 8000 bytes) always holds one event: clientIds are at most 128 characters. */
const DELIVERED_BYTES_PER_EVENT = 6000;

/** The inbox's short name on the stream: the first 16 hex digits of SHA-256(token). */
export function inboxTag(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}

/** A message was stored in `token`'s inbox: its owner's devices pull. */
export function publishMessage(bus: EventBus, appId: string, ownerUserId: string | null, token: string, messageId: number): void {
  if (ownerUserId === null) return; // a key made with a client key belongs to no user: nobody to tell
  bus.publish({ appId, users: [ownerUserId] }, { type: 'message', inbox: inboxTag(token), messageId });
}

/** An inbox read acknowledged messages: each sender device hears its clientIds, in bounded events. */
export function publishDelivered(bus: EventBus, appId: string, acked: readonly AckedMessage[]): void {
  const bySender = new Map<string, string[]>();
  for (const m of acked) {
    if (!m.sender.startsWith('device:')) continue; // client-key and server-key sends have no device to tell
    const deviceId = m.sender.slice('device:'.length);
    let ids = bySender.get(deviceId);
    if (!ids) bySender.set(deviceId, (ids = []));
    ids.push(m.clientId);
  }
  for (const [deviceId, ids] of bySender) {
    let chunk: string[] = [];
    let bytes = 0;
    for (const id of ids) {
      if (chunk.length === DELIVERED_PER_EVENT || bytes + id.length + 3 > DELIVERED_BYTES_PER_EVENT) {
        bus.publish({ appId, devices: [deviceId] }, { type: 'delivered', clientIds: chunk });
        chunk = [];
        bytes = 0;
      }
      chunk.push(id);
      bytes += id.length + 3;
    }
    if (chunk.length > 0) bus.publish({ appId, devices: [deviceId] }, { type: 'delivered', clientIds: chunk });
  }
}

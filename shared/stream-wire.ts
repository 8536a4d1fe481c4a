import { z } from 'zod';

/**
 * The key service's push stream (`GET /v1/stream`, a WebSocket; docs/api.md
 * "Push stream"). It carries no content, only what a device should pull now:
 * the pull by cursor, the outbox and exactly-once stay the source of truth, so
 * a lost event costs latency, never data.
 *
 * Server -> device: one JSON text frame per event. Device -> server: nothing but
 * WebSocket pings/pongs (any data frame closes the stream with `protocol`).
 */

/** Short opaque name of an inbox: the first 16 hex digits of SHA-256(inbox token). */
export const InboxTag = z.string().regex(/^[0-9a-f]{16}$/);

export const StreamEvent = z.discriminatedUnion('type', [
  /** First frame after the upgrade: who the stream is for and how often the server pings. */
  z.object({ type: z.literal('hello'), deviceId: z.string(), heartbeatMs: z.number().int().positive() }),
  /** A message was stored in an inbox of this user: pull it. */
  z.object({ type: z.literal('message'), inbox: InboxTag, messageId: z.number().int().positive() }),
  /** A recipient's device pulled messages this device sent (their clientIds, at most 100 per event). */
  z.object({ type: z.literal('delivered'), clientIds: z.array(z.string()).max(100) }),
  /** Vault sync: an item was shared with this user, access was revoked, or an item this user can read changed. */
  z.object({ type: z.literal('grant'), item: z.string() }),
  z.object({ type: z.literal('revoke'), item: z.string() }),
  z.object({ type: z.literal('item'), item: z.string() }),
  /** A user of this app published a signed key change: refresh that contact if it is one. */
  z.object({ type: z.literal('key-change'), userId: z.string() }),
  /** A device-link request for this user is waiting (or moved on). */
  z.object({ type: z.literal('link'), linkId: z.string() }),
  /** A device of this user was revoked; when it is this device, the stream closes with 4403 next. */
  z.object({ type: z.literal('device-revoked'), deviceId: z.string() }),
  /** A connected app's request for this user's approval arrived or was decided: pull the pending list. */
  z.object({ type: z.literal('approval'), requestId: z.string() }),
]);
export type StreamEvent = z.infer<typeof StreamEvent>;
export type StreamEventType = StreamEvent['type'];

/**
 * Close codes (4000-4999 are the application's). A failed upgrade (no, bad or
 * expired credentials; another app's token; too many connections) is refused
 * before the WebSocket opens with the service's usual HTTP error (401, 403, 429)
 * and error shape; these codes close an open stream.
 */
export const StreamClose = {
  /** The server is shutting down or restarting: reconnect with backoff. */
  goingAway: 1001,
  /** The client sent a data frame. */
  protocol: 1008,
  /** The device's credentials are no longer valid. */
  unauthorized: 4401,
  /** The device was revoked: do not reconnect. */
  deviceRevoked: 4403,
  /** The client did not read fast enough (send buffer over its bound). */
  slowConsumer: 4408,
  /** Over the per-device or per-IP connection limit. */
  tooManyConnections: 4429,
} as const;

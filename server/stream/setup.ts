/**
 * Building the push stream's parts for one server instance: the event bus the
 * store kind calls for, and the registry of open streams subscribed to it.
 */
import type { StreamOptions } from '../config.js';
import type { Store } from '../store/types.js';
import { LocalEventBus, type EventBus } from './bus.js';
import { PgEventBus } from './pg-bus.js';
import { StreamRegistry, type DeviceStatus } from './registry.js';

export type ErrorReport = (error: unknown, what: string) => void;

/**
 * SQLite (one instance): in-process. PostgreSQL: LISTEN/NOTIFY on a dedicated
 * connection to `databaseUrl` (default: the store's own URL).
 * @throws the listener's first connection error
 */
export async function openEventBus(store: Store, databaseUrl: string | undefined, report: ErrorReport): Promise<EventBus> {
  if (store.kind !== 'postgres') return new LocalEventBus((error) => report(error, 'stream subscriber failed'));
  const url = databaseUrl ?? (store as Store & { url?: string }).url;
  if (!url) throw new Error('the PostgreSQL event bus needs the database URL');
  const bus = new PgEventBus({ url, onError: report });
  await bus.start();
  return bus;
}

/** Whether a stream's device may stay connected: read like authentication reads it (cached / batched by the stores). */
export async function deviceStatus(store: Store, appId: string, deviceId: string, userId: string): Promise<DeviceStatus> {
  const device = await store.deviceAuth(appId, deviceId);
  if (!device || device.userId !== userId || device.appRevokedAt !== null) return 'unauthorized';
  return device.revokedAt !== null ? 'revoked' : 'ok';
}

export function createStreamRegistry(store: Store, options: StreamOptions, bus: EventBus, report: ErrorReport): StreamRegistry {
  const registry = new StreamRegistry(options, (appId, deviceId, userId) => deviceStatus(store, appId, deviceId, userId), report);
  bus.subscribe((message) => registry.deliver(message));
  return registry;
}

/**
 * The key service as a library: startServer() for the CLI, the tests, the
 * benchmark and the desktop app's `npm start` (which runs a local key service
 * in-process or as a child).
 *
 *   const ks = await startServer({ port: 0, db: '/path/keyservice.db' });
 *   const { appId, serverKey, clientKey } = await ks.admin.createApp({ name: 'desktop' });
 *   // ... fetch(`${ks.url}/v1/...`)
 *   await ks.close();
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Admin, loadPepper } from './admin.js';
import { buildApp } from './app.js';
import { AuditLog } from './audit.js';
import { resolveOptions, type ResolvedOptions, type ServerOptions } from './config.js';
import type { ServerContext } from './context.js';
import { JwtVerifier } from './auth/jwt.js';
import { VerifiedSecretCache, keyedHash } from './crypto/secrets.js';
import { BoundedMap } from './lru.js';
import { RateLimiter } from './rate-limit.js';
import { openStore } from './store/index.js';
import type { Store } from './store/types.js';
import { LocalEventBus, type EventBus } from './stream/bus.js';
import type { StreamRegistry } from './stream/registry.js';
import { createStreamRegistry, openEventBus, type ErrorReport } from './stream/setup.js';

export type { ServerOptions, RateLimitOptions, LogOptions, StreamOptions } from './config.js';
export { DEFAULT_STREAM } from './config.js';
export type { EventBus, Audience } from './stream/bus.js';
export type { StreamRegistry } from './stream/registry.js';
export { inboxTag } from './stream/publish.js';
export type { CreatedApp, CreateAppInput } from './admin.js';
export type { Store, StoreKind } from './store/types.js';
export { Admin, AdminError } from './admin.js';
export { openStore } from './store/index.js';

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:8787, https://… with `tls` (no trailing slash). */
  url: string;
  host: string;
  port: number;
  store: Store;
  /** Create apps, list/revoke apps and devices, verify the audit chain. */
  admin: Admin;
  /** The Fastify instance (for inject() in tests). */
  app: FastifyInstance;
  /** Push-stream events (in-process for SQLite, LISTEN/NOTIFY for PostgreSQL). */
  events: EventBus;
  /** This instance's open push streams: `streams.size` counts them. */
  streams: StreamRegistry;
  /** Stops listening, finishes in-flight requests, closes the store (unless it was passed in). */
  close(): Promise<void>;
}

/**
 * Builds the per-instance context: secrets from options or the database.
 * `events` defaults to an in-process bus; `report` receives the push stream's background errors.
 */
export async function createContext(store: Store, options: ResolvedOptions, jwtSecret?: string, events: EventBus = new LocalEventBus(), report: ErrorReport = () => undefined): Promise<ServerContext> {
  const pepper = await loadPepper(store);
  const jwt = jwtSecret
    ? Buffer.from(jwtSecret, 'utf8')
    : Buffer.from(await store.getOrCreateSecret('jwt', () => randomBytes(32).toString('base64')), 'base64');
  const tokenHashes = new BoundedMap<string, string>(10_000);
  return {
    store,
    options,
    pepper,
    jwtSecret: jwt,
    jwtVerifier: new JwtVerifier(jwt),
    tokenHash: (token) => {
      let hash = tokenHashes.get(token);
      if (hash === undefined) {
        hash = keyedHash(pepper, token);
        tokenHashes.set(token, hash);
      }
      return hash;
    },
    verified: new VerifiedSecretCache(),
    rateLimiter: new RateLimiter(store, options.rateLimit),
    audit: new AuditLog(store),
    events,
    streams: createStreamRegistry(store, options.stream, events, report),
  };
}

/**
 * Opens the store (SQLite file `db`, default ./sealpost-keyservice.db, or
 * PostgreSQL at `databaseUrl`), migrates it, and listens on host:port.
 * @throws {RangeError} bad options; errors from the database or listen()
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const resolved = resolveOptions(options);
  const store = options.store ?? (await openStore(options));
  let events: EventBus | null = null;
  try {
    // Background errors of the stream (a dropped LISTEN connection, a failed NOTIFY) go to the request log once it exists.
    let log: FastifyInstance['log'] | null = null;
    const report: ErrorReport = (err, what) => log?.warn({ err }, what);
    events = await openEventBus(store, options.databaseUrl, report);
    const ctx = await createContext(store, resolved, options.jwtSecret, events, report);
    const app = await buildApp(ctx);
    log = app.log;
    await app.listen({ host: resolved.host, port: resolved.port });
    const { port } = app.server.address() as AddressInfo;
    const hostForUrl = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
    const bus = events;
    return {
      url: `${resolved.tls ? 'https' : 'http'}://${hostForUrl}:${port}`,
      host: resolved.host,
      port,
      store,
      admin: new Admin(store, ctx.pepper, bus),
      app,
      events: bus,
      streams: ctx.streams,
      close: async () => {
        // Streams close with 1001 in the app's preClose hook (app.ts), before the listener stops.
        await app.close();
        await bus.close();
        if (!options.store) await store.close();
      },
    };
  } catch (error) {
    await events?.close().catch(() => undefined);
    if (!options.store) await store.close().catch(() => undefined);
    throw error;
  }
}

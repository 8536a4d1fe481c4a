/**
 * The open push streams of this instance (docs/api.md "Push stream"): who is
 * connected, the limits, heartbeats, slow readers, periodic re-checks and
 * shutdown. It subscribes to the event bus and hands each event to the
 * streams it is addressed to.
 *
 * - Limits (per instance): per client address, refused before the upgrade
 *   (reserveAddress -> 429); per device, the device's oldest stream is closed
 *   with 4429 when a new one goes over, so a client that restarted is never
 *   locked out by its own half-open streams until the heartbeat notices them.
 * - Heartbeat: one timer pings every stream; one that did not answer the
 *   previous ping is terminated.
 * - A stream whose unsent bytes (ws bufferedAmount) go over the bound is closed
 *   with 4408 and forgotten at once, so a reader that stopped reading costs at
 *   most the bound and never delays the others.
 * - Re-check: revocation arrives as an event, but a lost NOTIFY (or a revoke
 *   from another process on a shared SQLite file) must not keep a stream open
 *   forever, so every stream's device is looked up again periodically, and
 *   the credential's expiry is enforced then too.
 */
import type { WebSocket } from 'ws';
import { StreamClose, type StreamEvent } from '../../shared/stream-wire.js';
import type { StreamOptions } from '../config.js';
import { ApiError } from '../http/errors.js';
import type { BusMessage } from './bus.js';

/** What the periodic re-check found for a device. */
export type DeviceStatus = 'ok' | 'revoked' | 'unauthorized';

export interface StreamIdentity {
  appId: string;
  deviceId: string;
  userId: string;
  ip: string;
  /** When the credential the stream was opened with expires (ms since the epoch). */
  expiresAt: number;
}

interface Conn extends StreamIdentity {
  ws: WebSocket;
  alive: boolean;
  closing: boolean;
}

/** How long shutdown waits for clients to answer the 1001 close before dropping them. */
const SHUTDOWN_WAIT_MS = 3000;

const deviceKey = (appId: string, deviceId: string) => `${appId}\u0000${deviceId}`;
const userKey = (appId: string, userId: string) => `${appId}\u0000${userId}`;

function addTo<K>(map: Map<K, Set<Conn>>, key: K, conn: Conn): Set<Conn> {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(conn);
  return set;
}

function removeFrom<K>(map: Map<K, Set<Conn>>, key: K, conn: Conn): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(conn);
  if (set.size === 0) map.delete(key);
}

export class StreamRegistry {
  private readonly all = new Set<Conn>();
  private readonly byDevice = new Map<string, Set<Conn>>();
  private readonly byUser = new Map<string, Set<Conn>>();
  private readonly byApp = new Map<string, Set<Conn>>();
  /** Open streams and upgrades in progress per client address. */
  private readonly perAddress = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private shuttingDown = false;
  /** Streams closed by reason, for operators and tests. */
  readonly closed = { slowConsumer: 0, heartbeat: 0, revoked: 0, unauthorized: 0, replaced: 0, protocol: 0 };

  constructor(
    readonly options: StreamOptions,
    private readonly checkDevice: (appId: string, deviceId: string, userId: string) => Promise<DeviceStatus>,
    private readonly onError: (error: unknown, what: string) => void = () => undefined,
  ) {
    const heartbeat = setInterval(() => this.heartbeat(), options.heartbeatSeconds * 1000);
    const recheck = setInterval(() => void this.recheck(), options.recheckSeconds * 1000);
    heartbeat.unref();
    recheck.unref();
    this.timers.push(heartbeat, recheck);
  }

  /** Open streams on this instance. */
  get size(): number {
    return this.all.size;
  }

  countForDevice(appId: string, deviceId: string): number {
    return this.byDevice.get(deviceKey(appId, deviceId))?.size ?? 0;
  }

  /**
   * Holds one of the address's stream slots for an upgrade about to happen.
   * @returns release (idempotent): call when the socket closes, upgraded or not
   * @throws {ApiError} 429 over the per-address limit
   */
  reserveAddress(ip: string): () => void {
    const held = this.perAddress.get(ip) ?? 0;
    if (held >= this.options.perIp) {
      const retry = String(this.options.heartbeatSeconds);
      throw new ApiError(429, 'too_many_streams', `too many open streams from this address (at most ${this.options.perIp}): close one or retry later`, { retryAfter: this.options.heartbeatSeconds }, { 'Retry-After': retry });
    }
    this.perAddress.set(ip, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.perAddress.get(ip) ?? 1) - 1;
      if (n <= 0) this.perAddress.delete(ip);
      else this.perAddress.set(ip, n);
    };
  }

  /** Registers an open stream and sends it `first` (the hello); over the device's limit its oldest stream is closed with 4429. */
  add(ws: WebSocket, who: StreamIdentity, first: StreamEvent): void {
    if (this.shuttingDown) {
      ws.close(StreamClose.goingAway, 'the server is shutting down: reconnect later');
      return;
    }
    const conn: Conn = { ...who, ws, alive: true, closing: false };
    this.all.add(conn);
    const devices = addTo(this.byDevice, deviceKey(who.appId, who.deviceId), conn);
    addTo(this.byUser, userKey(who.appId, who.userId), conn);
    addTo(this.byApp, who.appId, conn);
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('message', () => {
      this.closed.protocol += 1;
      this.close(conn, StreamClose.protocol, 'the stream accepts no data frames');
    });
    ws.on('close', () => this.forget(conn));
    this.send(conn, JSON.stringify(first));
    if (devices.size > this.options.perDevice) {
      const oldest = devices.values().next().value!;
      this.closed.replaced += 1;
      this.close(oldest, StreamClose.tooManyConnections, `a newer stream of this device replaced this one (at most ${this.options.perDevice} per device)`);
    }
  }

  /** The bus subscriber: hands the event to every open stream it is addressed to. */
  deliver(message: BusMessage): void {
    const { to, event } = message;
    const targets = new Set<Conn>();
    if (to.everyone) {
      for (const c of this.byApp.get(to.appId) ?? []) targets.add(c);
    } else {
      for (const u of to.users ?? []) for (const c of this.byUser.get(userKey(to.appId, u)) ?? []) targets.add(c);
      for (const d of to.devices ?? []) for (const c of this.byDevice.get(deviceKey(to.appId, d)) ?? []) targets.add(c);
    }
    if (targets.size > 0) {
      const data = JSON.stringify(event);
      for (const c of targets) this.send(c, data);
    }
    // The revoked device hears why (above, as one of its user's devices), then its streams close everywhere.
    if (event.type === 'device-revoked') this.closeDevice(to.appId, event.deviceId, StreamClose.deviceRevoked, 'this device was revoked');
  }

  closeDevice(appId: string, deviceId: string, code: number, reason: string): void {
    for (const c of [...(this.byDevice.get(deviceKey(appId, deviceId)) ?? [])]) {
      if (code === StreamClose.deviceRevoked) this.closed.revoked += 1;
      this.close(c, code, reason);
    }
  }

  /** Closes every stream with 1001 and waits (briefly) for them to go; later upgrades are closed at once. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const t of this.timers) clearInterval(t);
    const sockets = [...this.all].map((c) => c.ws);
    const gone = sockets.map((ws) => new Promise<void>((resolve) => (ws.readyState === ws.CLOSED ? resolve() : ws.once('close', () => resolve()))));
    for (const c of [...this.all]) this.close(c, StreamClose.goingAway, 'the server is shutting down: reconnect later');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(gone), new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_WAIT_MS)))]);
    clearTimeout(timer);
    for (const ws of sockets) if (ws.readyState !== ws.CLOSED) ws.terminate();
  }

  private send(conn: Conn, data: string): void {
    if (conn.closing) return;
    try {
      conn.ws.send(data);
    } catch (error) {
      this.onError(error, 'stream send failed');
      this.close(conn, StreamClose.goingAway, 'send failed');
      return;
    }
    if (conn.ws.bufferedAmount > this.options.sendBufferBytes) {
      this.closed.slowConsumer += 1;
      this.close(conn, StreamClose.slowConsumer, 'the client did not read its events: reconnect and pull');
    }
  }

  /** Starts the close handshake and forgets the stream at once (ws drops the socket if the client never answers). */
  private close(conn: Conn, code: number, reason: string): void {
    if (conn.closing) return;
    conn.closing = true;
    this.forget(conn);
    try {
      conn.ws.close(code, reason);
    } catch {
      conn.ws.terminate();
    }
  }

  private forget(conn: Conn): void {
    if (!this.all.delete(conn)) return;
    removeFrom(this.byDevice, deviceKey(conn.appId, conn.deviceId), conn);
    removeFrom(this.byUser, userKey(conn.appId, conn.userId), conn);
    removeFrom(this.byApp, conn.appId, conn);
  }

  private heartbeat(): void {
    for (const conn of [...this.all]) {
      if (!conn.alive) {
        this.closed.heartbeat += 1;
        this.forget(conn);
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      try {
        conn.ws.ping();
      } catch (error) {
        this.onError(error, 'stream ping failed');
      }
    }
  }

  /** Expired credentials, then one device lookup per connected device (batched by the PostgreSQL store). */
  async recheck(now = Date.now()): Promise<void> {
    const devices = new Map<string, Conn>();
    for (const conn of [...this.all]) {
      if (conn.expiresAt <= now) {
        this.closed.unauthorized += 1;
        this.close(conn, StreamClose.unauthorized, 'the credential expired: reconnect with a new one');
      } else {
        devices.set(deviceKey(conn.appId, conn.deviceId), conn);
      }
    }
    await Promise.all(
      [...devices.values()].map(async (c) => {
        let status: DeviceStatus;
        try {
          status = await this.checkDevice(c.appId, c.deviceId, c.userId);
        } catch (error) {
          this.onError(error, 'stream re-check failed');
          return;
        }
        if (status === 'revoked') this.closeDevice(c.appId, c.deviceId, StreamClose.deviceRevoked, 'this device was revoked');
        else if (status === 'unauthorized') {
          for (const conn of [...(this.byDevice.get(deviceKey(c.appId, c.deviceId)) ?? [])]) {
            this.closed.unauthorized += 1;
            this.close(conn, StreamClose.unauthorized, 'the credential is no longer valid');
          }
        }
      }),
    );
  }
}

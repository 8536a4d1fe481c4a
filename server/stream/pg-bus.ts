/**
 * The event bus across key-service instances on one PostgreSQL (docs/api.md
 * "Push stream"): LISTEN/NOTIFY on one channel.
 *
 * - One dedicated connection per instance LISTENs (not a pool connection: a
 *   pooled client would lose its LISTEN when handed back). It reconnects with
 *   exponential backoff and jitter when it drops; notifications sent while it
 *   was down are lost, which costs latency only (clients pull by cursor).
 * - publish() hands the event to this instance's subscribers at once, then
 *   sends it with pg_notify on the same connection. The routes publish after
 *   their write committed, so a receiver that pulls finds the data. The events
 *   of one event-loop turn are packed into as few NOTIFY payloads as fit under
 *   PostgreSQL's 8000-byte limit.
 * - Every instance receives its own NOTIFYs too; they carry the instance id
 *   and are skipped (the local delivery already happened).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { StreamEvent } from '../../shared/stream-wire.js';
import { BusMessageSchema, dispatch, type Audience, type BusListener, type BusMessage, type EventBus } from './bus.js';

export const STREAM_CHANNEL = 'sealpost_stream';
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
export const MAX_PAYLOAD_BYTES = 7999;
/** Messages kept while the connection is down; older ones are dropped first (they are hints). */
const MAX_QUEUED = 10_000;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 30_000;

export interface PgEventBusOptions {
  url: string;
  /** false: publish only, no LISTEN (the admin CLI's revoke-device). Default true. */
  listen?: boolean;
  onError?: (error: unknown, what: string) => void;
}

/** Packs messages into NOTIFY payloads `{"o": instanceId, "m": [...]}` under the size limit; a message too big on its own is dropped. */
export function packPayloads(instanceId: string, messages: readonly BusMessage[], onTooBig: (message: BusMessage) => void): string[] {
  const head = `{"o":${JSON.stringify(instanceId)},"m":[`;
  const payloads: string[] = [];
  let parts: string[] = [];
  let size = Buffer.byteLength(head) + 2;
  for (const message of messages) {
    const json = JSON.stringify(message);
    const bytes = Buffer.byteLength(json) + 1;
    if (Buffer.byteLength(head) + 2 + bytes > MAX_PAYLOAD_BYTES) {
      onTooBig(message);
      continue;
    }
    if (size + bytes > MAX_PAYLOAD_BYTES) {
      payloads.push(`${head}${parts.join(',')}]}`);
      parts = [];
      size = Buffer.byteLength(head) + 2;
    }
    parts.push(json);
    size += bytes;
  }
  if (parts.length > 0) payloads.push(`${head}${parts.join(',')}]}`);
  return payloads;
}

/** The messages of a payload from another instance; null for our own echo or anything malformed. */
export function unpackPayload(instanceId: string, payload: string): BusMessage[] | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { o, m } = parsed as { o?: unknown; m?: unknown };
  if (o === instanceId || !Array.isArray(m)) return null;
  const out: BusMessage[] = [];
  for (const item of m) {
    const checked = BusMessageSchema.safeParse(item);
    if (checked.success) out.push(checked.data as BusMessage);
  }
  return out;
}

export class PgEventBus implements EventBus {
  /** Tells this instance's NOTIFYs from the others'. */
  readonly instanceId = randomBytes(8).toString('hex');
  private readonly listeners = new Set<BusListener>();
  private readonly listen: boolean;
  private readonly onError: (error: unknown, what: string) => void;
  private client: pg.Client | null = null;
  private connecting: Promise<void> | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private queue: BusMessage[] = [];
  private flushing: Promise<void> | null = null;
  private closed = false;
  /** Backend process id of the current connection (null while down): tests terminate it. */
  listenerPid: number | null = null;
  /** Successful connects so far (1 + reconnects). */
  connects = 0;
  /** NOTIFY payloads that could not be sent (connection lost mid-send). */
  dropped = 0;

  constructor(private readonly options: PgEventBusOptions) {
    this.listen = options.listen ?? true;
    this.onError = options.onError ?? (() => undefined);
  }

  /** Connects (and LISTENs). @throws the first connection's error: a database unreachable at start is a start failure. */
  async start(): Promise<void> {
    await this.connect();
  }

  publish(to: Audience, event: StreamEvent): void {
    if (this.closed) return;
    const message = { to, event };
    dispatch(this.listeners, message, (error) => this.onError(error, 'stream subscriber failed'));
    this.queue.push(message);
    if (this.queue.length > MAX_QUEUED) this.queue.splice(0, this.queue.length - MAX_QUEUED);
    if (!this.flushing) this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
  }

  subscribe(listener: BusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Publish-only buses (the CLI) exist to send: let the queue go out first.
    if (this.flushing) await this.flushing;
    this.closed = true;
    this.listeners.clear();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.connecting) await this.connecting.catch(() => undefined);
    const client = this.client;
    this.client = null;
    this.listenerPid = null;
    if (client) await client.end().catch(() => undefined);
  }

  private async flush(): Promise<void> {
    try {
      if (!this.client && !this.closed) {
        if (this.listen) return; // down: the reconnect flushes what is queued
        await this.connect();
      }
      const client = this.client;
      if (!client) return;
      const batch = this.queue;
      this.queue = [];
      const payloads = packPayloads(this.instanceId, batch, () => this.onError(new RangeError('a stream event is larger than a NOTIFY payload'), 'stream event dropped'));
      for (const payload of payloads) {
        try {
          await client.query('SELECT pg_notify($1, $2)', [STREAM_CHANNEL, payload]);
        } catch (error) {
          this.dropped += 1;
          this.onError(error, 'stream NOTIFY failed');
        }
      }
    } catch (error) {
      this.onError(error, 'stream NOTIFY failed');
    } finally {
      this.flushing = null;
      if (this.queue.length > 0 && this.client && !this.closed) this.flushing = this.flush();
    }
  }

  private connect(): Promise<void> {
    if (!this.connecting) {
      this.connecting = this.openClient().finally(() => {
        this.connecting = null;
      });
    }
    return this.connecting;
  }

  private async openClient(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.url, keepAlive: true });
    const lost = (error?: unknown) => {
      if (this.client !== client) return;
      this.client = null;
      this.listenerPid = null;
      if (error) this.onError(error, 'stream listener connection lost');
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (n) => {
      if (n.channel !== STREAM_CHANNEL || !n.payload) return;
      const messages = unpackPayload(this.instanceId, n.payload);
      if (messages) for (const m of messages) dispatch(this.listeners, m, (error) => this.onError(error, 'stream subscriber failed'));
    });
    try {
      await client.connect();
      if (this.listen) await client.query(`LISTEN ${STREAM_CHANNEL}`);
      const pid = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      if (this.closed) {
        await client.end().catch(() => undefined);
        return;
      }
      this.client = client;
      this.listenerPid = pid.rows[0]?.pid ?? null;
      this.connects += 1;
      this.attempt = 0;
      if (this.queue.length > 0 && !this.flushing) this.flushing = this.flush();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer || !this.listen) return;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    this.attempt += 1;
    const delay = base / 2 + Math.random() * (base / 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect().catch((error: unknown) => {
        this.onError(error, 'stream listener reconnect failed');
        this.scheduleReconnect();
      });
    }, delay);
    this.reconnectTimer.unref();
  }
}

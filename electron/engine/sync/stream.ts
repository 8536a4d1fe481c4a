/**
 * The client of the key service's push stream (`GET /v1/stream`, a WebSocket;
 * wire format in shared/stream-wire.ts, docs/api.md "Push stream"). It keeps one
 * stream open while started and hands each valid event to `onEvent`; what to do
 * with an event (pull now) is the caller's (live.ts). Events carry no content:
 * a missed one costs latency, never data, because the pull by cursor still
 * finds everything.
 *
 * - Authenticates like the other device routes: a fresh agent token, or the
 *   device JWT (renewed once after a 401). A device with only the client key
 *   cannot open a stream: the stream is "unavailable" and the timer carries on.
 * - Reconnects with exponential backoff and full jitter (backoff.ts); a refused
 *   upgrade (401/403/429, 404 from a key service without the route) or a
 *   dropped stream both count as failures, a `hello` resets the count.
 * - Answers the server's pings (ws does it); no ping within twice the
 *   heartbeat the server announced in `hello` means the server or the path is
 *   dead: the socket is dropped and the stream reconnects.
 * - A revoked device (close 4403, HTTP 403 on the upgrade) stops reconnecting
 *   until start() is called again (the next unlock).
 * - wss trusts what the requests trust (tls-trust.ts: the public CAs plus the
 *   managed policy's trustedCertificates); a certificate that does not verify is
 *   the failure's reason in words, and the stream retries like after a drop.
 * @module
 */
import WebSocket from 'ws';
import { StreamClose, StreamEvent } from '../../../shared/stream-wire.js';
import type { Auth } from './client.js';
import { type BackoffPolicy, DEFAULT_BACKOFF, retryDelay } from './backoff.js';
import { certificateProblem, trustedCa, untrustedMessage } from './tls-trust.js';

/** Where the stream stands. `waiting`: between a failure and the next attempt. */
export type StreamPhase = 'off' | 'connecting' | 'live' | 'waiting' | 'unavailable' | 'revoked';

export interface StreamClientDeps {
  /** The key service's base URL (http(s)://host:port). */
  server: string;
  /** The device's credentials (Connection.auth); `renew` after a 401. */
  auth(renew: boolean): Promise<Auth>;
  onEvent(event: StreamEvent): void;
  /** Every phase change, with a reason for failures (never a secret). */
  onPhase(phase: StreamPhase, reason: string | null): void;
  backoff?: BackoffPolicy;
  /** Before the upgrade answers and `hello` arrives, ms (default 10 s). */
  connectTimeoutMs?: number;
  random?: () => number;
}

/** The WebSocket URL of a key service's stream. */
export function streamUrl(server: string): string {
  const url = new URL('/v1/stream', server.endsWith('/') ? server : `${server}/`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

function authHeaders(auth: Auth): Record<string, string> | null {
  if ('agent' in auth) return { authorization: `Bearer ${auth.agent()}` };
  if ('jwt' in auth) return { authorization: `Bearer ${auth.jwt}` };
  return null; // a client or server key is not a device credential
}

/** Seconds of a Retry-After header, as ms. */
function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const n = Number(Array.isArray(value) ? value[0] : value);
  return Number.isFinite(n) && n >= 0 ? Math.min(n, 3600) * 1000 : undefined;
}

export class StreamClient {
  private ws: WebSocket | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private failures = 0;
  private renew = false;
  private running = false;
  /** Bumped on every start/stop/reconnect so late callbacks of an old socket do nothing. */
  private generation = 0;
  private current: StreamPhase = 'off';

  constructor(private readonly d: StreamClientDeps) {}

  get phase(): StreamPhase {
    return this.current;
  }

  /** Opens the stream (and keeps it open) until stop(). Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.failures = 0;
    void this.connect();
  }

  /** Closes the stream and stops reconnecting. */
  stop(): void {
    this.running = false;
    this.generation++;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
    }
    this.setPhase('off', null);
  }

  private setPhase(phase: StreamPhase, reason: string | null): void {
    if (phase === this.current && phase !== 'waiting') return;
    this.current = phase;
    this.d.onPhase(phase, reason);
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.watchdog) clearTimeout(this.watchdog);
    this.retryTimer = this.watchdog = null;
  }

  private async connect(): Promise<void> {
    const gen = ++this.generation;
    this.setPhase('connecting', null);
    let headers: Record<string, string> | null;
    try {
      headers = authHeaders(await this.d.auth(this.renew));
    } catch (e) {
      if (gen === this.generation) this.retry(`credentials: ${e instanceof Error ? e.message : 'unavailable'}`);
      return;
    }
    if (gen !== this.generation || !this.running) return;
    if (!headers) {
      this.setPhase('unavailable', 'This device has only the client key, which cannot open a stream.');
      return;
    }
    const timeoutMs = this.d.connectTimeoutMs ?? 10_000;
    const ca = trustedCa(); // the managed policy's CAs besides the public ones (tls-trust.ts); null: ws's defaults
    const ws = new WebSocket(streamUrl(this.d.server), { headers, handshakeTimeout: timeoutMs, maxPayload: 64 * 1024, perMessageDeflate: false, ...(ca && { ca }) });
    this.ws = ws;
    // Until hello: a server that accepts but never greets is as dead as one that never answers.
    this.arm(gen, timeoutMs, 'no hello from the key service');
    let closedWith: string | null = null;
    let liveAt = 0;
    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      if (gen !== this.generation) return;
      this.drop(ws);
      if (status === 401) {
        this.renew = true;
        this.retry('the key service refused the credentials (401)');
      } else if (status === 403) this.revoked('the key service refused this device (403)');
      else if (status === 404) {
        this.failures = Math.max(this.failures, 8); // a key service without the stream: try again rarely
        this.retry('the key service has no push stream (404)');
      } else this.retry(`the key service refused the stream (${status})`, status === 429 ? retryAfterMs(res.headers['retry-after']) : undefined);
    });
    ws.on('message', (data, isBinary) => {
      if (gen !== this.generation || isBinary) return;
      let parsed: ReturnType<typeof StreamEvent.safeParse>;
      try {
        parsed = StreamEvent.safeParse(JSON.parse(data.toString()));
      } catch {
        return; // not JSON: ignored, like an event type this version does not know
      }
      if (!parsed.success) return;
      const event = parsed.data;
      if (event.type === 'hello') {
        this.failures = 0;
        this.renew = false;
        this.heartbeat = event.heartbeatMs;
        liveAt = Date.now();
        this.arm(gen, this.deadAfter(), 'no ping from the key service');
        this.setPhase('live', null);
      }
      this.d.onEvent(event);
    });
    ws.on('ping', () => {
      if (gen === this.generation && this.current === 'live') this.arm(gen, this.deadAfter(), 'no ping from the key service');
    });
    ws.on('error', (e) => {
      const problem = certificateProblem(e);
      closedWith ??= problem === null ? e.message : untrustedMessage(problem, this.d.server);
    });
    ws.on('close', (code, reason) => {
      if (gen !== this.generation) return;
      this.ws = null;
      const why = reason.toString().slice(0, 200) || closedWith || `closed (${code})`;
      if (code === StreamClose.deviceRevoked) return this.revoked(`this device was revoked: ${why}`);
      // The credential it was opened with expired (agent tokens live 10 min): open a new one
      // at once, without counting a failure; a second 4401 in a row renews the credentials.
      if (code === StreamClose.unauthorized && liveAt > 0 && Date.now() - liveAt > 5000) return void this.connect();
      if (code === StreamClose.unauthorized) this.renew = true;
      this.retry(why);
    });
  }

  private heartbeat = 30_000;

  /** Twice the announced heartbeat, plus slack for a busy machine. */
  private deadAfter(): number {
    return this.heartbeat * 2 + 1000;
  }

  private arm(gen: number, ms: number, why: string): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      if (gen !== this.generation || !this.ws) return;
      this.drop(this.ws);
      this.retry(why);
    }, ms);
    this.watchdog.unref();
  }

  /** Forgets a socket without waiting for its close handshake. */
  private drop(ws: WebSocket): void {
    this.generation++;
    if (this.ws === ws) this.ws = null;
    ws.removeAllListeners();
    ws.on('error', () => undefined);
    ws.terminate();
  }

  private revoked(reason: string): void {
    this.running = false;
    this.clearTimers();
    this.setPhase('revoked', reason);
  }

  private retry(reason: string, retryAfter?: number): void {
    this.clearTimers();
    if (!this.running) return;
    this.failures++;
    const delay = Math.max(50, retryDelay(this.failures, retryAfter, this.d.backoff ?? DEFAULT_BACKOFF, this.d.random));
    this.setPhase('waiting', reason);
    const gen = ++this.generation;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (gen === this.generation && this.running) void this.connect();
    }, delay);
    this.retryTimer.unref();
  }
}

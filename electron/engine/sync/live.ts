/**
 * Live delivery (docs/sync.md "Live delivery"): the push stream's events turned
 * into the pulls they ask for, and the stream's life tied to the profile's state.
 * The stream runs while the sync scheduler is started, the keys are unlocked and
 * the device is registered; the owner (engine.ts) calls update() when one of
 * these changes.
 *
 * Event -> action: `hello` (a new or re-opened stream: events may have been
 * missed) and `message` -> a sync at once (coalesced by the engine); `delivered`
 * -> a delivery check of those messages; `grant` / `revoke` / `item` -> the
 * items' sync; `key-change` -> that contact refreshed, if it is one; `link` ->
 * the UI is told; this device revoked -> the stream stops.
 * @module
 */
import type { StreamState } from '../../../shared/contract-events.js';
import type { StreamEvent } from '../../../shared/stream-wire.js';
import type { BackoffPolicy } from './backoff.js';
import type { Connection } from './connection.js';
import { StreamClient, type StreamPhase } from './stream.js';

export interface LiveDeps {
  connection(): Connection | null;
  deviceId(): string;
  /** A sync now (during a running one: exactly one more after it). */
  kick(): void;
  checkDelivered(clientIds: string[]): void;
  syncItems(): void;
  refreshContact(userId: string): void;
  link(): void;
  /** The UI-facing state changed. */
  onState(state: StreamState): void;
  backoff?: BackoffPolicy;
}

/** What the user is told: live, connecting, or the timer (refused, unavailable, between attempts). */
export function streamStateOf(phase: StreamPhase): StreamState {
  switch (phase) {
    case 'live':
      return 'live';
    case 'connecting':
      return 'connecting';
    case 'waiting':
    case 'unavailable':
      return 'polling';
    default:
      return 'off';
  }
}

export class LiveStream {
  private client: StreamClient | null = null;
  private conn: Connection | null = null;
  private phaseNow: StreamPhase = 'off';
  /** Why the stream is not live (a refusal, a drop, a revocation), or null. */
  reason: string | null = null;

  constructor(private readonly d: LiveDeps) {}

  get state(): StreamState {
    return streamStateOf(this.phaseNow);
  }

  get phase(): StreamPhase {
    return this.phaseNow;
  }

  /**
   * Opens the stream when `wanted` and registered (or keeps the one open for
   * the same connection), closes it otherwise. A revoked or unavailable stream
   * stays so until the next update after a stop (e.g. lock, unlock).
   */
  update(wanted: boolean): void {
    const conn = wanted ? this.d.connection() : null;
    if (conn && conn === this.conn && this.client) return;
    this.close();
    if (!conn) return;
    this.conn = conn;
    const client = new StreamClient({
      server: conn.registration.server,
      auth: (renew) => conn.streamAuth(renew),
      onEvent: (e) => this.route(e),
      onPhase: (phase, reason) => {
        if (this.client !== client) return;
        const before = this.state;
        this.phaseNow = phase;
        this.reason = phase === 'live' || phase === 'connecting' ? null : reason;
        if (this.state !== before || phase === 'revoked') this.d.onState(this.state);
      },
      ...(this.d.backoff && { backoff: this.d.backoff }),
    });
    this.client = client;
    client.start();
  }

  /** Closes the stream (lock, stop, a new registration). */
  close(): void {
    const client = this.client;
    this.client = null;
    this.conn = null;
    client?.stop();
    const before = this.state;
    this.phaseNow = 'off';
    if (before !== 'off') this.d.onState('off');
  }

  private route(e: StreamEvent): void {
    switch (e.type) {
      case 'hello':
      case 'message':
        return this.d.kick();
      case 'delivered':
        return this.d.checkDelivered(e.clientIds);
      case 'grant':
      case 'revoke':
      case 'item':
        return this.d.syncItems();
      case 'key-change':
        return this.d.refreshContact(e.userId);
      case 'link':
        return this.d.link();
      case 'device-revoked':
        // Ours: the server closes with 4403 next, which stops the stream. Another device: nothing to pull.
        return;
    }
  }
}

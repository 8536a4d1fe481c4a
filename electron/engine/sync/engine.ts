/**
 * One profile's sync: flush the outbox, pull the inbox, open what was pulled
 * (when the keys are unlocked), on a timer, on "sync now" and when the network
 * comes back. One sync runs at a time per process (a second caller joins the
 * running one); between processes sharing a profile, the outbox claim and the
 * pull transaction keep each entry and message single.
 *
 * Online state: true after a sync reached the key service, false after one
 * could not; while offline the timer backs off with full jitter (backoff.ts).
 *
 * Live delivery (live.ts): while the timer runs and the keys are unlocked, the
 * key service's push stream says when to sync; the timer then only checks
 * every `liveIntervalMs` (5 min), and goes back to `intervalMs` (60 s) when
 * the stream is refused, unavailable or dropped. Syncs asked for by the stream
 * coalesce: one asked for during a running sync runs once after it.
 * @module
 */
import type { EngineEvent, StreamState } from '../../../shared/contract-events.js';
import type { Keychain } from '../keychain/types.js';
import type { UnlockedKeys } from '../service/unlocked-keys.js';
import type { Db } from '../vault/_sql.js';
import { countRaw } from '../vault/sync-store.js';
import { type BackoffPolicy, DEFAULT_BACKOFF, retryDelay } from './backoff.js';
import { Connection } from './connection.js';
import { SyncError } from './errors.js';
import { checkDeliveries } from './delivery.js';
import { LiveStream } from './live.js';
import { flushOutbox } from './flush.js';
import { openPulled, PullFeed } from './open.js';
import { pullInboxes } from './pull-inboxes.js';
import { readRegistration } from './registration.js';

export type SyncProgress =
  | { phase: 'send'; sent: number; failed: number; total: number }
  | { phase: 'pull'; pulled: number }
  | { phase: 'open'; opened: number; rejected: number };

export interface SyncReport {
  sent: number;
  failed: number;
  pulled: number;
  received: number;
  rejected: number;
  waiting: number;
  /** Sent messages found delivered (fetched by the recipient's device) in this sync. */
  delivered: number;
  /** What went wrong in the vault items' sync after the messages (null: fine or not run). */
  itemsError: string | null;
}

export interface SyncEngineDeps {
  db: Db;
  keychain: Keychain;
  profileDir: string;
  now: () => number;
  deviceId: () => string;
  /** The unlocked keys, or null while locked (pulled messages then wait). */
  keys: () => UnlockedKeys | null;
  backoff?: BackoffPolicy;
  /** Per-request timeout, ms. */
  timeoutMs?: number;
  /**
   * The vault items' sync (items:sync), run after the messages when they reached
   * the key service. It throws to report a failure, which never fails the message sync.
   */
  syncItems?: () => Promise<void>;
  /** Events for the UI (service/events.ts): sync status, messages stored or changed, link, items, contacts. */
  emit?: (event: EngineEvent) => void;
  /** Refreshes a contact from the directory after a key-change event; false when it is not a contact. */
  refreshContact?: (userId: string) => Promise<boolean>;
  /** Read receipts may go out now (the user's setting and the policy); off, queued ones are dropped unsent. */
  receiptsOn?: () => boolean;
}

export interface SyncState {
  online: boolean | null;
  syncing: boolean;
  lastSyncAt: number | null;
  lastError: string | null;
  nextSyncAt: number | null;
  /** How new messages are learnt of: the push stream (live), or the timer. */
  stream: StreamState;
  /** Why the stream is not live (refused, dropped, revoked), or null. */
  streamError: string | null;
}

/** The timer's interval while the stream is live: only a safety net for a lost event. */
export const LIVE_INTERVAL_MS = 5 * 60_000;

export class SyncEngine {
  private running: Promise<SyncReport> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private intervalMs = 0;
  private liveIntervalMs = LIVE_INTERVAL_MS;
  private again = false;
  private failures = 0;
  private delivering: Promise<void> | null = null;
  private deliveryQueue = new Set<string>();
  private readonly live: LiveStream;
  private conn: Connection | null = null;
  private listeners = new Set<(p: SyncProgress) => void>();
  readonly state: SyncState = { online: null, syncing: false, lastSyncAt: null, lastError: null, nextSyncAt: null, stream: 'off', streamError: null };

  constructor(private readonly d: SyncEngineDeps) {
    this.live = new LiveStream({
      connection: () => this.connection(),
      deviceId: () => this.d.deviceId(),
      kick: () => this.kick(),
      checkDelivered: (ids) => this.checkDelivered(ids),
      syncItems: () => void this.runItems(),
      refreshContact: (userId) => void this.d.refreshContact?.(userId).then((changed) => changed && this.d.emit?.({ type: 'contacts' }), () => undefined),
      link: () => this.d.emit?.({ type: 'link' }),
      approvals: () => this.d.emit?.({ type: 'approvals' }),
      onState: () => this.streamChanged(),
      ...(this.d.backoff && { backoff: this.d.backoff }),
    });
  }

  /** The connection for the current registration, or null when unregistered. */
  connection(): Connection | null {
    const reg = readRegistration(this.d.db);
    if (!reg) return (this.conn = null);
    const c = this.conn;
    if (c && c.registration.server === reg.server && c.registration.userId === reg.userId && c.registration.appId === reg.appId) return c;
    this.conn = new Connection(reg, this.d.keychain, this.d.deviceId(), this.d.now, this.d.timeoutMs);
    return this.conn;
  }

  /** Drops the cached connection (credentials changed); the stream reopens with the new one. */
  reset(): void {
    this.conn = null;
    this.live.close();
    this.updateStream();
  }

  /**
   * Opens or closes the push stream after a change of the conditions it needs:
   * the timer started, the keys unlocked (the service calls this on lock and
   * unlock), a registration.
   */
  updateStream(): void {
    this.live.update(this.streamEnabled && this.started && this.d.keys() !== null);
    this.streamChanged();
  }

  private streamEnabled = true;

  /** Turns the push stream off (the timer only: `polling` while the scheduler runs) or back on. */
  setStreamEnabled(enabled: boolean): void {
    this.streamEnabled = enabled;
    this.updateStream();
  }

  /**
   * A sync now, asked for by the stream: during a running sync exactly one
   * more runs after it (a burst of events costs at most two syncs).
   */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    void this.sync().catch(() => undefined);
  }

  /** A delivery check now (a `delivered` event), those messages first; coalesced like kick(). */
  checkDelivered(clientIds: readonly string[]): void {
    for (const id of clientIds) this.deliveryQueue.add(id);
    if (this.delivering) return;
    this.delivering = (async () => {
      while (this.deliveryQueue.size > 0) {
        const ids = [...this.deliveryQueue];
        this.deliveryQueue.clear();
        const conn = this.connection();
        if (!conn) return;
        const n = await checkDeliveries({ db: this.d.db, conn, now: this.d.now, clientIds: ids }).catch(() => 0);
        if (n > 0) this.d.emit?.({ type: 'messages', received: 0, changed: n });
      }
    })().finally(() => {
      this.delivering = null;
    });
  }

  private async runItems(): Promise<void> {
    try {
      await this.d.syncItems?.();
    } catch {
      // reported by the items' sync itself; the next sync tries again
    }
  }

  /** Records the stream's state (polling when it is switched off but the timer runs) and tells the UI of a change. */
  private streamChanged(): void {
    const stream = this.live.state === 'off' && !this.streamEnabled && this.started && this.d.keys() !== null ? 'polling' : this.live.state;
    const was = this.state.stream;
    if (stream === was && this.state.streamError === this.live.reason) return;
    this.state.stream = stream;
    this.state.streamError = this.live.reason;
    // Back on the short timer when the stream stops being live and the next check is further away.
    if (was === 'live' && stream !== 'live' && this.intervalMs > 0) {
      const next = this.state.nextSyncAt;
      if (next === null || next - this.d.now() > this.intervalMs) this.schedule(this.intervalMs);
    }
    this.d.emit?.({ type: 'sync' });
  }

  /** Progress events of every sync (CLI --progress, the UI's status line). */
  onProgress(listener: (p: SyncProgress) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs one sync (or joins the one running). Local work (opening what was
   * pulled earlier) happens even when the key service cannot be reached.
   * @throws {SyncError} 'unregistered', or the first transient/permanent failure after local work is done
   */
  sync(): Promise<SyncReport> {
    this.running ??= this.syncOnce().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        void this.sync().catch(() => undefined);
      }
    });
    return this.running;
  }

  /**
   * Sends what is due in the outbox now, without pulling (`sealpost send`).
   * Returns how many were sent and failed for good.
   * @throws {SyncError} 'unregistered'; the outage or refusal that stopped the flush
   */
  async flush(): Promise<{ sent: number; failed: number }> {
    const conn = this.connection();
    if (!conn) throw new SyncError('unregistered', 'This device is not registered with a key service yet.');
    const r = await flushOutbox({ db: this.d.db, conn, profileDir: this.d.profileDir, now: this.d.now, ...(this.d.backoff && { backoff: this.d.backoff }), ...(this.d.receiptsOn && { receiptsOn: this.d.receiptsOn }) });
    if (r.sent + r.failed > 0) this.d.emit?.({ type: 'messages', received: 0, changed: r.sent + r.failed });
    if (r.error) throw r.error;
    return { sent: r.sent, failed: r.failed };
  }

  private emit(p: SyncProgress): void {
    for (const l of this.listeners) l(p);
  }

  private async syncOnce(): Promise<SyncReport> {
    const conn = this.connection();
    if (!conn) throw new SyncError('unregistered', 'This device is not registered with a key service yet.');
    this.state.syncing = true;
    this.d.emit?.({ type: 'sync' });
    const report: SyncReport = { sent: 0, failed: 0, pulled: 0, received: 0, rejected: 0, waiting: 0, delivered: 0, itemsError: null };
    let error: unknown = null;
    const notes: string[] = [];
    try {
      const emit = (p: SyncProgress) => this.emit(p);
      const flushed = await flushOutbox({ db: this.d.db, conn, profileDir: this.d.profileDir, now: this.d.now, ...(this.d.backoff && { backoff: this.d.backoff }), ...(this.d.receiptsOn && { receiptsOn: this.d.receiptsOn }), onProgress: emit });
      report.sent = flushed.sent;
      report.failed = flushed.failed;
      if (flushed.error) error = flushed.error;
      // Pull and open at the same time: each stored page is opened (by the worker pool)
      // while the next one downloads. Opening waits for the keys; pulling does not.
      const keys = this.d.keys();
      const feed = new PullFeed();
      let pulling: Promise<void> = Promise.resolve();
      if (error) feed.end();
      else {
        const onProgress = (p: SyncProgress): void => {
          emit(p);
          feed.notify();
        };
        pulling = pullInboxes({ db: this.d.db, conn, now: this.d.now, onProgress })
          .then(
            (n) => {
              report.pulled = n;
            },
            (e: unknown) => {
              error = e;
            },
          )
          .finally(() => feed.end());
      }
      try {
        if (keys) {
          const opened = await openPulled({
            db: this.d.db,
            profileDir: this.d.profileDir,
            keys,
            conn: error ? null : conn,
            online: () => error === null,
            feed,
            now: this.d.now,
            onProgress: emit,
          });
          report.received = opened.received;
          report.rejected = opened.rejected;
          // Told at once, not after the receipts and the items' sync: the UI shows them now.
          if (opened.received + opened.rejected > 0) this.d.emit?.({ type: 'messages', received: opened.received + opened.rejected, changed: 0 });
          if (opened.read > 0) this.d.emit?.({ type: 'messages', received: 0, changed: opened.read });
        }
      } finally {
        await pulling;
      }
      report.waiting = countRaw(this.d.db);
      // Delivery receipts after the flush: which sent messages the recipients' devices fetched.
      // Only an outage fails the sync; a refusal (e.g. a key service without receipts) is reported.
      if (!error) {
        try {
          report.delivered = await checkDeliveries({ db: this.d.db, conn, now: this.d.now });
        } catch (e) {
          if (e instanceof SyncError && e.transient) throw e;
          notes.push(`Delivery receipts: ${e instanceof Error ? e.message : 'failed'}`);
        }
      }
    } catch (e) {
      error ??= e;
    }
    // Then the vault items: their failure is reported, never the message sync's.
    if (!error && this.d.syncItems) {
      try {
        await this.d.syncItems();
      } catch (e) {
        report.itemsError = `Vault items: ${e instanceof Error ? e.message : 'sync failed'}`;
        notes.push(report.itemsError);
      }
    }
    this.state.syncing = false;
    const reached = !(error instanceof SyncError && (error.kind === 'offline' || error.kind === 'server'));
    this.state.online = reached;
    this.state.lastError = error ? (error instanceof Error ? error.message : 'sync failed') : notes.length > 0 ? notes.join(' · ') : null;
    if (!error) this.state.lastSyncAt = this.d.now();
    this.d.emit?.({ type: 'sync' });
    if (report.sent + report.failed + report.delivered > 0) this.d.emit?.({ type: 'messages', received: 0, changed: report.sent + report.failed + report.delivered });
    if (error) {
      this.failures++;
      throw error;
    }
    this.failures = 0;
    return report;
  }

  /** True between start() and stop(): the app's timer runs. */
  get started(): boolean {
    return this.intervalMs > 0;
  }

  /**
   * Syncs every `intervalMs` (backing off while it fails) until stop(); while
   * the push stream is live, every `liveIntervalMs` instead.
   */
  start(intervalMs = 60_000, liveIntervalMs = LIVE_INTERVAL_MS): void {
    this.intervalMs = intervalMs;
    this.liveIntervalMs = Math.max(intervalMs, liveIntervalMs);
    this.schedule(0);
    this.updateStream();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.state.nextSyncAt = null;
    this.intervalMs = 0;
    this.live.close();
    this.streamChanged();
  }

  /** The regular interval: longer while the stream is live. */
  private regularInterval(): number {
    return this.state.stream === 'live' ? this.liveIntervalMs : this.intervalMs;
  }

  /** The OS says the network is back (or gone): sync at once when it is back. */
  setNetworkOnline(online: boolean): void {
    if (!online) {
      this.state.online = false;
      return;
    }
    this.failures = 0;
    if (this.intervalMs > 0) this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.state.nextSyncAt = this.d.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.state.nextSyncAt = null;
      this.sync().then(
        () => this.intervalMs > 0 && this.schedule(this.regularInterval()),
        (e: unknown) => {
          if (this.intervalMs <= 0) return;
          const retryAfter = e instanceof SyncError ? e.extra.retryAfterMs : undefined;
          const transient = e instanceof SyncError && e.transient;
          // Transient: back off with jitter, never longer than the regular interval's cap; permanent: regular interval.
          this.schedule(transient ? Math.max(50, retryDelay(this.failures, retryAfter, this.d.backoff ?? DEFAULT_BACKOFF)) : this.regularInterval());
        },
      );
    }, delayMs);
    this.timer.unref();
  }
}

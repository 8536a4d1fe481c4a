/**
 * Rate limits kept in the database, so they hold across every instance that
 * shares it: fixed-window counters (rate_counters), one row per key.
 *
 *   ip:<address>             every request from a client address
 *   dev:<app>:<device>       requests with a device JWT
 *   ck:<app>:<address>       requests with the app's client key (development)
 *   sk:<app>                 server-to-server requests with the server key
 *   fail:key:<id>            wrong passphrases / privatekeyhashes for one key
 *
 * Hits made during one turn of the event loop are summed per key and written
 * with one statement, and each request learns its own position in the
 * window, so the count is exact however many instances share the database.
 * Counting is at-least-once: a request refused with 429 still counts.
 *
 * Every hit is written; only the waiting is optimised. Each write returns the
 * database's current total, which the instance remembers per key. While the
 * remembered total plus this instance's unwritten hits is below half the
 * limit, a request goes on without waiting for its counter write; from half
 * the limit upward every request waits for the database's exact count. Other
 * instances' hits are seen with every write, so the only slack is what they
 * add within one event-loop turn while a key is under half its limit.
 */
import type { RateLimitOptions } from './config.js';
import { tooManyRequests } from './http/errors.js';
import { BoundedMap } from './lru.js';
import type { CounterHit, Store } from './store/types.js';

interface Waiter {
  ordinal: number;
  resolve: (count: number) => void;
  reject: (error: unknown) => void;
}

const PRUNE_EVERY_MS = 5 * 60_000;

export class RateLimiter {
  private pending = new Map<string, { windowStart: number; n: number; waiters: Waiter[] }>();
  private scheduled = false;
  private lastPrune = 0;
  /** The database's count per key as of this instance's last write (key -> [windowStart, count]). */
  private readonly seen = new BoundedMap<string, [number, number]>(50_000);

  constructor(
    private readonly store: Store,
    readonly options: RateLimitOptions | false,
  ) {}

  private get windowMs(): number {
    return this.options ? this.options.windowSeconds * 1000 : 60_000;
  }

  private windowStart(now: number): number {
    return Math.floor(now / this.windowMs) * this.windowMs;
  }

  private retryAfter(now: number): number {
    return Math.max(1, Math.ceil((this.windowStart(now) + this.windowMs - now) / 1000));
  }

  /** Adds one to `key` in the current window (written with this turn's batch); returns the pending entry and this hit's ordinal in it. */
  private count(key: string, now: number): { entry: { windowStart: number; n: number; waiters: Waiter[] }; ordinal: number } {
    const windowStart = this.windowStart(now);
    let entry = this.pending.get(key);
    if (!entry || entry.windowStart !== windowStart) {
      if (entry) this.flushKey(key, entry);
      entry = { windowStart, n: 0, waiters: [] };
      this.pending.set(key, entry);
    }
    entry.n += 1;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return { entry, ordinal: entry.n };
  }

  /** Adds one to `key` in the current window; resolves with this request's count once written. */
  private increment(key: string, now: number): Promise<number> {
    const { entry, ordinal } = this.count(key, now);
    return new Promise<number>((resolve, reject) => entry.waiters.push({ ordinal, resolve, reject }));
  }

  private flushKey(key: string, entry: { windowStart: number; n: number; waiters: Waiter[] }): void {
    this.pending.delete(key);
    this.write(new Map([[key, entry]]));
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = new Map();
    if (batch.size > 0) this.write(batch);
    const now = Date.now();
    if (this.options && now - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = now;
      this.store.pruneCounters(this.windowStart(now) - this.windowMs).catch(() => undefined);
    }
  }

  private write(batch: Map<string, { windowStart: number; n: number; waiters: Waiter[] }>): void {
    const hits: CounterHit[] = [...batch].map(([key, e]) => ({ key, windowStart: e.windowStart, n: e.n }));
    this.store.incrementCounters(hits).then(
      (counts) => {
        for (const [key, e] of batch) {
          const total = counts.get(key) ?? e.n;
          this.seen.set(key, [e.windowStart, total]);
          for (const w of e.waiters) w.resolve(total - e.n + w.ordinal);
        }
      },
      (error: unknown) => {
        for (const e of batch.values()) for (const w of e.waiters) w.reject(error);
      },
    );
  }

  /**
   * Counts a request against each key; throws 429 (with Retry-After) when any
   * is over its limit. `keys` pairs a counter key with its limit.
   */
  async hit(keys: Array<[key: string, limit: number]>, now = Date.now()): Promise<void> {
    if (!this.options || keys.length === 0) return;
    const windowStart = this.windowStart(now);
    const farBelow = keys.every(([key, limit]) => {
      const seen = this.seen.get(key);
      const pending = this.pending.get(key);
      const estimate = (seen && seen[0] === windowStart ? seen[1] : 0) + (pending && pending.windowStart === windowStart ? pending.n : 0) + 1;
      return estimate <= limit / 2;
    });
    if (farBelow) {
      // Counted all the same; only nobody waits for the write (no promise per hit on the hot path).
      for (const [key] of keys) this.count(key, now);
      return;
    }
    const counts = await Promise.all(keys.map(([key]) => this.increment(key, now)));
    if (counts.some((count, i) => count > keys[i]![1])) throw tooManyRequests(this.retryAfter(now));
  }

  /** Before checking a secret: 429 when the key has seen too many wrong ones this window. */
  async checkFailures(scope: string, now = Date.now()): Promise<void> {
    if (!this.options) return;
    const failures = await this.store.getCounter(`fail:${scope}`, this.windowStart(now));
    if (failures >= this.options.secretFailures) {
      throw tooManyRequests(this.retryAfter(now), 'too many wrong secrets for this key: retry later');
    }
  }

  /** After a wrong secret. */
  async recordFailure(scope: string, now = Date.now()): Promise<void> {
    if (!this.options) return;
    await this.increment(`fail:${scope}`, now);
  }
}

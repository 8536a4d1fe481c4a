/**
 * The SQLite store's group commit: every write queued during one turn of the
 * event loop is committed in one transaction. If one op throws, the batch is
 * rolled back and each op re-run in its own transaction, so one failure never
 * undoes another request's write; callers get their own result or error only
 * after the commit.
 * @module
 */

export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Runs ops in one transaction: an outcome per op, or null when one of several
 * ops threw (all rolled back); a single op's error is returned as its outcome.
 * @throws the database's error when the transaction itself fails
 */
export type CommitOps = (ops: Array<() => unknown>) => Outcome[] | null;

/** A group commit refused with SQLITE_BUSY is retried after 2, 4, … 50 ms, for up to 5 s. */
const BUSY_RETRY_FIRST_MS = 2;
const BUSY_RETRY_MAX_MS = 50;
const BUSY_GIVE_UP_MS = 5000;

type QueuedWrite = { op: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void; queuedAt: number };

export class WriteBatcher {
  private queue: QueuedWrite[] = [];
  private flushScheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelayMs = BUSY_RETRY_FIRST_MS;
  private isClosed = false;

  constructor(private readonly commitOps: CommitOps) {}

  get closed(): boolean {
    return this.isClosed;
  }

  /** Queues a synchronous write for the next group commit. */
  write<T>(op: () => T): Promise<T> {
    if (this.isClosed) return Promise.reject(new Error('store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, resolve: resolve as (v: unknown) => void, reject, queuedAt: Date.now() });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** A transaction committed: the next BUSY waits the shortest delay again. */
  committed(): void {
    this.retryDelayMs = BUSY_RETRY_FIRST_MS;
  }

  /**
   * Commits what is queued and refuses later writes. Writes still refused
   * with SQLITE_BUSY after this last attempt fail rather than hang.
   */
  close(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.queue.length > 0) this.flush();
    this.isClosed = true;
    for (const item of this.queue.splice(0)) item.reject(new Error('store closed before the write could be committed'));
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    let outcomes: Outcome[] | null;
    try {
      outcomes = this.commitOps(batch.map((b) => b.op));
    } catch (error) {
      if (this.retryLater(batch, error)) return;
      for (const item of batch) item.reject(error);
      return;
    }
    // An op threw and the batch was rolled back: run each op in its own transaction.
    outcomes ??= batch.map((b) => {
      try {
        return this.commitOps([b.op])![0]!;
      } catch (error) {
        return { ok: false, error };
      }
    });
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }

  /**
   * SQLITE_BUSY for the whole group commit (nothing was committed: BEGIN or
   * COMMIT was refused) puts the batch back at the head of the queue and
   * tries again shortly. busy_timeout covers most lock waits, but SQLite
   * returns BUSY at once in some cases, e.g. while the checkpointer's
   * RESTART checkpoint is resetting the log; a request must not fail for
   * that. Gives up (false) once the oldest write has waited BUSY_GIVE_UP_MS.
   */
  private retryLater(batch: QueuedWrite[], error: unknown): boolean {
    const code = (error as { code?: unknown } | null)?.code;
    if (this.isClosed || typeof code !== 'string' || !code.startsWith('SQLITE_BUSY')) return false;
    if (Date.now() - batch[0]!.queuedAt > BUSY_GIVE_UP_MS) return false;
    this.queue = [...batch, ...this.queue];
    if (!this.retryTimer) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.flush();
      }, this.retryDelayMs);
      this.retryDelayMs = Math.min(this.retryDelayMs * 2, BUSY_RETRY_MAX_MS);
    }
    return true;
  }
}

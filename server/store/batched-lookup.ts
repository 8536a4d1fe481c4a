/**
 * Point lookups made during one event-loop turn, answered by one query.
 *
 * For the PostgreSQL store: every request authenticates (device) and most
 * name a key, and each query is a network round trip whose socket write and
 * wake-up cost more CPU than the rest of the request. Lookups are queued and
 * sent together at the end of the turn; each caller gets its own row. The
 * answer is never older than the request: the query runs after it arrived.
 */
export type LookupKey = readonly [string, string];

export class BatchedLookup<V> {
  private pending = new Map<string, { key: LookupKey; waiters: Array<{ resolve: (v: V | undefined) => void; reject: (e: unknown) => void }> }>();
  private scheduled = false;

  /** `load` answers many keys at once: a map from joinKey(key) to the row (absent = not found). */
  constructor(private readonly load: (keys: LookupKey[]) => Promise<Map<string, V>>) {}

  static joinKey(key: LookupKey): string {
    return `${key[0]}\u0000${key[1]}`;
  }

  get(key: LookupKey): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const id = BatchedLookup.joinKey(key);
      let entry = this.pending.get(id);
      if (!entry) {
        entry = { key, waiters: [] };
        this.pending.set(id, entry);
      }
      entry.waiters.push({ resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = new Map();
    this.load([...batch.values()].map((e) => e.key)).then(
      (rows) => {
        for (const [id, e] of batch) for (const w of e.waiters) w.resolve(rows.get(id));
      },
      (error: unknown) => {
        for (const e of batch.values()) for (const w of e.waiters) w.reject(error);
      },
    );
  }
}

import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, MIGRATIONS_TABLE, migrationSql } from './schema.js';
import { COUNTER_UPSERT, MESSAGE_COLUMNS, SqlStore, messageValues, type Row } from './sql-store.js';
import { AUDIT_GENESIS, MissingRow, type CounterHit, type InsertMessagesResult, type NewAuditEntry, type NewMessage } from './types.js';

/**
 * The embedded store: one SQLite file through better-sqlite3 (WAL mode).
 *
 * better-sqlite3 is synchronous, so a transaction can never interleave with
 * another request's statements. Hot-path writes (messages, audit entries,
 * rate-limit counters) go through a write batcher: every write queued during
 * one turn of the event loop is committed in one transaction ("group commit"),
 * each op inside its own savepoint so one failing op does not undo the others.
 * Callers still get their own result or error, only after the commit.
 *
 * Several processes may open the same file (BEGIN IMMEDIATE serializes their
 * writers; busy_timeout waits), but PostgreSQL is the store for scale-out.
 */
export class SqliteStore extends SqlStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, { stmt: Database.Statement; order: number[] }>();
  private queue: Array<{ op: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];
  private flushScheduled = false;
  private closed = false;

  constructor(readonly file: string) {
    super();
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    if (file !== ':memory:') this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
  }

  /** Prepared statement for `$n`-style SQL, cached; `order` maps `?` positions to parameters. */
  private prepare(sql: string): { stmt: Database.Statement; order: number[] } {
    let entry = this.statements.get(sql);
    if (!entry) {
      const order: number[] = [];
      const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
        order.push(Number(n) - 1);
        return '?';
      });
      entry = { stmt: this.db.prepare(text), order };
      this.statements.set(sql, entry);
    }
    return entry;
  }

  private args(order: number[], params: unknown[]): unknown[] {
    return order.map((i) => {
      const v = params[i];
      return v === undefined ? null : typeof v === 'boolean' ? (v ? 1 : 0) : v;
    });
  }

  private allSync(sql: string, params: unknown[] = []): Row[] {
    const { stmt, order } = this.prepare(sql);
    return stmt.all(...this.args(order, params)) as Row[];
  }

  private runSync(sql: string, params: unknown[] = []): number {
    const { stmt, order } = this.prepare(sql);
    return stmt.run(...this.args(order, params)).changes;
  }

  protected async all(sql: string, params?: unknown[]): Promise<Row[]> {
    return this.allSync(sql, params);
  }

  protected async run(sql: string, params?: unknown[]): Promise<number> {
    return this.runSync(sql, params);
  }

  protected isUniqueViolation(error: unknown): boolean {
    const code = (error as { code?: unknown } | null)?.code;
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  }

  /** Queues a synchronous write for the next group commit. */
  private write<T>(op: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, resolve: resolve as (v: unknown) => void, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.db.exec('BEGIN IMMEDIATE');
      for (const { op } of batch) {
        this.db.exec('SAVEPOINT op');
        try {
          outcomes.push({ ok: true, value: op() });
          this.db.exec('RELEASE op');
        } catch (error) {
          this.db.exec('ROLLBACK TO op; RELEASE op');
          outcomes.push({ ok: false, error });
        }
      }
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }

  async migrate(): Promise<void> {
    this.db.exec(MIGRATIONS_TABLE);
    for (const migration of MIGRATIONS) {
      this.db
        .transaction(() => {
          if (this.db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(migration.version)) return;
          this.db.exec(migrationSql('sqlite', migration));
          this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, Date.now());
        })
        .immediate();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.queue.length > 0) this.flush();
    this.closed = true;
    this.db.close();
  }

  insertMessages(keyId: number, messages: NewMessage[], clientId: string | null, contentHash: Buffer | null): Promise<InsertMessagesResult> {
    return this.write(() => {
      if (clientId !== null) {
        const existing = this.allSync('SELECT seq, content_hash FROM messages WHERE key_id = $1 AND client_id = $2 ORDER BY part', [keyId, clientId]);
        if (existing.length > 0) {
          const first = existing[0]!.content_hash as Buffer | null;
          return {
            ids: existing.map((r) => Number(r.seq)),
            duplicate: true,
            sameContent: first !== null && contentHash !== null && first.equals(contentHash),
          };
        }
      }
      const row = this.allSync('UPDATE keys SET msg_seq = msg_seq + $2 WHERE id = $1 RETURNING msg_seq', [keyId, messages.length])[0];
      if (!row) throw new MissingRow('key not found');
      const first = Number(row.msg_seq) - messages.length + 1;
      const sql = `INSERT INTO messages (${MESSAGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`;
      messages.forEach((m, part) => this.runSync(sql, messageValues(keyId, first + part, m, clientId, part, contentHash)));
      return { ids: messages.map((_, part) => first + part), duplicate: false, sameContent: true };
    });
  }

  appendAudit(e: NewAuditEntry, canonical: Buffer): Promise<number> {
    return this.write(() => {
      const head = this.allSync('SELECT seq, hash FROM audit_heads WHERE chain = $1', [e.chain])[0];
      const seq = head ? Number(head.seq) + 1 : 1;
      const prev = head ? (head.hash as Buffer) : AUDIT_GENESIS;
      const hash = createHash('sha256').update(prev).update(canonical).digest();
      this.runSync(
        'INSERT INTO audit_heads (chain, seq, hash) VALUES ($1, $2, $3) ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash',
        [e.chain, seq, hash],
      );
      this.runSync(
        `INSERT INTO audit_log (chain, seq, ts, user_id, device_id, actor, action, target, result, status, ip, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [e.chain, seq, e.ts, e.userId, e.deviceId, e.actor, e.action, e.target, e.result, e.status, e.ip, hash],
      );
      return seq;
    });
  }

  incrementCounters(hits: CounterHit[]): Promise<Map<string, number>> {
    return this.write(() => {
      const counts = new Map<string, number>();
      for (const h of hits) counts.set(h.key, Number(this.allSync(COUNTER_UPSERT, [h.key, h.windowStart, h.n])[0]!.count));
      return counts;
    });
  }
}

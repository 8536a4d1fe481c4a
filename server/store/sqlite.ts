import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { AuthReadCache, touchesAuthTables } from './auth-read-cache.js';
import { MIGRATIONS, MIGRATIONS_TABLE, migrationSql } from './schema.js';
import { INSERT_AGENT_TOKEN_ID, PRUNE_AGENT_TOKEN_IDS } from './sql-agent-delegations.js';
import { COUNTER_UPSERT } from './sql-audit-counters.js';
import type { Row } from './sql-row.js';
import { SqlStore } from './sql-store.js';
import { SqliteBatch, type SyncStatements } from './sqlite-batch.js';
import { startCheckpointer, type Checkpointer } from './sqlite-checkpointer.js';
import { WriteBatcher, type Outcome } from './sqlite-write-batcher.js';
import {
  auditsInsert,
  type AgentAuthRow,
  type AppRow,
  type AuditAppend,
  type CounterHit,
  type DeviceAuthRow,
  type InsertMessagesResult,
  type KeyRef,
  type KeyRow,
  type NewAuditEntry,
  type NewMessage,
} from './types.js';

/** Expired agent-token ids are deleted at most this often (an expired token is refused before its id is looked up). */
const AGENT_TOKEN_PRUNE_MS = 1000;

/** A cached statement: `order` maps `?` positions to parameters; `clearsAuthCache` for writes that may change a cached row. */
type Prepared = { stmt: Database.Statement; order: number[]; clearsAuthCache: boolean };

/**
 * The embedded store: one SQLite file through better-sqlite3 (WAL mode,
 * synchronous=NORMAL: a commit survives a crash of the process; the last
 * moments before a power loss may not).
 *
 * better-sqlite3 is synchronous, so a transaction can never interleave with
 * another request's statements. Hot-path writes (messages, audit entries,
 * rate-limit counters) go through a write batcher (sqlite-write-batcher.ts):
 * every write queued during one turn of the event loop is committed in one
 * transaction ("group commit"). If one op throws, the batch is rolled back and
 * each op re-run in its own transaction, so one failure never undoes another
 * request's write; callers get their own result or error only after the
 * commit. The ops themselves are in sqlite-batch.ts.
 *
 * Authentication reads (apps, devices, delegations, keys) are cached between
 * changes (auth-read-cache.ts): the store clears the cache on its own writes
 * to those tables and when data_version shows another connection committed.
 *
 * Checkpoints run on a worker thread (sqlite-checkpointer.ts). Several
 * processes may open the same file (BEGIN IMMEDIATE serializes writers;
 * busy_timeout waits), but PostgreSQL is the store for scale-out.
 */
export class SqliteStore extends SqlStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Prepared>();
  private readonly authCache = new AuthReadCache();
  private readonly batcher = new WriteBatcher((ops) => this.commitOps(ops));
  /** The group commit in progress, for its ops. */
  private batch: SqliteBatch | null = null;
  private readonly sync: SyncStatements = { allSync: (sql, params) => this.allSync(sql, params), runSync: (sql, params) => this.runSync(sql, params) };
  private readonly checkpointer: Checkpointer | null;

  constructor(readonly file: string) {
    super();
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    if (file !== ':memory:') this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('journal_size_limit = 67108864');
    this.checkpointer = file !== ':memory:' ? startCheckpointer(this.db, file) : null;
  }

  /** Prepared statement for `$n`-style SQL, cached; `order` maps `?` positions to parameters. */
  private prepare(sql: string): Prepared {
    let entry = this.statements.get(sql);
    if (!entry) {
      const order: number[] = [];
      const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
        order.push(Number(n) - 1);
        return '?';
      });
      const stmt = this.db.prepare(text);
      entry = { stmt, order, clearsAuthCache: !stmt.readonly && touchesAuthTables(sql) };
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
    return this.allPrepared(this.prepare(sql), params);
  }

  private allPrepared(entry: Prepared, params: unknown[]): Row[] {
    try {
      return entry.stmt.all(...this.args(entry.order, params)) as Row[];
    } finally {
      if (entry.clearsAuthCache) this.authCache.clear();
    }
  }

  private runSync(sql: string, params: unknown[] = []): number {
    const entry = this.prepare(sql);
    try {
      return entry.stmt.run(...this.args(entry.order, params)).changes;
    } finally {
      if (entry.clearsAuthCache) this.authCache.clear();
    }
  }

  /**
   * Reads made during one turn of the event loop share one read transaction.
   * In WAL mode every transaction takes and drops a lock on the -shm file
   * (two fcntl calls), which made an autocommit point read cost ~8 µs against
   * ~1.5 µs inside a transaction; the send path makes two such reads. The
   * snapshot is at most one loop turn old, and it is ended before any write
   * (run(), a group commit, migrate, close), so a write never joins it and a
   * read after our own write always sees that write.
   */
  private sharedRead = false;

  private beginSharedRead(): void {
    if (this.sharedRead || this.db.inTransaction) return;
    const tx = this.txStatements();
    tx.beginRead.run();
    this.sharedRead = true;
    // Starts the snapshot; a different value than last time means another connection committed.
    this.authCache.checkDataVersion(tx.dataVersion.get() as number);
    setImmediate(() => this.endSharedRead());
  }

  private endSharedRead(): void {
    if (!this.sharedRead) return;
    this.sharedRead = false;
    if (this.db.inTransaction) this.txStatements().commit.run();
  }

  protected async all(sql: string, params: unknown[] = []): Promise<Row[]> {
    const entry = this.prepare(sql);
    if (entry.stmt.readonly) this.beginSharedRead();
    else this.endSharedRead();
    return this.allPrepared(entry, params);
  }

  /** One row: stepping the statement once, without building the array all() returns. */
  protected override async get(sql: string, params: unknown[] = []): Promise<Row | undefined> {
    const entry = this.prepare(sql);
    if (entry.stmt.readonly) this.beginSharedRead();
    else this.endSharedRead();
    try {
      return entry.stmt.get(...this.args(entry.order, params)) as Row | undefined;
    } finally {
      if (entry.clearsAuthCache) this.authCache.clear();
    }
  }

  private cachedAuthRead<T extends object>(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    this.beginSharedRead();
    return this.authCache.read(key, load);
  }

  override appByServerKeyHash(hash: string): Promise<AppRow | undefined> {
    return this.cachedAuthRead(`server-key ${hash}`, () => super.appByServerKeyHash(hash));
  }

  override appByClientKeyHash(hash: string): Promise<AppRow | undefined> {
    return this.cachedAuthRead(`client-key ${hash}`, () => super.appByClientKeyHash(hash));
  }

  override deviceAuth(appId: string, deviceId: string): Promise<DeviceAuthRow | undefined> {
    return this.cachedAuthRead(`device ${appId} ${deviceId}`, () => super.deviceAuth(appId, deviceId));
  }

  override agentAuth(appId: string, deviceDid: string): Promise<AgentAuthRow | undefined> {
    return this.cachedAuthRead(`agent ${appId} ${deviceDid}`, () => super.agentAuth(appId, deviceDid));
  }

  override keyForSend(appId: string, tokenHash: string): Promise<KeyRef | undefined> {
    return this.cachedAuthRead(`key ${appId} ${tokenHash}`, () => super.keyForSend(appId, tokenHash));
  }

  override keyByTokenHash(appId: string, tokenHash: string): Promise<KeyRow | undefined> {
    return this.cachedAuthRead(`key-row ${appId} ${tokenHash}`, () => super.keyByTokenHash(appId, tokenHash));
  }

  protected async run(sql: string, params?: unknown[]): Promise<number> {
    this.endSharedRead();
    return this.runSync(sql, params);
  }

  protected isUniqueViolation(error: unknown): boolean {
    const code = (error as { code?: unknown } | null)?.code;
    return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  }

  /**
   * Runs ops in one transaction. null when one of several ops threw (all
   * rolled back); a single op's error is returned as its outcome.
   * @throws the database's error when the transaction itself fails
   */
  private commitOps(ops: Array<() => unknown>): Outcome[] | null {
    this.endSharedRead();
    const tx = this.txStatements();
    const batch = new SqliteBatch(this.sync);
    this.batch = batch;
    tx.begin.run();
    const outcomes: Outcome[] = [];
    for (const op of ops) {
      try {
        outcomes.push({ ok: true, value: op() });
      } catch (error) {
        tx.rollback.run();
        this.batch = null;
        return ops.length === 1 ? [{ ok: false, error }] : null;
      }
    }
    try {
      batch.writeHeads();
      tx.commit.run();
      this.batcher.committed();
    } catch (error) {
      if (this.db.inTransaction) tx.rollback.run();
      throw error;
    } finally {
      this.batch = null;
    }
    return outcomes;
  }

  private tx: { begin: Database.Statement; beginRead: Database.Statement; commit: Database.Statement; rollback: Database.Statement; dataVersion: Database.Statement } | null = null;
  private txStatements() {
    this.tx ??= {
      begin: this.db.prepare('BEGIN IMMEDIATE'),
      beginRead: this.db.prepare('BEGIN DEFERRED'),
      commit: this.db.prepare('COMMIT'),
      rollback: this.db.prepare('ROLLBACK'),
      dataVersion: this.db.prepare('PRAGMA data_version').pluck(),
    };
    return this.tx;
  }

  async migrate(): Promise<void> {
    this.endSharedRead();
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
    this.authCache.clear();
  }

  async close(): Promise<void> {
    if (this.batcher.closed) return;
    // Commits what is queued; writes still busy after that last attempt fail rather than hang.
    this.batcher.close();
    this.endSharedRead();
    await this.checkpointer?.stop();
    // The last connection to close checkpoints the WAL into the file.
    this.db.close();
  }

  insertMessages(keyId: number, messages: NewMessage[], clientId: string | null, contentHash: Buffer | null, audit?: AuditAppend): Promise<InsertMessagesResult> {
    return this.batcher.write(() => {
      const batch = this.batch!;
      const result = batch.insertMessages(keyId, messages, clientId, contentHash);
      // The send and its audit entry commit together (one group commit, not two).
      if (audit && auditsInsert(result)) batch.appendAudit(audit.entry, audit.canonical);
      return result;
    });
  }

  appendAudit(e: NewAuditEntry, canonical: Buffer): Promise<number> {
    return this.batcher.write(() => this.batch!.appendAudit(e, canonical));
  }

  private lastAgentTokenPrune = 0;

  /**
   * Records an agent token's jti with the turn's group commit instead of in a
   * transaction of its own: every request from a delegated device carries a
   * fresh token, and two autocommit writes per request (prune, insert) cost
   * ~64 µs of CPU each time, against ~31 µs batched (16 per turn). Two uses
   * of one jti in the same batch: the second inserts nothing and is refused,
   * as across batches.
   */
  override useAgentTokenId(appId: string, jti: string, expiresAt: number, now: number): Promise<boolean> {
    return this.batcher.write(() => {
      if (now - this.lastAgentTokenPrune >= AGENT_TOKEN_PRUNE_MS) {
        this.runSync(PRUNE_AGENT_TOKEN_IDS, [now]);
        this.lastAgentTokenPrune = now;
      }
      return this.runSync(INSERT_AGENT_TOKEN_ID, [appId, jti, expiresAt]) > 0;
    });
  }

  incrementCounters(hits: CounterHit[]): Promise<Map<string, number>> {
    return this.batcher.write(() => {
      const counts = new Map<string, number>();
      for (const h of hits) counts.set(h.key, Number(this.allSync(COUNTER_UPSERT, [h.key, h.windowStart, h.n])[0]!.count));
      return counts;
    });
  }
}

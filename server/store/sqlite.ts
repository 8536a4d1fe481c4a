import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { AuthReadCache, touchesAuthTables } from './auth-read-cache.js';
import { MIGRATIONS, MIGRATIONS_TABLE, migrationSql } from './schema.js';
import {
  COUNTER_UPSERT,
  DUPLICATE_QUERY,
  INSERT_AGENT_TOKEN_ID,
  MESSAGE_COLUMNS,
  PRUNE_AGENT_TOKEN_IDS,
  SqlStore,
  messageValues,
  sameContent,
  type Row,
} from './sql-store.js';
import {
  AUDIT_GENESIS,
  MissingRow,
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

/**
 * The embedded store: one SQLite file through better-sqlite3 (WAL mode,
 * synchronous=NORMAL: a commit survives a crash of the process; the last
 * moments before a power loss may not).
 *
 * better-sqlite3 is synchronous, so a transaction can never interleave with
 * another request's statements. Hot-path writes (messages, audit entries,
 * rate-limit counters) go through a write batcher: every write queued during
 * one turn of the event loop is committed in one transaction ("group
 * commit"). If one op throws, the batch is rolled back and each op re-run in
 * its own transaction, so one failure never undoes another request's write;
 * callers get their own result or error only after the commit.
 *
 * Authentication reads (apps, devices, delegations, keys) are cached between
 * changes (auth-read-cache.ts): the store clears the cache on its own writes
 * to those tables and when data_version shows another connection committed.
 *
 * Checkpoints run on a worker thread (below). Several processes may open the
 * same file (BEGIN IMMEDIATE serializes writers; busy_timeout waits), but
 * PostgreSQL is the store for scale-out.
 */
const CHECKPOINT_INTERVAL_MS = 250;
/** A group commit refused with SQLITE_BUSY is retried after 2, 4, … 50 ms, for up to 5 s. */
const BUSY_RETRY_FIRST_MS = 2;
const BUSY_RETRY_MAX_MS = 50;
const BUSY_GIVE_UP_MS = 5000;
/** WAL frames (4 KiB pages) after which the checkpointer resets the log: ~64 MiB. */
const WAL_RESET_FRAMES = 16_384;
/** Expired agent-token ids are deleted at most this often (an expired token is refused before its id is looked up). */
const AGENT_TOKEN_PRUNE_MS = 1000;

/**
 * Runs in a worker thread (CommonJS, eval'd) with its own connection: a
 * passive checkpoint every interval (never blocks the writer). When the log
 * has grown past WAL_RESET_FRAMES it resets it, holding the write lock as
 * briefly as it can:
 *   1. fdatasync the database file, with no lock held, so the reset's own
 *      sync has little left to flush;
 *   2. a RESTART checkpoint: waits for the writer's current batch, copies the
 *      frames written since the passive one, syncs, and makes the next commit
 *      write the log from its beginning (journal_size_limit trims the file to
 *      64 MiB then, so the WAL stays bounded under sustained writes).
 * Measured under bench:server load: ~7 ms with the write lock held per reset,
 * against 40–90 ms for a TRUNCATE checkpoint without step 1 (TRUNCATE also
 * frees and regrows the 64 MiB file every time).
 */
const CHECKPOINTER = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
let dbFd = null;
try { dbFd = fs.openSync(workerData.file, 'r+'); } catch { /* no pre-sync: the checkpoint still syncs */ }
const timer = setInterval(() => {
  try {
    const [state] = db.pragma('wal_checkpoint(PASSIVE)');
    if (state && state.log > workerData.resetFrames) {
      if (dbFd !== null) fs.fdatasyncSync(dbFd);
      db.pragma('wal_checkpoint(RESTART)');
    }
  } catch { /* busy: next time */ }
}, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* ignore */ }
  db.close();
  if (dbFd !== null) fs.closeSync(dbFd);
  parentPort.postMessage('stopped');
});
`;

const INSERT_MESSAGE = `INSERT INTO messages (${MESSAGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
  ON CONFLICT (key_id, client_id, part) DO NOTHING`;

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
/** A cached statement: `order` maps `?` positions to parameters; `clearsAuthCache` for writes that may change a cached row. */
type Prepared = { stmt: Database.Statement; order: number[]; clearsAuthCache: boolean };

export class SqliteStore extends SqlStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Prepared>();
  private readonly authCache = new AuthReadCache();
  private queue: Array<{ op: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void; queuedAt: number }> = [];
  private flushScheduled = false;
  /** Audit chain heads touched by the batch being committed. */
  private heads: Map<string, { seq: number; hash: Buffer }> | null = null;
  /** The next MessageId of each key the batch being committed has sent to. */
  private nextSeq: Map<number, number> | null = null;
  private closed = false;

  constructor(readonly file: string) {
    super();
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    if (file !== ':memory:') this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('journal_size_limit = 67108864');
    if (file !== ':memory:') this.startCheckpointer();
  }

  private checkpointer: Worker | null = null;

  /**
   * WAL checkpoints (copying the log into the database file, with fsync) run
   * on a worker thread with its own connection, so commits on the event loop
   * never pay for them. Without the worker, SQLite's auto-checkpoint stays on.
   */
  private startCheckpointer(): void {
    try {
      const worker = new Worker(CHECKPOINTER, {
        eval: true,
        workerData: { driver: createRequire(import.meta.url).resolve('better-sqlite3'), file: this.file, intervalMs: CHECKPOINT_INTERVAL_MS, resetFrames: WAL_RESET_FRAMES },
      });
      worker.unref();
      worker.on('error', () => {
        this.checkpointer = null;
        if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
      });
      this.checkpointer = worker;
      this.db.pragma('wal_autocheckpoint = 0');
    } catch {
      this.checkpointer = null;
    }
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

  /** Queues a synchronous write for the next group commit. */
  private write<T>(op: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, resolve: resolve as (v: unknown) => void, reject, queuedAt: Date.now() });
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

  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelayMs = BUSY_RETRY_FIRST_MS;

  /**
   * SQLITE_BUSY for the whole group commit (nothing was committed: BEGIN or
   * COMMIT was refused) puts the batch back at the head of the queue and
   * tries again shortly. busy_timeout covers most lock waits, but SQLite
   * returns BUSY at once in some cases, e.g. while the checkpointer's
   * RESTART checkpoint is resetting the log; a request must not fail for
   * that. Gives up (false) once the oldest write has waited BUSY_GIVE_UP_MS.
   */
  private retryLater(batch: typeof this.queue, error: unknown): boolean {
    const code = (error as { code?: unknown } | null)?.code;
    if (this.closed || typeof code !== 'string' || !code.startsWith('SQLITE_BUSY')) return false;
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

  /**
   * Runs ops in one transaction. null when one of several ops threw (all
   * rolled back); a single op's error is returned as its outcome.
   * @throws the database's error when the transaction itself fails
   */
  private commitOps(ops: Array<() => unknown>): Outcome[] | null {
    this.endSharedRead();
    const tx = this.txStatements();
    this.heads = new Map();
    this.nextSeq = new Map();
    tx.begin.run();
    const outcomes: Outcome[] = [];
    for (const op of ops) {
      try {
        outcomes.push({ ok: true, value: op() });
      } catch (error) {
        tx.rollback.run();
        this.heads = null;
        this.nextSeq = null;
        return ops.length === 1 ? [{ ok: false, error }] : null;
      }
    }
    try {
      for (const [chain, head] of this.heads) {
        this.runSync('INSERT INTO audit_heads (chain, seq, hash) VALUES ($1, $2, $3) ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash', [
          chain,
          head.seq,
          head.hash,
        ]);
      }
      tx.commit.run();
      this.retryDelayMs = BUSY_RETRY_FIRST_MS;
    } catch (error) {
      if (this.db.inTransaction) tx.rollback.run();
      throw error;
    } finally {
      this.heads = null;
      this.nextSeq = null;
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
    if (this.closed) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.queue.length > 0) this.flush();
    this.endSharedRead();
    this.closed = true;
    // Still busy after the last attempt: those writes fail rather than hang.
    for (const item of this.queue.splice(0)) item.reject(new Error('store closed before the write could be committed'));
    const worker = this.checkpointer;
    this.checkpointer = null;
    if (worker) {
      await new Promise<void>((resolve) => {
        const done = () => resolve();
        worker.once('message', done);
        worker.once('exit', done);
        worker.once('error', done);
        worker.postMessage('stop');
      });
      await worker.terminate();
    }
    // The last connection to close checkpoints the WAL into the file.
    this.db.close();
  }

  insertMessages(keyId: number, messages: NewMessage[], clientId: string | null, contentHash: Buffer | null, audit?: AuditAppend): Promise<InsertMessagesResult> {
    return this.write(() => {
      const result = this.insertMessagesInTx(keyId, messages, clientId, contentHash);
      // The send and its audit entry commit together (one group commit, not two).
      if (audit && auditsInsert(result)) this.appendAuditInTx(audit.entry, audit.canonical);
      return result;
    });
  }

  /**
   * Writers are serialized (one connection's batch, or BEGIN IMMEDIATE across
   * processes), so inside the transaction MAX(seq) + 1 is the key's next
   * MessageId; it is read once per key and batch (nextSeq) and counted on from
   * there. A clientId seen before inserts nothing (0 rows changed): the send
   * was stored already, and the stored ids are returned.
   */
  private insertMessagesInTx(keyId: number, messages: NewMessage[], clientId: string | null, contentHash: Buffer | null): InsertMessagesResult {
    const nextSeq = this.nextSeq!;
    let seq = nextSeq.get(keyId) ?? Number(this.allSync('SELECT COALESCE(MAX(seq), 0) AS last FROM messages WHERE key_id = $1', [keyId])[0]!.last) + 1;
    const ids: number[] = [];
    for (const [part, m] of messages.entries()) {
      let inserted: number;
      try {
        inserted = this.runSync(INSERT_MESSAGE, messageValues(keyId, seq, m, clientId, part, contentHash));
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new MissingRow('key not found');
        throw error;
      }
      if (inserted === 0) {
        const existing = this.allSync(DUPLICATE_QUERY, [keyId, clientId]);
        return { ids: existing.map((r) => Number(r.seq)), duplicate: true, sameContent: sameContent(existing, messages, contentHash) };
      }
      ids.push(seq);
      seq += 1;
      nextSeq.set(keyId, seq);
    }
    return { ids, duplicate: false, sameContent: true };
  }

  appendAudit(e: NewAuditEntry, canonical: Buffer): Promise<number> {
    return this.write(() => this.appendAuditInTx(e, canonical));
  }

  /** Inside a group commit: the chain head is read once per batch and written back before COMMIT (commitOps). */
  private appendAuditInTx(e: NewAuditEntry, canonical: Buffer): number {
    const heads = this.heads!;
    let head = heads.get(e.chain);
    if (!head) {
      const row = this.allSync('SELECT seq, hash FROM audit_heads WHERE chain = $1', [e.chain])[0];
      head = row ? { seq: Number(row.seq), hash: row.hash as Buffer } : { seq: 0, hash: AUDIT_GENESIS };
    }
    const next = { seq: head.seq + 1, hash: createHash('sha256').update(head.hash).update(canonical).digest() };
    this.runSync(
      `INSERT INTO audit_log (chain, seq, ts, user_id, device_id, actor, action, target, result, status, ip, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [e.chain, next.seq, e.ts, e.userId, e.deviceId, e.actor, e.action, e.target, e.result, e.status, e.ip, next.hash],
    );
    heads.set(e.chain, next);
    return next.seq;
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
    return this.write(() => {
      if (now - this.lastAgentTokenPrune >= AGENT_TOKEN_PRUNE_MS) {
        this.runSync(PRUNE_AGENT_TOKEN_IDS, [now]);
        this.lastAgentTokenPrune = now;
      }
      return this.runSync(INSERT_AGENT_TOKEN_ID, [appId, jti, expiresAt]) > 0;
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

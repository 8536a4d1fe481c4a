import pg from 'pg';
import { MIGRATIONS, MIGRATIONS_TABLE, migrationSql } from './schema.js';
import { BatchedLookup, type LookupKey } from './batched-lookup.js';
import { MAX_BATCH, writeBatch, type Outcome, type QueuedWrite } from './postgres-group-commit.js';
import { COUNTER_UPSERT } from './sql-audit-counters.js';
import { KEY_REF_COLUMNS, toKey, toKeyRef } from './sql-keys.js';
import { DUPLICATE_QUERY, MESSAGE_COLUMNS, messageValues, sameContent } from './sql-messages.js';
import type { Row } from './sql-row.js';
import { SqlStore } from './sql-store.js';
import { DEVICE_AUTH_COLUMNS, toDeviceAuth } from './sql-users-devices.js';
import {
  MissingRow,
  auditsInsert,
  type AuditAppend,
  type CounterHit,
  type DeviceAuthRow,
  type InsertMessagesResult,
  type KeyRef,
  type KeyRow,
  type NewAuditEntry,
  type NewMessage,
} from './types.js';

/** Arbitrary constant for pg_advisory_lock: one migrator at a time across instances. */
const MIGRATION_LOCK = 0x5ea1_0057;

/** BIGINT (int8) and COUNT(*) come back as numbers; every value we store fits in 2^53. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** The two columns of a batch of lookup keys, as arrays for unnest(). */
function columnsOf(keys: LookupKey[]): [string[], string[]] {
  return [keys.map((k) => k[0]), keys.map((k) => k[1])];
}

export interface PostgresOptions {
  url: string;
  /** Connections per instance (default 10). */
  poolSize?: number;
}

/**
 * The scale-out store: PostgreSQL through a pg connection pool. Concurrency
 * is the database's job: per-key MessageIds come from a row-locked counter on
 * the key (commit order equals MessageId order, so cursors never skip), the
 * audit chain head is a row locked by whoever appends after it, and counters
 * are upserts. Any number of instances can share the database.
 *
 * The hot path is batched per instance, since every statement is a round
 * trip: sends and audit entries queued in one event-loop turn commit in one
 * transaction (postgres-group-commit.ts), and the device and key lookups of a
 * turn are one query each (batched-lookup.ts).
 */
export class PostgresStore extends SqlStore {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  /** The connection URL (the push stream's LISTEN connection uses it too). */
  readonly url: string;

  constructor(options: PostgresOptions) {
    super();
    this.url = options.url;
    this.pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10, types, idleTimeoutMillis: 30_000 });
    // An idle client's connection dropping must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  protected async all(sql: string, params: unknown[] = []): Promise<Row[]> {
    return (await this.pool.query(sql, params)).rows as Row[];
  }

  protected async run(sql: string, params: unknown[] = []): Promise<number> {
    return (await this.pool.query(sql, params)).rowCount ?? 0;
  }

  protected isUniqueViolation(error: unknown): boolean {
    return (error as { code?: unknown } | null)?.code === '23505';
  }

  /** The reads every request makes (device) and most name (key), one query per turn each (batched-lookup.ts). */
  private readonly deviceLookups = new BatchedLookup<DeviceAuthRow>(async (keys) => {
    const rows = await this.all(
      `SELECT d.app_id, d.device_id, ${DEVICE_AUTH_COLUMNS} FROM devices d JOIN apps a ON a.id = d.app_id
       JOIN unnest($1::text[], $2::text[]) AS q(app_id, device_id) ON d.app_id = q.app_id AND d.device_id = q.device_id`,
      columnsOf(keys),
    );
    return new Map(rows.map((r) => [BatchedLookup.joinKey([String(r.app_id), String(r.device_id)]), toDeviceAuth(r)]));
  });

  private readonly keyLookups = this.keysByToken(KEY_REF_COLUMNS, toKeyRef);
  /** The whole key row, for reads (GET messages, key info): likewise. */
  private readonly keyRowLookups = this.keysByToken('k.*', toKey);

  /** A batched lookup of keys by (app, token hash), returning `columns` of `keys k` as toRow makes them. */
  private keysByToken<V>(columns: string, toRow: (r: Row) => V): BatchedLookup<V> {
    return new BatchedLookup<V>(async (keys) => {
      const rows = await this.all(
        `SELECT k.app_id AS lookup_app, k.token_hash AS lookup_token, ${columns} FROM keys k
         JOIN unnest($1::text[], $2::text[]) AS q(app_id, token_hash) ON k.app_id = q.app_id AND k.token_hash = q.token_hash`,
        columnsOf(keys),
      );
      return new Map(rows.map((r) => [BatchedLookup.joinKey([String(r.lookup_app), String(r.lookup_token)]), toRow(r)]));
    });
  }

  override keyByTokenHash(appId: string, tokenHash: string): Promise<KeyRow | undefined> {
    return this.keyRowLookups.get([appId, tokenHash]);
  }

  override deviceAuth(appId: string, deviceId: string): Promise<DeviceAuthRow | undefined> {
    return this.deviceLookups.get([appId, deviceId]);
  }

  override keyForSend(appId: string, tokenHash: string): Promise<KeyRef | undefined> {
    return this.keyLookups.get([appId, tokenHash]);
  }

  async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await client.query(MIGRATIONS_TABLE);
      for (const migration of MIGRATIONS) {
        const done = await client.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
        if (done.rowCount) continue;
        await client.query('BEGIN');
        try {
          await client.query(migrationSql('postgres', migration));
          await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [migration.version, migration.name, Date.now()]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      client.release();
    }
  }

  async close(): Promise<void> {
    // Writes already queued are committed first.
    while (this.flushing || this.queue.length > 0) await (this.flushing ? new Promise((resolve) => setImmediate(resolve)) : this.flush());
    await this.pool.end();
  }

  private async existingByClientId(keyId: number, clientId: string, messages: NewMessage[], contentHash: Buffer | null): Promise<InsertMessagesResult | null> {
    const rows = await this.all(DUPLICATE_QUERY, [keyId, clientId]);
    if (rows.length === 0) return null;
    return { ids: rows.map((r) => Number(r.seq)), duplicate: true, sameContent: sameContent(rows, messages, contentHash) };
  }

  async insertMessages(keyId: number, messages: NewMessage[], clientId: string | null, contentHash: Buffer | null, audit?: AuditAppend): Promise<InsertMessagesResult> {
    if (messages.length === 1) return this.enqueue({ kind: 'send', keyId, message: messages[0]!, clientId, contentHash, ...(audit ? { audit } : {}) }) as Promise<InsertMessagesResult>;
    // Several parts (a send with files) take their own transaction; the audit entry then joins the group commit.
    const result = await this.insertMessagesOnly(keyId, messages, clientId, contentHash);
    if (audit && auditsInsert(result)) await this.appendAudit(audit.entry, audit.canonical);
    return result;
  }

  appendAudit(entry: NewAuditEntry, canonical: Buffer): Promise<number> {
    return this.enqueue({ kind: 'audit', entry, canonical }) as Promise<number>;
  }

  // ---- group commit (postgres-group-commit.ts) ----

  private queue: Array<{ write: QueuedWrite; resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];
  /** Batches committed, the writes in them, and batches that failed and were retried write by write. */
  readonly groupCommits = { batches: 0, writes: 0, fallbacks: 0 };
  private flushScheduled = false;
  private flushing = false;

  private enqueue(write: QueuedWrite): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({ write, resolve, reject });
      if (!this.flushScheduled && !this.flushing) {
        this.flushScheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /** One batch at a time: what queues while a batch commits goes into the next one. */
  private async flush(): Promise<void> {
    this.flushScheduled = false;
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        const outcomes = await this.commitBatch(batch.map((b) => b.write));
        batch.forEach((b, i) => {
          const outcome = outcomes[i]!;
          if (outcome.ok) b.resolve(outcome.value);
          else b.reject(outcome.error);
        });
      }
    } finally {
      this.flushing = false;
    }
  }

  /** The batch in one transaction; if that fails, each write in its own, so one bad write never fails another. */
  private async commitBatch(batch: QueuedWrite[]): Promise<Outcome[]> {
    try {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const outcomes = await writeBatch(client, batch);
        await client.query('COMMIT');
        this.groupCommits.batches += 1;
        this.groupCommits.writes += batch.length;
        return outcomes;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw error;
      } finally {
        // Released before any retry, which needs connections of its own (even with a pool of one).
        client.release(broken);
      }
    } catch {
      this.groupCommits.fallbacks += 1;
      const outcomes: Outcome[] = [];
      for (const write of batch) {
        try {
          outcomes.push({ ok: true, value: await this.writeAlone(write) });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
      }
      return outcomes;
    }
  }

  private async writeAlone(write: QueuedWrite): Promise<unknown> {
    if (write.kind === 'audit') return this.appendAuditAlone(write.entry, write.canonical);
    const result = await this.insertMessagesOnly(write.keyId, [write.message], write.clientId, write.contentHash);
    if (write.audit && auditsInsert(result)) await this.appendAuditAlone(write.audit.entry, write.audit.canonical);
    return result;
  }

  private async insertMessagesOnly(keyId: number, messages: NewMessage[], clientId: string | null, contentHash: Buffer | null): Promise<InsertMessagesResult> {
    if (messages.length === 1) {
      // One statement: bump the key's counter (row lock until commit) and insert.
      const values = messageValues(keyId, 0, messages[0]!, clientId, 0, contentHash);
      values.splice(1, 1); // seq comes from the key's counter
      const rows = await this.all(
        `WITH k AS (UPDATE keys SET msg_seq = msg_seq + 1 WHERE id = $1 RETURNING msg_seq)
         INSERT INTO messages (${MESSAGE_COLUMNS})
         SELECT $1::bigint, k.msg_seq, $2::text, $3::integer, $4::bytea, $5::text, $6::integer, $7::text, $8::text,
                $9::bytea, $10::bytea, $11::bigint, $12::bigint, $13::text FROM k
         ON CONFLICT (key_id, client_id, part) DO NOTHING RETURNING seq`,
        values,
      );
      if (rows[0]) return { ids: [Number(rows[0].seq)], duplicate: false, sameContent: true };
      const existing = clientId === null ? null : await this.existingByClientId(keyId, clientId, messages, contentHash);
      if (existing) return existing;
      throw new MissingRow('key not found');
    }
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const bumped = await client.query('UPDATE keys SET msg_seq = msg_seq + $2 WHERE id = $1 RETURNING msg_seq', [keyId, messages.length]);
      if (!bumped.rows[0]) throw new MissingRow('key not found');
      // The key row is locked until COMMIT, so this check cannot race another send to the key.
      if (clientId !== null) {
        const seen = await client.query('SELECT 1 FROM messages WHERE key_id = $1 AND client_id = $2 LIMIT 1', [keyId, clientId]);
        if (seen.rowCount) {
          await client.query('ROLLBACK');
          return (await this.existingByClientId(keyId, clientId, messages, contentHash))!;
        }
      }
      const first = Number(bumped.rows[0].msg_seq) - messages.length + 1;
      for (const [part, m] of messages.entries()) {
        await client.query(
          `INSERT INTO messages (${MESSAGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
          messageValues(keyId, first + part, m, clientId, part, contentHash),
        );
      }
      await client.query('COMMIT');
      return { ids: messages.map((_, part) => first + part), duplicate: false, sameContent: true };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** One entry in its own statement (the group commit's fallback). */
  private async appendAuditAlone(e: NewAuditEntry, canonical: Buffer): Promise<number> {
    // The head row is locked by the upsert until this statement commits, so
    // concurrent appends from any instance chain one after another.
    const rows = await this.all(
      `WITH h AS (
         INSERT INTO audit_heads (chain, seq, hash) VALUES ($1::text, 1, sha256(decode(repeat('00', 32), 'hex') || $2::bytea))
         ON CONFLICT (chain) DO UPDATE SET seq = audit_heads.seq + 1, hash = sha256(audit_heads.hash || $2::bytea)
         RETURNING seq, hash)
       INSERT INTO audit_log (chain, seq, ts, user_id, device_id, actor, action, target, result, status, ip, hash)
       SELECT $1::text, h.seq, $3::bigint, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text, $10::integer, $11::text, h.hash
       FROM h RETURNING seq`,
      [e.chain, canonical, e.ts, e.userId, e.deviceId, e.actor, e.action, e.target, e.result, e.status, e.ip],
    );
    return Number(rows[0]!.seq);
  }

  async incrementCounters(hits: CounterHit[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (hits.length === 1) {
      const h = hits[0]!;
      counts.set(h.key, Number((await this.all(COUNTER_UPSERT, [h.key, h.windowStart, h.n]))[0]!.count));
      return counts;
    }
    // Callers pass distinct keys; one multi-row upsert per batch.
    const params: unknown[] = [];
    const values = hits.map((h) => {
      params.push(h.key, h.windowStart, h.n);
      return `($${params.length - 2}, $${params.length - 1}, $${params.length})`;
    });
    const sql = COUNTER_UPSERT.replace('VALUES ($1, $2, $3)', `VALUES ${values.join(', ')}`).replace('RETURNING count', 'RETURNING key, count');
    for (const r of await this.all(sql, params)) counts.set(String(r.key), Number(r.count));
    return counts;
  }
}

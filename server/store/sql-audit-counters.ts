/**
 * Reading the audit chains (appending is the adapters' own: the chain head
 * is kept per transaction) and the fixed-window rate-limit counters.
 * @module
 */
import { buf, num, str, strOrNull, type Row, type SqlQueries } from './sql-row.js';
import type { AuditRow } from './types.js';

export const toAudit = (r: Row): AuditRow => ({
  chain: str(r.chain),
  seq: num(r.seq),
  ts: num(r.ts),
  userId: strOrNull(r.user_id),
  deviceId: strOrNull(r.device_id),
  actor: str(r.actor),
  action: str(r.action),
  target: strOrNull(r.target),
  result: str(r.result),
  status: num(r.status),
  ip: str(r.ip),
  hash: buf(r.hash),
});

/** Adds to a counter, restarting it when its window moved on; both adapters run it in their incrementCounters. */
export const COUNTER_UPSERT = `INSERT INTO rate_counters (key, window_start, count) VALUES ($1, $2, $3)
ON CONFLICT (key) DO UPDATE SET
  count = CASE WHEN rate_counters.window_start >= excluded.window_start THEN rate_counters.count + excluded.count ELSE excluded.count END,
  window_start = CASE WHEN rate_counters.window_start >= excluded.window_start THEN rate_counters.window_start ELSE excluded.window_start END
RETURNING count`;

export async function listAuditByTarget(q: SqlQueries, chain: string, target: string, after: number, limit: number): Promise<AuditRow[]> {
  return (await q.all('SELECT * FROM audit_log WHERE chain = $1 AND target = $2 AND seq > $3 ORDER BY seq LIMIT $4', [chain, target, after, limit])).map(toAudit);
}

export async function listAudit(q: SqlQueries, chain: string, userId: string | null, after: number, limit: number): Promise<AuditRow[]> {
  const rows =
    userId === null
      ? await q.all('SELECT * FROM audit_log WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3', [chain, after, limit])
      : await q.all('SELECT * FROM audit_log WHERE chain = $1 AND user_id = $2 AND seq > $3 ORDER BY seq LIMIT $4', [chain, userId, after, limit]);
  return rows.map(toAudit);
}

export async function getCounter(q: SqlQueries, key: string, windowStart: number): Promise<number> {
  const r = await q.get('SELECT count FROM rate_counters WHERE key = $1 AND window_start = $2', [key, windowStart]);
  return r ? num(r.count) : 0;
}

export async function pruneCounters(q: SqlQueries, before: number): Promise<void> {
  await q.run('DELETE FROM rate_counters WHERE window_start < $1', [before]);
}

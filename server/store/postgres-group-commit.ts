/**
 * The PostgreSQL store's group commit: the sends and audit entries queued
 * during one event-loop turn (and while the previous batch was committing)
 * are written in one transaction, in a fixed number of round trips whatever
 * the batch size:
 *
 *   BEGIN
 *   messages  one statement: lock the batch's keys (in id order), take each
 *             send's MessageId from its key's counter, insert every send
 *             (a clientId seen before inserts nothing)
 *   audit     per chain (in name order): lock the head, then one statement
 *             appends the entries and moves the head
 *   COMMIT
 *
 * Every batch takes its locks in the same order (keys by id, then chain heads
 * by name), so two instances' batches wait for each other but cannot
 * deadlock. A key's row stays locked until COMMIT, so commit order still
 * equals MessageId order and a reader paging with `after` never skips.
 *
 * Why: each statement is a network round trip, and on the benchmark machine
 * its socket write and wake-up cost more CPU than the rest of a send. Before,
 * a send made two (insert, audit) and every audited request of an app
 * serialised on the chain head's row lock, one commit at a time.
 */
import { createHash } from 'node:crypto';
import { DUPLICATE_QUERY, sameContent } from './sql-messages.js';
import type { Row } from './sql-row.js';
import { AUDIT_GENESIS, MissingRow, auditsInsert, type AuditAppend, type InsertMessagesResult, type NewAuditEntry, type NewMessage } from './types.js';

export type QueuedWrite =
  | { kind: 'send'; keyId: number; message: NewMessage; clientId: string | null; contentHash: Buffer | null; audit?: AuditAppend }
  | { kind: 'audit'; entry: NewAuditEntry; canonical: Buffer };

export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** What the batch needs of a pooled connection inside its transaction. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: Row[] }>;
}

/** Sends per statement: 13 parameters each, far below PostgreSQL's 65,535. */
export const MAX_BATCH = 500;

const SEND_COLUMNS = [
  ['ord', 'integer'],
  ['key_id', 'bigint'],
  ['client_id', 'text'],
  ['content_hash', 'bytea'],
  ['kind', 'text'],
  ['is_file', 'integer'],
  ['file_name', 'text'],
  ['content_type', 'text'],
  ['body', 'bytea'],
  ['enc_key', 'bytea'],
  ['size', 'bigint'],
  ['sent_on', 'bigint'],
  ['sender', 'text'],
] as const;

/** `($1::integer, $2::bigint, …), (…)`: one typed row per send, parameters numbered from `first`. */
function valueRows(rows: number, columns: ReadonlyArray<readonly [string, string]>, first = 1): string {
  let n = first;
  return Array.from({ length: rows }, () => `(${columns.map(([, type]) => `$${n++}::${type}`).join(', ')})`).join(', ');
}

/**
 * The batch insert. `locked` is MATERIALIZED so the row locks are taken in id
 * order before the counters move; `numbered` so the MessageIds the SELECT
 * reports are the ones inserted. A send whose key is gone has no row in the
 * result; one whose clientId was seen has inserted = false.
 */
function insertSendsSql(count: number): string {
  const names = SEND_COLUMNS.map(([name]) => name);
  const stored = names.filter((c) => c !== 'ord' && c !== 'key_id' && c !== 'client_id' && c !== 'content_hash');
  return `WITH input (${names.join(', ')}) AS (VALUES ${valueRows(count, SEND_COLUMNS)}),
  counts AS (SELECT key_id, count(*) AS n FROM input GROUP BY key_id),
  locked AS MATERIALIZED (SELECT k.id FROM keys k JOIN counts c ON c.key_id = k.id ORDER BY k.id FOR UPDATE OF k),
  bump AS (UPDATE keys k SET msg_seq = k.msg_seq + c.n FROM counts c WHERE k.id = c.key_id AND k.id IN (SELECT id FROM locked) RETURNING k.id, k.msg_seq - c.n AS base),
  numbered AS MATERIALIZED (SELECT i.*, b.base + row_number() OVER (PARTITION BY i.key_id ORDER BY i.ord) AS seq FROM input i JOIN bump b ON b.id = i.key_id),
  ins AS (
    INSERT INTO messages (key_id, seq, client_id, part, content_hash, ${stored.join(', ')})
    SELECT key_id, seq, client_id, 0, content_hash, ${stored.join(', ')} FROM numbered ORDER BY key_id, seq
    ON CONFLICT (key_id, client_id, part) DO NOTHING RETURNING key_id, seq)
SELECT n.ord, n.seq, ins.seq IS NOT NULL AS inserted FROM numbered n LEFT JOIN ins ON ins.key_id = n.key_id AND ins.seq = n.seq`;
}

function sendParams(sends: Array<Extract<QueuedWrite, { kind: 'send' }>>): unknown[] {
  const params: unknown[] = [];
  sends.forEach((s, ord) => {
    const m = s.message;
    params.push(ord, s.keyId, s.clientId, s.contentHash, m.kind, m.isFile ? 1 : 0, m.fileName, m.contentType, m.body, m.encKey, m.size, m.sentOn, m.sender);
  });
  return params;
}

/** Locks a chain's head (creating it at the genesis hash) and returns it as it is now. */
const LOCK_HEAD = `INSERT INTO audit_heads (chain, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (chain) DO UPDATE SET seq = audit_heads.seq RETURNING seq, hash`;

const AUDIT_COLUMNS = [
  ['chain', 'text'],
  ['seq', 'bigint'],
  ['ts', 'bigint'],
  ['user_id', 'text'],
  ['device_id', 'text'],
  ['actor', 'text'],
  ['action', 'text'],
  ['target', 'text'],
  ['result', 'text'],
  ['status', 'integer'],
  ['ip', 'text'],
  ['hash', 'bytea'],
] as const;

/** Appends one chain's entries after its locked head; returns their seqs. */
async function appendChain(client: Queryable, chain: string, entries: AuditAppend[]): Promise<number[]> {
  const head = (await client.query(LOCK_HEAD, [chain, AUDIT_GENESIS])).rows[0]!;
  let seq = Number(head.seq);
  let hash = head.hash as Buffer;
  const params: unknown[] = [];
  const seqs: number[] = [];
  for (const { entry: e, canonical } of entries) {
    seq += 1;
    hash = createHash('sha256').update(hash).update(canonical).digest();
    params.push(e.chain, seq, e.ts, e.userId, e.deviceId, e.actor, e.action, e.target, e.result, e.status, e.ip, hash);
    seqs.push(seq);
  }
  const n = params.length;
  params.push(seq, hash, chain);
  await client.query(
    `WITH ins AS (INSERT INTO audit_log (${AUDIT_COLUMNS.map(([c]) => c).join(', ')}) VALUES ${valueRows(entries.length, AUDIT_COLUMNS)})
     UPDATE audit_heads SET seq = $${n + 1}::bigint, hash = $${n + 2}::bytea WHERE chain = $${n + 3}::text`,
    params,
  );
  return seqs;
}

/**
 * Writes a batch inside the caller's transaction. Per-write outcomes: a send
 * to a deleted key is that send's MissingRow. A database error throws (the
 * caller rolls back and retries each write on its own).
 */
export async function writeBatch(client: Queryable, batch: QueuedWrite[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array<Outcome>(batch.length);
  const sendIndexes = batch.flatMap((w, i) => (w.kind === 'send' ? [i] : []));
  if (sendIndexes.length > 0) {
    const sends = sendIndexes.map((i) => batch[i] as Extract<QueuedWrite, { kind: 'send' }>);
    const rows = (await client.query(insertSendsSql(sends.length), sendParams(sends))).rows;
    const byOrd = new Map(rows.map((r) => [Number(r.ord), r]));
    for (const [ord, send] of sends.entries()) {
      const row = byOrd.get(ord);
      let result: InsertMessagesResult;
      if (row?.inserted === true) {
        result = { ids: [Number(row.seq)], duplicate: false, sameContent: true };
      } else {
        const existing = row && send.clientId !== null ? (await client.query(DUPLICATE_QUERY, [send.keyId, send.clientId])).rows : [];
        if (existing.length === 0) {
          outcomes[sendIndexes[ord]!] = { ok: false, error: new MissingRow('key not found') };
          continue;
        }
        result = { ids: existing.map((r) => Number(r.seq)), duplicate: true, sameContent: sameContent(existing, [send.message], send.contentHash) };
      }
      outcomes[sendIndexes[ord]!] = { ok: true, value: result };
    }
  }

  // Audit entries in queue order: the sends' (once stored) and the plain ones.
  const byChain = new Map<string, Array<{ index: number; append: AuditAppend }>>();
  batch.forEach((w, index) => {
    let append: AuditAppend | undefined;
    if (w.kind === 'audit') append = { entry: w.entry, canonical: w.canonical };
    else if (w.audit && outcomes[index]?.ok && auditsInsert(outcomes[index].value as InsertMessagesResult)) append = w.audit;
    if (!append) return;
    const list = byChain.get(append.entry.chain) ?? [];
    list.push({ index, append });
    byChain.set(append.entry.chain, list);
  });
  for (const chain of [...byChain.keys()].sort()) {
    const list = byChain.get(chain)!;
    const seqs = await appendChain(
      client,
      chain,
      list.map((l) => l.append),
    );
    list.forEach(({ index }, i) => {
      if (batch[index]!.kind === 'audit') outcomes[index] = { ok: true, value: seqs[i] };
    });
  }
  return outcomes;
}

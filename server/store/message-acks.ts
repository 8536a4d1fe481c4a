/**
 * Acknowledging an inbox read (GET /v1/keys/{token}/messages?after=N): the
 * key's owner has fetched every message up to N. Besides recording it, this
 * says which messages the call acknowledged first, with their sender and
 * clientId, so the key service can tell each sender device "your clientId X
 * was delivered" on its push stream (routes/messages.ts, stream/publish.ts).
 *
 * Three statements, on the read path only (never on a send): the previous
 * mark, the forward-only upsert (which returns a row only when it moved), and
 * the messages between the two marks. Two readers acknowledging at once may
 * both report a message: the report is a hint, the state is the mark.
 */
import type { Row } from './sql-row.js';
import type { AckedMessage } from './types.js';

export interface AckQueries {
  get(sql: string, params: unknown[]): Promise<Row | undefined>;
  all(sql: string, params: unknown[]): Promise<Row[]>;
}

const PREVIOUS = 'SELECT acked_seq FROM key_acks WHERE key_id = $1';

// One statement: the highest stored MessageId <= upTo, only ever moving forward.
const ADVANCE = `INSERT INTO key_acks (key_id, acked_seq, updated_at)
  SELECT key_id, MAX(seq), CAST($3 AS BIGINT) FROM messages WHERE key_id = $1 AND seq <= $2 GROUP BY key_id
  ON CONFLICT (key_id) DO UPDATE SET acked_seq = excluded.acked_seq, updated_at = excluded.updated_at
  WHERE key_acks.acked_seq < excluded.acked_seq
  RETURNING acked_seq`;

const NEWLY_ACKED = `SELECT sender, client_id FROM messages
  WHERE key_id = $1 AND seq > $2 AND seq <= $3 AND sender IS NOT NULL AND client_id IS NOT NULL ORDER BY seq`;

/** Records the ack; returns the messages with a sender and a clientId that it acknowledged (one per clientId). */
export async function ackMessagesReporting(q: AckQueries, keyId: number, upTo: number, at: number): Promise<AckedMessage[]> {
  const previous = await q.get(PREVIOUS, [keyId]);
  const moved = await q.get(ADVANCE, [keyId, upTo, at]);
  if (!moved) return [];
  const from = previous ? Number(previous.acked_seq) : 0;
  const rows = await q.all(NEWLY_ACKED, [keyId, from, Number(moved.acked_seq)]);
  const seen = new Set<string>();
  const out: AckedMessage[] = [];
  for (const r of rows) {
    const sender = String(r.sender);
    const clientId = String(r.client_id);
    const id = `${sender}\u0000${clientId}`;
    if (seen.has(id)) continue; // the parts of one multipart send share its clientId
    seen.add(id);
    out.push({ sender, clientId });
  }
  return out;
}

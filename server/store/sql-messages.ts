/**
 * Messages on a key, read in MessageId order, and the owner's acknowledgements.
 * Inserting messages is the adapters' own (sqlite.ts, postgres.ts): numbering
 * them atomically cannot be one portable statement. They share the columns,
 * the duplicate check and the content comparison below.
 * @module
 */
import { ackMessagesReporting } from './message-acks.js';
import { buf, num, str, strOrNull, type Row, type SqlQueries } from './sql-row.js';
import type { AckedMessage, MessageRow, NewMessage } from './types.js';

export const toMessage = (r: Row): MessageRow => ({
  seq: num(r.seq),
  clientId: strOrNull(r.client_id),
  kind: str(r.kind) as MessageRow['kind'],
  isFile: num(r.is_file) === 1,
  fileName: strOrNull(r.file_name),
  contentType: strOrNull(r.content_type),
  body: buf(r.body),
  encKey: buf(r.enc_key),
  size: num(r.size),
  sentOn: num(r.sent_on),
  sender: strOrNull(r.sender),
});

/** Column list and values of a message row, shared by both adapters' inserts. */
export const MESSAGE_COLUMNS =
  'key_id, seq, client_id, part, content_hash, kind, is_file, file_name, content_type, body, enc_key, size, sent_on, sender';

export function messageValues(keyId: number, seq: number, m: NewMessage, clientId: string | null, part: number, contentHash: Buffer | null): unknown[] {
  return [keyId, seq, clientId, part, part === 0 ? contentHash : null, m.kind, m.isFile ? 1 : 0, m.fileName, m.contentType, m.body, m.encKey, m.size, m.sentOn, m.sender];
}

/**
 * Whether a repeated clientId carried the same content as the stored send:
 * by the content hash when one was stored (online sends, whose ciphertext is
 * the server's), else byte for byte (offline sends are stored as sent).
 */
export function sameContent(existing: Row[], messages: NewMessage[], contentHash: Buffer | null): boolean {
  if (existing.length !== messages.length) return false;
  const storedHash = existing[0]?.content_hash;
  if (storedHash !== null && storedHash !== undefined) return contentHash !== null && buf(storedHash).equals(contentHash);
  return existing.every((r, i) => {
    const m = messages[i]!;
    return buf(r.body).equals(m.body) && buf(r.enc_key).equals(m.encKey) && num(r.is_file) === (m.isFile ? 1 : 0);
  });
}

/** The stored parts of an earlier send with the same (key, clientId). */
export const DUPLICATE_QUERY = 'SELECT seq, content_hash, body, enc_key, is_file FROM messages WHERE key_id = $1 AND client_id = $2 ORDER BY part';

export async function listMessages(q: SqlQueries, keyId: number, after: number, limit: number): Promise<MessageRow[]> {
  const rows = await q.all(
    `SELECT seq, client_id, kind, is_file, file_name, content_type, body, enc_key, size, sent_on, sender
     FROM messages WHERE key_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    [keyId, after, limit],
  );
  return rows.map(toMessage);
}

export function ackMessages(q: SqlQueries, keyId: number, upTo: number, at: number): Promise<AckedMessage[]> {
  return ackMessagesReporting(q, keyId, upTo, at);
}

export async function deliveredMessages(q: SqlQueries, keyId: number, sender: string, seqs: number[]): Promise<number[]> {
  if (seqs.length === 0) return [];
  const list = seqs.map((_, i) => `$${i + 3}`).join(', ');
  const rows = await q.all(
    `SELECT m.seq FROM messages m JOIN key_acks a ON a.key_id = m.key_id
     WHERE m.key_id = $1 AND m.sender = $2 AND m.seq <= a.acked_seq AND m.seq IN (${list}) ORDER BY m.seq`,
    [keyId, sender, ...seqs],
  );
  return rows.map((r) => num(r.seq));
}

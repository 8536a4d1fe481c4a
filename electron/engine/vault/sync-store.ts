/**
 * Repositories for the tables sync adds (migration 2): message_info,
 * contact_keys, inbox_raw + sync_cursors, outbox_progress, attachments.
 * Rows read back are validated like every other vault table.
 * @module
 */
import { z } from 'zod';
import { checkInput, col, type Db, input, parseRow, parseRows, stmt } from './_sql.js';

// ---- message_info ----

export type SenderState = 'self' | 'verified' | 'unverified' | 'key-changed' | 'unknown' | 'rejected';

export interface MessageInfo {
  messageId: number;
  sender: SenderState;
  reason: string | null;
  senderFingerprint: string | null;
  digest: string | null;
  cache: Uint8Array | null;
  sentAt: number | null;
  deliveredAt: number | null;
  /** Outgoing: when the recipient read it (their read receipt). */
  readAt: number | null;
  attachments: number;
}

const InfoRow = z
  .object({
    message_id: col.int.positive(),
    sender: z.enum(['self', 'verified', 'unverified', 'key-changed', 'unknown', 'rejected']),
    reason: col.text.nullable(),
    sender_fp: col.text.nullable(),
    digest: col.text.nullable(),
    cache: col.blob.nullable(),
    sent_at: col.ms.nullable(),
    delivered_at: col.ms.nullable(),
    read_at: col.ms.nullable(),
    attachments: col.int.nonnegative(),
  })
  .transform(
    (r): MessageInfo => ({
      messageId: r.message_id,
      sender: r.sender,
      reason: r.reason,
      senderFingerprint: r.sender_fp,
      digest: r.digest,
      cache: r.cache,
      sentAt: r.sent_at,
      deliveredAt: r.delivered_at,
      readAt: r.read_at,
      attachments: r.attachments,
    }),
  );

const InfoInput = z.object({
  messageId: z.number().int().positive(),
  sender: z.enum(['self', 'verified', 'unverified', 'key-changed', 'unknown', 'rejected']),
  reason: z.string().max(500).nullable().default(null),
  senderFingerprint: z.string().max(200).nullable().default(null),
  digest: z.string().length(64).nullable().default(null),
  cache: input.bytes.nullable().default(null),
  sentAt: input.ms.nullable().default(null),
  attachments: z.number().int().nonnegative().default(0),
});

/** @throws {VaultError} 'invalid-input'; SQLite's unique error for a digest seen before */
export function putMessageInfo(db: Db, info: z.input<typeof InfoInput>): void {
  const v = checkInput(InfoInput, info, 'message info');
  stmt(
    db,
    `INSERT INTO message_info (message_id, sender, reason, sender_fp, digest, cache, sent_at, attachments) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (message_id) DO UPDATE SET sender = excluded.sender, reason = excluded.reason, sender_fp = excluded.sender_fp,
       digest = excluded.digest, cache = excluded.cache, sent_at = excluded.sent_at, attachments = excluded.attachments`,
  ).run(v.messageId, v.sender, v.reason, v.senderFingerprint, v.digest, v.cache, v.sentAt, v.attachments);
}

/** @throws {VaultError} 'corrupt-row' */
export function getMessageInfo(db: Db, messageId: number): MessageInfo | null {
  const row = stmt(db, 'SELECT * FROM message_info WHERE message_id = ?').get(messageId);
  return row === undefined ? null : parseRow(InfoRow, row, 'message_info');
}

/** The message already holding this envelope digest, if any (replay check). */
export function messageByDigest(db: Db, digest: string): number | null {
  const row = stmt(db, 'SELECT message_id FROM message_info WHERE digest = ?').get(digest) as { message_id: number } | undefined;
  return row?.message_id ?? null;
}

/**
 * After the user verified a contact's fingerprint: their incoming messages signed
 * under exactly that fingerprint become 'verified' (others keep their state).
 */
export function markPeerMessagesVerified(db: Db, peer: string, fingerprint: string): number {
  return stmt(
    db,
    `UPDATE message_info SET sender = 'verified' WHERE sender IN ('unverified', 'key-changed') AND sender_fp = ?
       AND message_id IN (SELECT id FROM messages WHERE peer = ? AND direction = 'in')`,
  ).run(fingerprint, peer).changes;
}

// ---- contact_keys ----

export interface ContactKey {
  userId: string;
  keyId: string;
  publicPem: string;
  fingerprint: string | null;
  inbox: string | null;
}

const KeyRow = z
  .object({ user_id: col.text, key_id: col.text, public_pem: col.text, fingerprint: col.text.nullable(), inbox: col.text.nullable() })
  .transform((r): ContactKey => ({ userId: r.user_id, keyId: r.key_id, publicPem: r.public_pem, fingerprint: r.fingerprint, inbox: r.inbox }));

/** Replaces a contact's keys with what the directory says now. */
export function replaceContactKeys(db: Db, userId: string, keys: readonly Omit<ContactKey, 'userId'>[]): void {
  db.transaction(() => {
    stmt(db, 'DELETE FROM contact_keys WHERE user_id = ?').run(userId);
    const ins = stmt(db, 'INSERT INTO contact_keys (user_id, key_id, public_pem, fingerprint, inbox) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING');
    for (const k of keys) ins.run(userId, k.keyId, k.publicPem, k.fingerprint, k.inbox);
  })();
}

/** @throws {VaultError} 'corrupt-row' */
export function listContactKeys(db: Db, userId: string): ContactKey[] {
  return parseRows(KeyRow, stmt(db, 'SELECT * FROM contact_keys WHERE user_id = ? ORDER BY key_id').all(userId), 'contact_keys');
}

// ---- inbox_raw, sync_cursors ----

export interface RawMessage {
  serverId: string;
  body: Uint8Array;
  encKey: Uint8Array;
  isFile: boolean;
  sentOn: number;
  receivedAt: number;
}

const RawRow = z
  .object({ server_id: col.text, body: col.blob, enc_key: col.blob, is_file: col.bool, sent_on: col.int, received_at: col.ms })
  .transform((r): RawMessage => ({ serverId: r.server_id, body: r.body, encKey: r.enc_key, isFile: r.is_file, sentOn: r.sent_on, receivedAt: r.received_at }));

export function getCursor(db: Db, inbox: string): number {
  const row = stmt(db, 'SELECT cursor FROM sync_cursors WHERE inbox = ?').get(inbox) as { cursor: number } | undefined;
  return row?.cursor ?? 0;
}

/**
 * One pulled page and the new cursor, in one transaction: after a crash either
 * both are stored or neither (and the page is pulled again). A server id stored
 * before (overlapping pulls from two processes) is skipped.
 */
export function storePage(db: Db, inbox: string, rows: readonly RawMessage[], cursor: number, now: number): number {
  return db
    .transaction(() => {
      const ins = stmt(
        db,
        `INSERT INTO inbox_raw (server_id, body, enc_key, is_file, sent_on, received_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (server_id) DO NOTHING`,
      );
      let n = 0;
      for (const r of rows) {
        const already = stmt(db, 'SELECT 1 FROM messages WHERE server_id = ?').get(r.serverId);
        if (already === undefined) n += ins.run(r.serverId, r.body, r.encKey, +r.isFile, r.sentOn, r.receivedAt).changes;
      }
      stmt(
        db,
        `INSERT INTO sync_cursors (inbox, cursor, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (inbox) DO UPDATE SET cursor = max(cursor, excluded.cursor), updated_at = excluded.updated_at`,
      ).run(inbox, cursor, now);
      return n;
    })
    .immediate();
}

/** Pulled messages not yet opened, oldest first. @throws {VaultError} 'corrupt-row' */
export function listRaw(db: Db, limit: number, afterServerId?: string): RawMessage[] {
  const rows =
    afterServerId === undefined
      ? stmt(db, 'SELECT * FROM inbox_raw ORDER BY rowid LIMIT ?').all(limit)
      : stmt(db, 'SELECT * FROM inbox_raw WHERE rowid > (SELECT rowid FROM inbox_raw WHERE server_id = ?) ORDER BY rowid LIMIT ?').all(afterServerId, limit);
  return parseRows(RawRow, rows, 'inbox_raw');
}

export function countRaw(db: Db): number {
  return (stmt(db, 'SELECT count(*) AS n FROM inbox_raw').get() as { n: number }).n;
}

export function deleteRaw(db: Db, serverId: string): void {
  stmt(db, 'DELETE FROM inbox_raw WHERE server_id = ?').run(serverId);
}

// ---- outbox_progress ----

export function getProgress(db: Db, clientId: string, inbox: string): number {
  const row = stmt(db, 'SELECT done FROM outbox_progress WHERE client_id = ? AND inbox = ?').get(clientId, inbox) as { done: number } | undefined;
  return row?.done ?? 0;
}

export function setProgress(db: Db, clientId: string, inbox: string, done: number): void {
  stmt(
    db,
    `INSERT INTO outbox_progress (client_id, inbox, done) VALUES (?, ?, ?) ON CONFLICT (client_id, inbox) DO UPDATE SET done = max(done, excluded.done)`,
  ).run(clientId, inbox, done);
}

// ---- sent_receipts ----

export interface SentReceipt {
  clientId: string;
  inbox: string;
  remoteId: number;
}

/** Remembers the key service's MessageId of a sent message in one recipient inbox (until it is delivered). */
export function putSentReceipt(db: Db, r: SentReceipt): void {
  stmt(db, 'INSERT INTO sent_receipts (client_id, inbox, remote_id) VALUES (?, ?, ?) ON CONFLICT (client_id, inbox) DO UPDATE SET remote_id = excluded.remote_id').run(
    r.clientId,
    r.inbox,
    r.remoteId,
  );
}

/** Up to `limit` sent messages not yet known delivered, the least recently asked first. */
export function dueSentReceipts(db: Db, limit: number): SentReceipt[] {
  const rows = stmt(db, 'SELECT client_id, inbox, remote_id FROM sent_receipts ORDER BY checked_at, client_id, inbox LIMIT ?').all(limit) as {
    client_id: string;
    inbox: string;
    remote_id: number;
  }[];
  return rows.map((r) => ({ clientId: r.client_id, inbox: r.inbox, remoteId: r.remote_id }));
}

/** The receipts still to learn of these sent messages (unknown clientIds are skipped). */
export function sentReceiptsOf(db: Db, clientIds: readonly string[]): SentReceipt[] {
  const one = stmt(db, 'SELECT client_id, inbox, remote_id FROM sent_receipts WHERE client_id = ?');
  return clientIds.flatMap((id) => (one.all(id) as { client_id: string; inbox: string; remote_id: number }[]).map((r) => ({ clientId: r.client_id, inbox: r.inbox, remoteId: r.remote_id })));
}

/**
 * After asking the key service about `asked`: the messages of `deliveredClientIds`
 * are delivered (message_info.delivered_at, their receipts dropped), the rest are
 * asked again after the others. One transaction.
 */
export function recordDeliveries(db: Db, asked: readonly SentReceipt[], deliveredClientIds: ReadonlySet<string>, now: number): void {
  db.transaction(() => {
    const touch = stmt(db, 'UPDATE sent_receipts SET checked_at = ? WHERE client_id = ? AND inbox = ?');
    for (const r of asked) if (!deliveredClientIds.has(r.clientId)) touch.run(now, r.clientId, r.inbox);
    const mark = stmt(
      db,
      `UPDATE message_info SET delivered_at = coalesce(delivered_at, ?)
       WHERE message_id = (SELECT id FROM messages WHERE client_id = ? AND direction = 'out')`,
    );
    const drop = stmt(db, 'DELETE FROM sent_receipts WHERE client_id = ?');
    for (const clientId of deliveredClientIds) {
      mark.run(now, clientId);
      drop.run(clientId);
    }
  })();
}

// ---- attachments ----

export interface AttachmentRow {
  id: string;
  messageId: number | null;
  direction: 'in' | 'out';
  sealedSize: number;
  sealedHash: string;
  parts: number;
  partSize: number;
  state: 'partial' | 'complete' | 'failed';
  reason: string | null;
  createdAt: number;
}

const AttRow = z
  .object({
    id: col.text,
    message_id: col.int.nullable(),
    direction: z.enum(['in', 'out']),
    sealed_size: col.int,
    sealed_hash: col.text,
    parts: col.int,
    part_size: col.int,
    state: z.enum(['partial', 'complete', 'failed']),
    reason: col.text.nullable(),
    created_at: col.ms,
  })
  .transform(
    (r): AttachmentRow => ({
      id: r.id,
      messageId: r.message_id,
      direction: r.direction,
      sealedSize: r.sealed_size,
      sealedHash: r.sealed_hash,
      parts: r.parts,
      partSize: r.part_size,
      state: r.state,
      reason: r.reason,
      createdAt: r.created_at,
    }),
  );

export function putAttachment(db: Db, a: Omit<AttachmentRow, 'reason'>): void {
  stmt(
    db,
    `INSERT INTO attachments (id, message_id, direction, sealed_size, sealed_hash, parts, part_size, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO NOTHING`,
  ).run(a.id, a.messageId, a.direction, a.sealedSize, a.sealedHash, a.parts, a.partSize, a.state, a.createdAt);
}

/** @throws {VaultError} 'corrupt-row' */
export function getAttachment(db: Db, id: string): AttachmentRow | null {
  const row = stmt(db, 'SELECT * FROM attachments WHERE id = ?').get(id);
  return row === undefined ? null : parseRow(AttRow, row, 'attachments');
}

export function setAttachmentState(db: Db, id: string, state: AttachmentRow['state'], reason: string | null = null): void {
  stmt(db, 'UPDATE attachments SET state = ?, reason = ? WHERE id = ?').run(state, reason, id);
}

/** Records a received part; returns how many distinct parts of the attachment are stored. */
export function addPart(db: Db, attachmentId: string, idx: number): number {
  stmt(db, 'INSERT INTO attachment_parts (attachment_id, idx) VALUES (?, ?) ON CONFLICT DO NOTHING').run(attachmentId, idx);
  return countParts(db, attachmentId);
}

export function countParts(db: Db, attachmentId: string): number {
  return (stmt(db, 'SELECT count(*) AS n FROM attachment_parts WHERE attachment_id = ?').get(attachmentId) as { n: number }).n;
}

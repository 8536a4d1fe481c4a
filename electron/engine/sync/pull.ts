/**
 * Inbox pull by cursor (docs/api.md step 4): pages of stored ciphertext are
 * written to inbox_raw together with the new cursor in one transaction, so a
 * crash mid-download neither loses a message (the page is pulled again) nor
 * stores one twice (server ids are unique). Opening happens separately
 * (open.ts), so a pull also works while the PIN session is locked.
 *
 * Page size adapts to what arrives: up to 500 small messages, fewer when
 * attachment parts come, keeping a page near {@link PAGE_BYTES}.
 * @module
 */
import type { Db } from '../vault/_sql.js';
import { getCursor, type RawMessage, storePage } from '../vault/sync-store.js';
import type { Connection } from './connection.js';
import { inboxRef } from './flush.js';

const PAGE_BYTES = 16 * 1024 * 1024;
const MAX_PAGE = 500;
const FIRST_PAGE = 100;

export interface PullDeps {
  db: Db;
  conn: Connection;
  now: () => number;
  onProgress?: (e: { phase: 'pull'; pulled: number }) => void;
}

/**
 * Pulls until the service has nothing newer. Returns how many new messages were stored.
 * `inbox` defaults to our current one (another: an inbox of a key we rotated out).
 * @throws {SyncError}
 */
export async function pullInbox(d: PullDeps, inbox?: { token: string; privateKeyHash: string }): Promise<number> {
  const { token, privateKeyHash } = inbox ?? (await d.conn.inbox());
  const ref = inboxRef(token);
  let cursor = getCursor(d.db, ref);
  let limit = FIRST_PAGE;
  let pulled = 0;
  for (;;) {
    const page = await d.conn.call((auth) => d.conn.client.listMessages(auth, token, privateKeyHash, cursor, limit));
    if (page === null || page.Messages.length === 0) break;
    const now = d.now();
    const rows: RawMessage[] = page.Messages.map((m) => ({
      serverId: `${ref}:${m.MessageId}`,
      body: new Uint8Array(Buffer.from(m.Message, 'base64')),
      // A message sent online (plaintext to the server) has no key: it is stored and rejected at opening.
      encKey: new Uint8Array(Buffer.from(m.EncryptionKey ?? '', 'base64')),
      isFile: m.IsFile,
      sentOn: Math.max(0, Date.parse(m.SentOn) || 0),
      receivedAt: now,
    }));
    pulled += storePage(d.db, ref, rows, Math.max(cursor, page.Cursor), now);
    cursor = Math.max(cursor, page.Cursor);
    d.onProgress?.({ phase: 'pull', pulled });
    if (!page.HasMore) break;
    const biggest = Math.max(1, ...page.Messages.map((m) => m.size));
    limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(PAGE_BYTES / biggest)));
  }
  // Reading past the cursor tells the key service the messages were fetched (their
  // senders see them delivered); normally a 304, or the start of the next sync's pull.
  if (pulled > 0) await d.conn.call((auth) => d.conn.client.listMessages(auth, token, privateKeyHash, cursor, 1));
  return pulled;
}

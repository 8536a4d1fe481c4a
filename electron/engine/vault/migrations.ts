/**
 * Schema migrations, keyed by SQLite's `PRAGMA user_version`: MIGRATIONS[i] takes
 * the schema from version i to i + 1. Each step and its version bump commit in one
 * transaction, so a crash mid-migration leaves the previous version intact. Steps
 * are append-only: never edit a released step, add the next one.
 *
 * Tables are STRICT (column types enforced by SQLite) with CHECK constraints, so
 * the database itself refuses malformed rows, whichever code writes them.
 * @module
 */
import type { Db } from './_sql.js';
import { VaultError } from './errors.js';

export const MIGRATIONS: readonly string[] = Object.freeze([
  /* 1: initial schema */ `
  CREATE TABLE items (
    identifier TEXT PRIMARY KEY NOT NULL CHECK (length(identifier) BETWEEN 1 AND 200),
    version    INTEGER NOT NULL CHECK (version >= 0),
    ciphertext BLOB NOT NULL,
    owner      TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    dirty      INTEGER NOT NULL DEFAULT 1 CHECK (dirty IN (0, 1))  -- local change the key service has not acknowledged
  ) STRICT;

  -- Prior revisions: 'superseded' (replaced locally or by a newer remote one; the
  -- newest few kept) and 'conflict' (a remote revision that raced a local edit;
  -- kept until the user resolves it, never dropped silently, design §5).
  CREATE TABLE item_revisions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    identifier  TEXT NOT NULL REFERENCES items (identifier) ON DELETE CASCADE,
    version     INTEGER NOT NULL CHECK (version >= 0),
    ciphertext  BLOB NOT NULL,
    owner       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    deleted     INTEGER NOT NULL CHECK (deleted IN (0, 1)),
    kind        TEXT NOT NULL CHECK (kind IN ('superseded', 'conflict')),
    recorded_at INTEGER NOT NULL,
    resolved    INTEGER NOT NULL DEFAULT 0 CHECK (resolved IN (0, 1))
  ) STRICT;
  CREATE INDEX item_revisions_by_item ON item_revisions (identifier, id);
  CREATE INDEX item_revisions_open_conflicts ON item_revisions (id) WHERE kind = 'conflict' AND resolved = 0;

  -- The item's data key wrapped for each grantee (owner included), RSA-OAEP.
  CREATE TABLE item_keys (
    identifier TEXT NOT NULL REFERENCES items (identifier) ON DELETE CASCADE,
    grantee    TEXT NOT NULL CHECK (length(grantee) BETWEEN 1 AND 200),
    key_id     TEXT NOT NULL,
    wrapped    BLOB NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (identifier, grantee)
  ) STRICT;

  CREATE TABLE messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    direction   TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    peer        TEXT NOT NULL,
    envelope    BLOB NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed', 'received')),
    created_at  INTEGER NOT NULL,
    received_at INTEGER,
    read        INTEGER NOT NULL DEFAULT 0 CHECK (read IN (0, 1)),
    server_id   TEXT UNIQUE,
    client_id   TEXT UNIQUE,
    CHECK ((direction = 'out') = (client_id IS NOT NULL))
  ) STRICT;
  CREATE INDEX messages_by_peer ON messages (peer, id);
  CREATE INDEX messages_unread ON messages (peer) WHERE read = 0 AND direction = 'in';

  -- Durable outbox (design §5): client_id is what the key service dedupes on.
  CREATE TABLE outbox (
    client_id       TEXT PRIMARY KEY NOT NULL CHECK (length(client_id) BETWEEN 1 AND 200),
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    payload         BLOB NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    server_id       TEXT
  ) STRICT;
  CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

  CREATE TABLE contacts (
    user_id              TEXT PRIMARY KEY NOT NULL CHECK (length(user_id) BETWEEN 1 AND 200),
    username             TEXT NOT NULL UNIQUE,
    fingerprint          TEXT NOT NULL,
    did                  TEXT,
    encryption_key       TEXT NOT NULL,     -- RSA public key, SPKI PEM
    verified             INTEGER NOT NULL DEFAULT 0 CHECK (verified IN (0, 1)),
    key_changed          INTEGER NOT NULL DEFAULT 0 CHECK (key_changed IN (0, 1)),
    previous_fingerprint TEXT,
    added_at             INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE settings (
    key        TEXT PRIMARY KEY NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
    value      TEXT NOT NULL,               -- JSON
    updated_at INTEGER NOT NULL
  ) STRICT;

  -- Hash-chained audit log (audit.ts). Append-only for the app: the triggers stop
  -- a bug from rewriting history; the chain and the keychain anchor catch the rest.
  CREATE TABLE audit (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    ts        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT,
    result    TEXT NOT NULL,
    details   TEXT,                         -- canonical JSON object, or NULL
    prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
    hash      TEXT NOT NULL CHECK (length(hash) = 64)
  ) STRICT;
  CREATE INDEX audit_by_action ON audit (action, id);
  CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
  CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
  `,
  /* 2: sync (electron/engine/sync, docs/sync.md) */ `
  -- What the engine knows about each message beyond its sealed envelope: how the
  -- sender checked out, why it was rejected, and the opened content sealed under
  -- the profile's local key (seed key "vault/local"), so lists and search never
  -- keep plaintext on disk and never need an RSA operation per message.
  CREATE TABLE message_info (
    message_id   INTEGER PRIMARY KEY NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    sender       TEXT NOT NULL CHECK (sender IN ('self', 'verified', 'unverified', 'key-changed', 'unknown', 'rejected')),
    reason       TEXT,                    -- rejected: tampered, bad-signature, wrong-key, replay, sender-mismatch, ...
    sender_fp    TEXT,                    -- the fingerprint the envelope claims (rejected: may be NULL)
    digest       TEXT UNIQUE,             -- SHA-256 of the sealed envelope: a replayed copy is refused
    cache        BLOB,                    -- nonce || AES-256-GCM(local key, JSON content); NULL when rejected
    sent_at      INTEGER,                 -- the signed time, when opened
    delivered_at INTEGER,
    attachments  INTEGER NOT NULL DEFAULT 0 CHECK (attachments >= 0)
  ) STRICT;

  -- A contact's encryption keys and inboxes, from the directory (one per device).
  CREATE TABLE contact_keys (
    user_id     TEXT NOT NULL REFERENCES contacts (user_id) ON DELETE CASCADE,
    key_id      TEXT NOT NULL CHECK (length(key_id) = 32),
    public_pem  TEXT NOT NULL,
    fingerprint TEXT,
    inbox       TEXT,
    PRIMARY KEY (user_id, key_id)
  ) STRICT;

  -- Pulled, not yet opened: written with the cursor in one transaction, so a crash
  -- mid-download loses nothing and a re-pull stores nothing twice.
  CREATE TABLE inbox_raw (
    server_id   TEXT PRIMARY KEY NOT NULL,   -- '<inbox ref>:<MessageId>'
    body        BLOB NOT NULL,               -- encryptedmessage bytes
    enc_key     BLOB NOT NULL,
    is_file     INTEGER NOT NULL CHECK (is_file IN (0, 1)),
    sent_on     INTEGER NOT NULL,
    received_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE sync_cursors (
    inbox      TEXT PRIMARY KEY NOT NULL,    -- inbox ref (hash of the token, never the token)
    cursor     INTEGER NOT NULL CHECK (cursor >= 0),
    updated_at INTEGER NOT NULL
  ) STRICT;

  -- Steps of a multi-request outbox entry already acknowledged per inbox
  -- (attachment parts, then the message), so a retry resumes instead of re-uploading.
  CREATE TABLE outbox_progress (
    client_id TEXT NOT NULL REFERENCES outbox (client_id) ON DELETE CASCADE,
    inbox     TEXT NOT NULL,
    done      INTEGER NOT NULL CHECK (done >= 0),
    PRIMARY KEY (client_id, inbox)
  ) STRICT;

  -- Attachments: a streamed file envelope (docs/format.md §11) on disk, moved in parts.
  CREATE TABLE attachments (
    id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 32),
    message_id  INTEGER REFERENCES messages (id) ON DELETE CASCADE,
    direction   TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    sealed_size INTEGER NOT NULL CHECK (sealed_size >= 0),
    sealed_hash TEXT NOT NULL CHECK (length(sealed_hash) = 64),
    parts       INTEGER NOT NULL CHECK (parts >= 1),
    part_size   INTEGER NOT NULL CHECK (part_size >= 1),
    state       TEXT NOT NULL CHECK (state IN ('partial', 'complete', 'failed')),
    reason      TEXT,
    created_at  INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE attachment_parts (
    attachment_id TEXT NOT NULL,
    idx           INTEGER NOT NULL CHECK (idx >= 0),
    PRIMARY KEY (attachment_id, idx)
  ) STRICT;
  `,
  /* 3: sharing (electron/engine/sync/item-sync.ts, docs/sharing.md) */ `
  -- A grantee's role, and whether the key service has this wrapped key yet.
  ALTER TABLE item_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'read' CHECK (role IN ('read', 'edit'));
  ALTER TABLE item_keys ADD COLUMN synced INTEGER NOT NULL DEFAULT 0 CHECK (synced IN (0, 1));

  -- Per item, what the key service knows: its version counter (the next PUT is
  -- based on it), our role, and for items shared with us who shared it and when.
  CREATE TABLE item_sync (
    identifier     TEXT PRIMARY KEY NOT NULL REFERENCES items (identifier) ON DELETE CASCADE,
    remote_version INTEGER NOT NULL DEFAULT 0 CHECK (remote_version >= 0),
    role           TEXT NOT NULL CHECK (role IN ('owner', 'read', 'edit')),
    shared_by      TEXT,                 -- owner's user id on the key service (shared with us)
    shared_by_name TEXT,                 -- their username, when known
    shared_at      INTEGER,
    revoked_at     INTEGER,              -- the owner took our access away (403 access_revoked)
    owner_user_id  TEXT
  ) STRICT;

  -- Grants removed here that the key service still has (revoke while offline).
  CREATE TABLE grant_removals (
    identifier TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (identifier, user_id)
  ) STRICT;
  `,
  /* 4: sharing, own items' grants fetched only when the key service says they moved */ `
  ALTER TABLE item_sync ADD COLUMN grants_seen INTEGER;  -- the key service's grantsChangedAt last applied here
  `,
  /* 5: delivery receipts (electron/engine/sync/delivery.ts, docs/sync.md) */ `
  -- The key service's MessageId of each sent message per recipient inbox, kept
  -- until the service says the recipient's device fetched it (message_info.delivered_at).
  CREATE TABLE sent_receipts (
    client_id  TEXT NOT NULL CHECK (length(client_id) BETWEEN 1 AND 200),
    inbox      TEXT NOT NULL,              -- the recipient's inbox token (as contact_keys.inbox)
    remote_id  INTEGER NOT NULL CHECK (remote_id >= 1),
    checked_at INTEGER NOT NULL DEFAULT 0, -- last asked: the least recently asked go first
    PRIMARY KEY (client_id, inbox)
  ) STRICT;
  CREATE INDEX sent_receipts_due ON sent_receipts (checked_at, client_id);
  `,
  /* 6: conversations of several people (vault/threads.ts, docs/sync.md "Conversations") */ `
  -- The conversation a message belongs to: the peer's user id for two people, 'group:<hash>'
  -- for more. NULL on rows stored before this version until they are read with the keys
  -- unlocked (their recipient list is inside the sealed content); read as the peer meanwhile.
  ALTER TABLE messages ADD COLUMN thread TEXT;
  -- Outgoing: the first row of the same send (one row per recipient, one bubble per send).
  ALTER TABLE messages ADD COLUMN batch INTEGER;
  CREATE INDEX messages_by_thread ON messages (thread, id);
  CREATE INDEX messages_unthreaded ON messages (id) WHERE thread IS NULL;
  CREATE INDEX messages_by_batch ON messages (batch) WHERE batch IS NOT NULL;

  -- Who is in a group conversation besides us, with the user name the content gave.
  CREATE TABLE thread_members (
    thread   TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    username TEXT NOT NULL,
    PRIMARY KEY (thread, user_id)
  ) STRICT;
  `,
  /* 7: read receipts (vault/receipts.ts, docs/sync.md "Read receipts") */ `
  -- Outgoing: SHA-256 of the sealed envelope as every recipient stores it (header and
  -- ciphertext, message_info.digest on their side), which is what a read receipt names.
  -- NULL on rows sent before this version until a receipt needs them (filled from the envelope).
  ALTER TABLE messages ADD COLUMN sent_digest TEXT CHECK (sent_digest IS NULL OR length(sent_digest) = 64);
  CREATE INDEX messages_by_sent_digest ON messages (sent_digest) WHERE sent_digest IS NOT NULL;
  CREATE INDEX messages_undigested ON messages (id) WHERE direction = 'out' AND sent_digest IS NULL;
  -- Outgoing: when the recipient read it (their receipt's signed time).
  ALTER TABLE message_info ADD COLUMN read_at INTEGER;
  `,
]);

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings `db` to the newest schema; a no-op when it is current. Returns the
 * versions it moved between.
 * @throws {VaultError} 'newer-schema' when the file was written by a newer build
 * @throws the SQLite error of a failing step (that step is rolled back entirely)
 */
export function migrate(db: Db, steps: readonly string[] = MIGRATIONS): { from: number; to: number } {
  const from = userVersion(db);
  if (from > steps.length) {
    throw new VaultError('newer-schema', `vault.db has schema version ${from}; this build knows up to ${steps.length}`);
  }
  for (let v = from; v < steps.length; v++) {
    db.transaction(() => {
      // Re-check under the write lock: another process may have migrated meanwhile.
      if (userVersion(db) !== v) return;
      db.exec(steps[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
  return { from, to: userVersion(db) };
}

export const userVersion = (db: Db): number => db.pragma('user_version', { simple: true }) as number;

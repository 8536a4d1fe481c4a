import type { StoreKind } from './types.js';

/**
 * Schema migrations for both stores, written once with three dialect tokens:
 *   {{pk}}     auto-increment primary key
 *   {{bigint}} 64-bit integer
 *   {{blob}}   bytes
 *   {{without_rowid}}  SQLite's WITHOUT ROWID for small rows keyed by their primary key
 * Booleans are INTEGER 0/1 and times BIGINT milliseconds in both stores, so
 * the SQL in the sql-*.ts modules reads the same everywhere. Append new migrations;
 * never edit an applied one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
CREATE TABLE server_secrets (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  created_at {{bigint}} NOT NULL
);
CREATE TABLE apps (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  server_key_hash TEXT NOT NULL UNIQUE,
  client_key_hash TEXT NOT NULL UNIQUE,
  created_at {{bigint}} NOT NULL,
  revoked_at {{bigint}}
);
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  app_id TEXT NOT NULL REFERENCES apps(id),
  username TEXT NOT NULL,
  username_key TEXT NOT NULL,
  did TEXT,
  signing_key TEXT,
  created_at {{bigint}} NOT NULL,
  UNIQUE (app_id, username_key)
);
CREATE TABLE devices (
  app_id TEXT NOT NULL REFERENCES apps(id),
  device_id TEXT NOT NULL,
  user_id TEXT NOT NULL REFERENCES users(id),
  package TEXT NOT NULL,
  encryption_key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  created_at {{bigint}} NOT NULL,
  revoked_at {{bigint}},
  PRIMARY KEY (app_id, device_id)
);
CREATE INDEX devices_user ON devices (app_id, user_id);
CREATE TABLE keys (
  id {{pk}},
  app_id TEXT NOT NULL REFERENCES apps(id),
  token_hash TEXT NOT NULL UNIQUE,
  mode TEXT NOT NULL,
  public_key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  bits INTEGER NOT NULL,
  private_key_kind TEXT,
  private_key {{blob}},
  passphrase_verifier TEXT,
  private_key_hash_verifier TEXT NOT NULL,
  owner_user_id TEXT,
  published_token TEXT,
  msg_seq {{bigint}} NOT NULL DEFAULT 0,
  created_at {{bigint}} NOT NULL
);
CREATE INDEX keys_published ON keys (app_id, owner_user_id);
CREATE TABLE messages (
  id {{pk}},
  key_id {{bigint}} NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
  seq {{bigint}} NOT NULL,
  client_id TEXT,
  part INTEGER NOT NULL DEFAULT 0,
  content_hash {{blob}},
  kind TEXT NOT NULL,
  is_file INTEGER NOT NULL,
  file_name TEXT,
  content_type TEXT,
  body {{blob}} NOT NULL,
  enc_key {{blob}} NOT NULL,
  size {{bigint}} NOT NULL,
  sent_on {{bigint}} NOT NULL,
  sender TEXT,
  UNIQUE (key_id, seq),
  UNIQUE (key_id, client_id, part)
);
CREATE TABLE items (
  app_id TEXT NOT NULL,
  identifier TEXT NOT NULL,
  owner_id TEXT NOT NULL REFERENCES users(id),
  version {{bigint}} NOT NULL,
  data {{blob}} NOT NULL,
  owner_wrapped_key {{blob}},
  created_at {{bigint}} NOT NULL,
  updated_at {{bigint}} NOT NULL,
  PRIMARY KEY (app_id, identifier)
);
CREATE INDEX items_owner ON items (app_id, owner_id, identifier);
CREATE TABLE grants (
  app_id TEXT NOT NULL,
  identifier TEXT NOT NULL,
  user_id TEXT NOT NULL REFERENCES users(id),
  role TEXT NOT NULL,
  wrapped_key {{blob}} NOT NULL,
  granted_at {{bigint}} NOT NULL,
  PRIMARY KEY (app_id, identifier, user_id),
  FOREIGN KEY (app_id, identifier) REFERENCES items (app_id, identifier) ON DELETE CASCADE
);
CREATE INDEX grants_user ON grants (app_id, user_id, identifier);
CREATE TABLE audit_heads (
  chain TEXT PRIMARY KEY,
  seq {{bigint}} NOT NULL,
  hash {{blob}} NOT NULL
){{without_rowid}};
CREATE TABLE audit_log (
  chain TEXT NOT NULL,
  seq {{bigint}} NOT NULL,
  ts {{bigint}} NOT NULL,
  user_id TEXT,
  device_id TEXT,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT,
  result TEXT NOT NULL,
  status INTEGER NOT NULL,
  ip TEXT NOT NULL,
  hash {{blob}} NOT NULL,
  PRIMARY KEY (chain, seq)
){{without_rowid}};
CREATE INDEX audit_user ON audit_log (chain, user_id, seq);
CREATE TABLE rate_counters (
  key TEXT PRIMARY KEY,
  window_start {{bigint}} NOT NULL,
  count {{bigint}} NOT NULL
){{without_rowid}};
`,
  },
  {
    version: 2,
    name: 'grant revocations, audit by target',
    // A revoked grantee is told 403 (access_revoked) instead of the 404 strangers
    // get, so their app can say why; the owner reads the log about an item by target.
    sql: `
CREATE TABLE grant_revocations (
  app_id TEXT NOT NULL,
  identifier TEXT NOT NULL,
  user_id TEXT NOT NULL,
  revoked_at {{bigint}} NOT NULL,
  PRIMARY KEY (app_id, identifier, user_id),
  FOREIGN KEY (app_id, identifier) REFERENCES items (app_id, identifier) ON DELETE CASCADE
);
CREATE INDEX audit_target ON audit_log (chain, target, seq);
`,
  },
  {
    version: 3,
    name: 'recovery records',
    // One share of a user's backup key per instance (key service or escrow), the
    // hashes of the checks that gate it and the wrong-check count (routes/recovery.ts).
    sql: `
CREATE TABLE recovery_records (
  app_id TEXT NOT NULL REFERENCES apps(id),
  username_key TEXT NOT NULL,
  identity_key TEXT NOT NULL,
  share {{blob}} NOT NULL,
  pin_params TEXT,
  backup {{blob}},
  pin_check_hash {{blob}},
  words_check_hash {{blob}},
  escrow TEXT,
  failures {{bigint}} NOT NULL,
  locked_until {{bigint}} NOT NULL,
  updated_at {{bigint}} NOT NULL,
  PRIMARY KEY (app_id, username_key)
);
`,
  },
  {
    version: 4,
    name: 'delivery receipts',
    // The highest MessageId a key's owner has acknowledged (a read with after=<cursor>
    // acknowledges everything up to the cursor): a sender asks which of its messages
    // were delivered (routes/messages.ts, POST /v1/messages/delivered).
    sql: `
CREATE TABLE key_acks (
  key_id {{bigint}} PRIMARY KEY REFERENCES keys(id) ON DELETE CASCADE,
  acked_seq {{bigint}} NOT NULL,
  updated_at {{bigint}} NOT NULL
);
`,
  },
  {
    version: 5,
    name: 'device delegations',
    // A device's delegation signed by its user's identity key (shared/delegation.ts,
    // routes/devices.ts), and the agent-token ids already used, kept until the token
    // would have expired, so a replay is refused on every instance.
    sql: `
CREATE TABLE device_delegations (
  app_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  device_did TEXT NOT NULL,
  delegation TEXT NOT NULL,
  created_at {{bigint}} NOT NULL,
  PRIMARY KEY (app_id, device_id),
  FOREIGN KEY (app_id, device_id) REFERENCES devices (app_id, device_id)
);
CREATE UNIQUE INDEX device_delegations_did ON device_delegations (app_id, device_did);
CREATE TABLE agent_token_jtis (
  app_id TEXT NOT NULL,
  jti TEXT NOT NULL,
  expires_at {{bigint}} NOT NULL,
  PRIMARY KEY (app_id, jti)
);
CREATE INDEX agent_token_jtis_expiry ON agent_token_jtis (expires_at);
`,
  },
  {
    version: 6,
    name: 'device link sessions',
    // Device linking (routes/link.ts): what the key service relays between a new
    // device and an existing one of the same user: the new device's commitment,
    // both ephemeral public keys and the sealed secrets, never a key. The 8-digit
    // code is unique among the app's live sessions; rows past expires_at are
    // treated as gone and deleted by the next create.
    sql: `
CREATE TABLE link_sessions (
  link_id TEXT PRIMARY KEY,
  app_id TEXT NOT NULL REFERENCES apps(id),
  username_key TEXT NOT NULL,
  code TEXT NOT NULL,
  commitment {{blob}} NOT NULL,
  claim_key {{blob}},
  claimed_by TEXT,
  reveal_key {{blob}},
  sealed {{blob}},
  created_at {{bigint}} NOT NULL,
  expires_at {{bigint}} NOT NULL,
  UNIQUE (app_id, code)
);
CREATE INDEX link_sessions_expiry ON link_sessions (expires_at);
`,
  },
  {
    version: 7,
    name: 'encryption key changes',
    // A user's signed encryption-key changes (shared/key-change.ts, routes/key-changes.ts),
    // in order. One change per old key: two devices rotating the same key at once
    // cannot fork the chain (the second insert is refused).
    sql: `
CREATE TABLE key_changes (
  app_id TEXT NOT NULL,
  user_id TEXT NOT NULL REFERENCES users(id),
  seq {{bigint}} NOT NULL,
  old_fingerprint TEXT NOT NULL,
  new_fingerprint TEXT NOT NULL,
  statement TEXT NOT NULL,
  created_at {{bigint}} NOT NULL,
  PRIMARY KEY (app_id, user_id, seq),
  UNIQUE (app_id, user_id, old_fingerprint),
  UNIQUE (app_id, user_id, new_fingerprint)
);
`,
  },
  {
    version: 8,
    name: 'enrollment codes and TOTP',
    // One-time enrollment codes (server/enrollment/): only their HMAC under the
    // pepper, bound to an app and a user name, used once (used_at set by one
    // conditional update); per (app, user name) a count of wrong codes and a
    // lockout. TOTP (server/totp/): the secret sealed under the TOTP key, the last
    // accepted time step (a replayed code is refused), wrong-code count and
    // lockout, and the HMACs of the one-time recovery codes.
    sql: `
CREATE TABLE enrollment_codes (
  code_hash TEXT PRIMARY KEY,
  app_id TEXT NOT NULL REFERENCES apps(id),
  username TEXT NOT NULL,
  username_key TEXT NOT NULL,
  created_at {{bigint}} NOT NULL,
  expires_at {{bigint}} NOT NULL,
  used_at {{bigint}},
  used_by TEXT
);
CREATE INDEX enrollment_codes_user ON enrollment_codes (app_id, username_key);
CREATE TABLE enrollment_lockouts (
  app_id TEXT NOT NULL,
  username_key TEXT NOT NULL,
  failures {{bigint}} NOT NULL,
  locked_until {{bigint}} NOT NULL,
  PRIMARY KEY (app_id, username_key)
);
CREATE TABLE totp_factors (
  app_id TEXT NOT NULL,
  user_id TEXT NOT NULL REFERENCES users(id),
  secret {{blob}} NOT NULL,
  created_at {{bigint}} NOT NULL,
  confirmed_at {{bigint}},
  last_step {{bigint}} NOT NULL,
  failures {{bigint}} NOT NULL,
  locked_until {{bigint}} NOT NULL,
  PRIMARY KEY (app_id, user_id)
);
CREATE TABLE totp_recovery_codes (
  app_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  code_hash TEXT NOT NULL,
  used_at {{bigint}},
  PRIMARY KEY (app_id, user_id, code_hash)
);
`,
  },
  {
    version: 9,
    name: 'connected apps',
    // Connected apps (server/connected/): an organisation's other applications,
    // their back-end secret as an HMAC, and the approval requests they make. A
    // request holds what the user's device sent back: the key sealed to the
    // application's transit key and the identity key's signature, never a key in
    // the clear. Decisions and the one read of a result are conditional updates.
    sql: `
CREATE TABLE connected_apps (
  id TEXT PRIMARY KEY,
  app_id TEXT NOT NULL REFERENCES apps(id),
  name TEXT NOT NULL,
  mode TEXT NOT NULL,
  key_bits INTEGER NOT NULL,
  public_key TEXT,
  secret_hash TEXT NOT NULL UNIQUE,
  created_at {{bigint}} NOT NULL,
  removed_at {{bigint}}
);
CREATE INDEX connected_apps_app ON connected_apps (app_id);
CREATE TABLE approval_requests (
  id TEXT PRIMARY KEY,
  app_id TEXT NOT NULL REFERENCES apps(id),
  connected_app_id TEXT NOT NULL REFERENCES connected_apps(id),
  kind TEXT NOT NULL,
  user_id TEXT REFERENCES users(id),
  user_code TEXT,
  reason TEXT,
  return_to TEXT,
  transit_key TEXT,
  nonce TEXT NOT NULL,
  ip TEXT NOT NULL,
  created_at {{bigint}} NOT NULL,
  expires_at {{bigint}} NOT NULL,
  state TEXT NOT NULL,
  decided_at {{bigint}},
  decided_by TEXT,
  result TEXT,
  collected_at {{bigint}}
);
CREATE INDEX approval_requests_user ON approval_requests (app_id, user_id, state);
CREATE UNIQUE INDEX approval_requests_code ON approval_requests (app_id, user_code);
`,
  },
];

const TOKENS: Record<StoreKind, Record<string, string>> = {
  sqlite: { pk: 'INTEGER PRIMARY KEY', bigint: 'INTEGER', blob: 'BLOB', without_rowid: ' WITHOUT ROWID' },
  postgres: { pk: 'BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY', bigint: 'BIGINT', blob: 'BYTEA', without_rowid: '' },
};

/** A migration's SQL for one store. */
export function migrationSql(kind: StoreKind, migration: Migration): string {
  return migration.sql.replace(/\{\{(\w+)\}\}/g, (_, token: string) => {
    const value = TOKENS[kind][token];
    if (value === undefined) throw new Error(`unknown schema token {{${token}}}`);
    return value;
  });
}

export const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`;

import { ackMessagesReporting } from './message-acks.js';
import type {
  AckedMessage,
  AppRow,
  AppSummary,
  AuditAppend,
  AuditRow,
  CounterHit,
  AgentAuthRow,
  DelegationRow,
  DeviceAuthRow,
  DeviceRow,
  GrantRow,
  InsertMessagesResult,
  ItemRow,
  KeyChangeRow,
  KeyRef,
  KeyRow,
  MessageRow,
  NewApp,
  NewAuditEntry,
  NewKey,
  NewMessage,
  LinkSessionRow,
  RecoveryRow,
  SharedItemRow,
  SqlRunner,
  Store,
  StoreKind,
  UserRow,
} from './types.js';
import { UniqueViolation } from './types.js';

/**
 * The SQL both adapters share. Statements use PostgreSQL's `$n` placeholders;
 * the SQLite adapter rewrites them. Only what cannot be one portable
 * statement (message sequence numbers, the audit chain, migrations) is left
 * to the adapters.
 */
export type Row = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const str = (v: unknown): string => String(v);
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const buf = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v as Uint8Array));
const bufOrNull = (v: unknown): Buffer | null => (v === null || v === undefined ? null : buf(v));

export const toApp = (r: Row): AppRow => ({
  id: str(r.id),
  name: str(r.name),
  createdAt: num(r.created_at),
  revokedAt: numOrNull(r.revoked_at),
});

export const toUser = (r: Row): UserRow => ({
  id: str(r.id),
  appId: str(r.app_id),
  username: str(r.username),
  did: strOrNull(r.did),
  signingKey: strOrNull(r.signing_key),
  createdAt: num(r.created_at),
});

export const toDevice = (r: Row): DeviceRow => ({
  appId: str(r.app_id),
  deviceId: str(r.device_id),
  userId: str(r.user_id),
  packageJson: str(r.package),
  encryptionKey: str(r.encryption_key),
  fingerprint: str(r.fingerprint),
  createdAt: num(r.created_at),
  revokedAt: numOrNull(r.revoked_at),
});

export const toKey = (r: Row): KeyRow => ({
  id: num(r.id),
  appId: str(r.app_id),
  tokenHash: str(r.token_hash),
  mode: str(r.mode) as KeyRow['mode'],
  publicKey: str(r.public_key),
  fingerprint: str(r.fingerprint),
  bits: num(r.bits),
  privateKeyKind: strOrNull(r.private_key_kind) as KeyRow['privateKeyKind'],
  privateKey: bufOrNull(r.private_key),
  passphraseVerifier: strOrNull(r.passphrase_verifier),
  privateKeyHashVerifier: str(r.private_key_hash_verifier),
  ownerUserId: strOrNull(r.owner_user_id),
  publishedToken: strOrNull(r.published_token),
  createdAt: num(r.created_at),
});

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

export const toItem = (r: Row): ItemRow => ({
  appId: str(r.app_id),
  identifier: str(r.identifier),
  ownerId: str(r.owner_id),
  version: num(r.version),
  data: buf(r.data),
  ownerWrappedKey: bufOrNull(r.owner_wrapped_key),
  createdAt: num(r.created_at),
  updatedAt: num(r.updated_at),
});

export const toGrant = (r: Row): GrantRow => ({
  identifier: str(r.identifier),
  userId: str(r.user_id),
  role: str(r.role) as GrantRow['role'],
  wrappedKey: buf(r.wrapped_key),
  grantedAt: num(r.granted_at),
});

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

export const DUPLICATE_QUERY = 'SELECT seq, content_hash, body, enc_key, is_file FROM messages WHERE key_id = $1 AND client_id = $2 ORDER BY part';

export const COUNTER_UPSERT = `INSERT INTO rate_counters (key, window_start, count) VALUES ($1, $2, $3)
ON CONFLICT (key) DO UPDATE SET
  count = CASE WHEN rate_counters.window_start >= excluded.window_start THEN rate_counters.count + excluded.count ELSE excluded.count END,
  window_start = CASE WHEN rate_counters.window_start >= excluded.window_start THEN rate_counters.window_start ELSE excluded.window_start END
RETURNING count`;

/** deviceAuth's columns (devices d JOIN apps a) and row shape, shared with the PostgreSQL store's batched form. */
export const DEVICE_AUTH_COLUMNS = 'd.user_id, d.revoked_at, a.revoked_at AS app_revoked_at';
export function toDeviceAuth(r: Row): DeviceAuthRow {
  return { userId: str(r.user_id), revokedAt: numOrNull(r.revoked_at), appRevokedAt: numOrNull(r.app_revoked_at) };
}

/** keyForSend's columns (keys k) and row shape, likewise. */
export const KEY_REF_COLUMNS = 'k.id, k.mode, k.public_key, k.owner_user_id';
export function toKeyRef(r: Row): KeyRef {
  return { id: num(r.id), mode: str(r.mode) as KeyRef['mode'], publicKey: str(r.public_key), ownerUserId: strOrNull(r.owner_user_id) };
}

export const INSERT_AGENT_TOKEN_ID = 'INSERT INTO agent_token_jtis (app_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT (app_id, jti) DO NOTHING';
export const PRUNE_AGENT_TOKEN_IDS = 'DELETE FROM agent_token_jtis WHERE expires_at <= $1';

export abstract class SqlStore implements Store {
  abstract readonly kind: StoreKind;
  abstract migrate(): Promise<void>;
  abstract close(): Promise<void>;
  abstract insertMessages(keyId: number, messages: NewMessage[], clientId: string | null, contentHash: Buffer | null, audit?: AuditAppend): Promise<InsertMessagesResult>;
  abstract appendAudit(entry: NewAuditEntry, canonical: Buffer): Promise<number>;
  abstract incrementCounters(hits: CounterHit[]): Promise<Map<string, number>>;

  protected abstract all(sql: string, params?: unknown[]): Promise<Row[]>;
  protected abstract run(sql: string, params?: unknown[]): Promise<number>;
  protected abstract isUniqueViolation(error: unknown): boolean;

  protected async get(sql: string, params?: unknown[]): Promise<Row | undefined> {
    return (await this.all(sql, params))[0];
  }

  /** Plain statements for feature stores kept in their own files (store/enrollment-store.ts, store/totp-store.ts). */
  sql(): SqlRunner {
    return { all: (sql, params) => this.all(sql, params), run: (sql, params) => this.run(sql, params) };
  }

  async ping(): Promise<void> {
    await this.get('SELECT 1 AS ok');
  }

  async getOrCreateSecret(name: string, create: () => string): Promise<string> {
    await this.run('INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [name, create(), Date.now()]);
    const row = await this.get('SELECT value FROM server_secrets WHERE name = $1', [name]);
    if (!row) throw new Error(`server secret ${name} could not be stored`);
    return str(row.value);
  }

  async insertApp(app: NewApp): Promise<void> {
    try {
      await this.run('INSERT INTO apps (id, name, server_key_hash, client_key_hash, created_at) VALUES ($1, $2, $3, $4, $5)', [
        app.id,
        app.name,
        app.serverKeyHash,
        app.clientKeyHash,
        app.createdAt,
      ]);
    } catch (error) {
      if (this.isUniqueViolation(error)) throw new UniqueViolation('an app with this id or key exists');
      throw error;
    }
  }

  async appByServerKeyHash(hash: string): Promise<AppRow | undefined> {
    const r = await this.get('SELECT id, name, created_at, revoked_at FROM apps WHERE server_key_hash = $1', [hash]);
    return r && toApp(r);
  }

  async appByClientKeyHash(hash: string): Promise<AppRow | undefined> {
    const r = await this.get('SELECT id, name, created_at, revoked_at FROM apps WHERE client_key_hash = $1', [hash]);
    return r && toApp(r);
  }

  async getApp(id: string): Promise<AppRow | undefined> {
    const r = await this.get('SELECT id, name, created_at, revoked_at FROM apps WHERE id = $1', [id]);
    return r && toApp(r);
  }

  async listApps(): Promise<AppSummary[]> {
    const rows = await this.all(
      `SELECT a.id, a.name, a.created_at, a.revoked_at,
        (SELECT COUNT(*) FROM users u WHERE u.app_id = a.id) AS users,
        (SELECT COUNT(*) FROM devices d WHERE d.app_id = a.id) AS devices
       FROM apps a ORDER BY a.created_at, a.id`,
    );
    return rows.map((r) => ({ ...toApp(r), users: num(r.users), devices: num(r.devices) }));
  }

  async revokeApp(id: string, at: number): Promise<boolean> {
    return (await this.run('UPDATE apps SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [id, at])) > 0;
  }

  async insertUserIfAbsent(user: UserRow, usernameKey: string): Promise<UserRow> {
    await this.run(
      `INSERT INTO users (id, app_id, username, username_key, did, signing_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (app_id, username_key) DO NOTHING`,
      [user.id, user.appId, user.username, usernameKey, user.did, user.signingKey, user.createdAt],
    );
    const stored = await this.userByName(user.appId, usernameKey);
    if (!stored) throw new Error('user row vanished after insert');
    return stored;
  }

  async bindUserIdentity(appId: string, userId: string, did: string, signingKey: string): Promise<UserRow> {
    await this.run('UPDATE users SET did = $3, signing_key = $4 WHERE app_id = $1 AND id = $2 AND did IS NULL', [appId, userId, did, signingKey]);
    const stored = await this.userById(appId, userId);
    if (!stored) throw new Error('user row vanished after update');
    return stored;
  }

  async userById(appId: string, id: string): Promise<UserRow | undefined> {
    const r = await this.get('SELECT * FROM users WHERE app_id = $1 AND id = $2', [appId, id]);
    return r && toUser(r);
  }

  async userByName(appId: string, usernameKey: string): Promise<UserRow | undefined> {
    const r = await this.get('SELECT * FROM users WHERE app_id = $1 AND username_key = $2', [appId, usernameKey]);
    return r && toUser(r);
  }

  async insertDeviceIfAbsent(d: DeviceRow): Promise<DeviceRow> {
    await this.run(
      `INSERT INTO devices (app_id, device_id, user_id, package, encryption_key, fingerprint, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (app_id, device_id) DO NOTHING`,
      [d.appId, d.deviceId, d.userId, d.packageJson, d.encryptionKey, d.fingerprint, d.createdAt],
    );
    const r = await this.get('SELECT * FROM devices WHERE app_id = $1 AND device_id = $2', [d.appId, d.deviceId]);
    if (!r) throw new Error('device row vanished after insert');
    return toDevice(r);
  }

  async deviceAuth(appId: string, deviceId: string): Promise<DeviceAuthRow | undefined> {
    const r = await this.get(`SELECT ${DEVICE_AUTH_COLUMNS} FROM devices d JOIN apps a ON a.id = d.app_id WHERE d.app_id = $1 AND d.device_id = $2`, [appId, deviceId]);
    return r && toDeviceAuth(r);
  }

  async devicesOfUser(appId: string, userId: string): Promise<DeviceRow[]> {
    const rows = await this.all('SELECT * FROM devices WHERE app_id = $1 AND user_id = $2 ORDER BY created_at, device_id', [appId, userId]);
    return rows.map(toDevice);
  }

  async listDevices(appId: string): Promise<DeviceRow[]> {
    const rows = await this.all('SELECT * FROM devices WHERE app_id = $1 ORDER BY created_at, device_id', [appId]);
    return rows.map(toDevice);
  }

  async revokeDevice(appId: string, deviceId: string, at: number): Promise<boolean> {
    return (await this.run('UPDATE devices SET revoked_at = $3 WHERE app_id = $1 AND device_id = $2 AND revoked_at IS NULL', [appId, deviceId, at])) > 0;
  }

  async putDelegation(appId: string, d: DelegationRow, at: number): Promise<boolean> {
    const other = await this.get('SELECT device_id FROM device_delegations WHERE app_id = $1 AND device_did = $2', [appId, d.deviceDid]);
    if (other && str(other.device_id) !== d.deviceId) return false;
    try {
      await this.run(
        `INSERT INTO device_delegations (app_id, device_id, device_did, delegation, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (app_id, device_id) DO UPDATE SET device_did = excluded.device_did, delegation = excluded.delegation, created_at = excluded.created_at`,
        [appId, d.deviceId, d.deviceDid, d.delegationJson, at],
      );
    } catch (error) {
      if (this.isUniqueViolation(error)) return false;
      throw error;
    }
    return true;
  }

  async delegationsOfUser(appId: string, userId: string): Promise<DelegationRow[]> {
    const rows = await this.all(
      `SELECT g.device_id, g.device_did, g.delegation FROM device_delegations g JOIN devices d ON d.app_id = g.app_id AND d.device_id = g.device_id
       WHERE g.app_id = $1 AND d.user_id = $2 ORDER BY g.device_id`,
      [appId, userId],
    );
    return rows.map((r) => ({ deviceId: str(r.device_id), deviceDid: str(r.device_did), delegationJson: str(r.delegation) }));
  }

  async insertKeyChange(appId: string, userId: string, k: Omit<KeyChangeRow, 'seq'>): Promise<boolean> {
    // seq from the rows already there; a concurrent insert with the same seq (or
    // the same old key) violates a unique key and is refused, never merged.
    try {
      await this.run(
        `INSERT INTO key_changes (app_id, user_id, seq, old_fingerprint, new_fingerprint, statement, created_at)
         VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM key_changes WHERE app_id = $1 AND user_id = $2), $3, $4, $5, $6)`,
        [appId, userId, k.oldFingerprint, k.newFingerprint, k.statementJson, k.createdAt],
      );
    } catch (error) {
      if (this.isUniqueViolation(error)) return false;
      throw error;
    }
    return true;
  }

  async keyChangesOfUser(appId: string, userId: string): Promise<KeyChangeRow[]> {
    const rows = await this.all('SELECT * FROM key_changes WHERE app_id = $1 AND user_id = $2 ORDER BY seq', [appId, userId]);
    return rows.map((r) => ({
      seq: num(r.seq),
      oldFingerprint: str(r.old_fingerprint),
      newFingerprint: str(r.new_fingerprint),
      statementJson: str(r.statement),
      createdAt: num(r.created_at),
    }));
  }

  async agentAuth(appId: string, deviceDid: string): Promise<AgentAuthRow | undefined> {
    const r = await this.get(
      `SELECT g.device_id, g.delegation, d.user_id, d.revoked_at, u.did, a.revoked_at AS app_revoked_at
       FROM device_delegations g JOIN devices d ON d.app_id = g.app_id AND d.device_id = g.device_id
       JOIN users u ON u.id = d.user_id JOIN apps a ON a.id = g.app_id
       WHERE g.app_id = $1 AND g.device_did = $2`,
      [appId, deviceDid],
    );
    return (
      r && {
        deviceId: str(r.device_id),
        userId: str(r.user_id),
        did: strOrNull(r.did),
        delegationJson: str(r.delegation),
        revokedAt: numOrNull(r.revoked_at),
        appRevokedAt: numOrNull(r.app_revoked_at),
      }
    );
  }

  async useAgentTokenId(appId: string, jti: string, expiresAt: number, now: number): Promise<boolean> {
    await this.run(PRUNE_AGENT_TOKEN_IDS, [now]);
    return (await this.run(INSERT_AGENT_TOKEN_ID, [appId, jti, expiresAt])) > 0;
  }

  async insertKey(k: NewKey): Promise<number> {
    const r = await this.get(
      `INSERT INTO keys (app_id, token_hash, mode, public_key, fingerprint, bits, private_key_kind, private_key, passphrase_verifier,
         private_key_hash_verifier, owner_user_id, published_token, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
      [
        k.appId,
        k.tokenHash,
        k.mode,
        k.publicKey,
        k.fingerprint,
        k.bits,
        k.privateKeyKind,
        k.privateKey,
        k.passphraseVerifier,
        k.privateKeyHashVerifier,
        k.ownerUserId,
        k.publishedToken,
        k.createdAt,
      ],
    );
    if (!r) throw new Error('key insert returned no id');
    return num(r.id);
  }

  async keyByTokenHash(appId: string, tokenHash: string): Promise<KeyRow | undefined> {
    const r = await this.get('SELECT * FROM keys WHERE app_id = $1 AND token_hash = $2', [appId, tokenHash]);
    return r && toKey(r);
  }

  async keyForSend(appId: string, tokenHash: string): Promise<KeyRef | undefined> {
    const r = await this.get(`SELECT ${KEY_REF_COLUMNS} FROM keys k WHERE k.app_id = $1 AND k.token_hash = $2`, [appId, tokenHash]);
    return r && toKeyRef(r);
  }

  async deleteKey(id: number): Promise<boolean> {
    return (await this.run('DELETE FROM keys WHERE id = $1', [id])) > 0;
  }

  async publishedKeysOfUser(appId: string, userId: string): Promise<KeyRow[]> {
    const rows = await this.all(
      'SELECT * FROM keys WHERE app_id = $1 AND owner_user_id = $2 AND published_token IS NOT NULL ORDER BY created_at, id',
      [appId, userId],
    );
    return rows.map(toKey);
  }

  async listMessages(keyId: number, after: number, limit: number): Promise<MessageRow[]> {
    const rows = await this.all(
      `SELECT seq, client_id, kind, is_file, file_name, content_type, body, enc_key, size, sent_on, sender
       FROM messages WHERE key_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [keyId, after, limit],
    );
    return rows.map(toMessage);
  }

  ackMessages(keyId: number, upTo: number, at: number): Promise<AckedMessage[]> {
    return ackMessagesReporting({ get: (sql, p) => this.get(sql, p), all: (sql, p) => this.all(sql, p) }, keyId, upTo, at);
  }

  async deliveredMessages(keyId: number, sender: string, seqs: number[]): Promise<number[]> {
    if (seqs.length === 0) return [];
    const list = seqs.map((_, i) => `$${i + 3}`).join(', ');
    const rows = await this.all(
      `SELECT m.seq FROM messages m JOIN key_acks a ON a.key_id = m.key_id
       WHERE m.key_id = $1 AND m.sender = $2 AND m.seq <= a.acked_seq AND m.seq IN (${list}) ORDER BY m.seq`,
      [keyId, sender, ...seqs],
    );
    return rows.map((r) => num(r.seq));
  }

  async getItem(appId: string, identifier: string): Promise<ItemRow | undefined> {
    const r = await this.get('SELECT * FROM items WHERE app_id = $1 AND identifier = $2', [appId, identifier]);
    return r && toItem(r);
  }

  async createItem(i: ItemRow): Promise<boolean> {
    const changes = await this.run(
      `INSERT INTO items (app_id, identifier, owner_id, version, data, owner_wrapped_key, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (app_id, identifier) DO NOTHING`,
      [i.appId, i.identifier, i.ownerId, i.version, i.data, i.ownerWrappedKey, i.createdAt, i.updatedAt],
    );
    return changes === 1;
  }

  async updateItem(appId: string, identifier: string, expectedVersion: number, data: Buffer, wrappedKey: Buffer | null, at: number): Promise<number | null> {
    const r = await this.get(
      `UPDATE items SET data = $4, version = version + 1, owner_wrapped_key = COALESCE($5, owner_wrapped_key), updated_at = $6
       WHERE app_id = $1 AND identifier = $2 AND version = $3 RETURNING version`,
      [appId, identifier, expectedVersion, data, wrappedKey, at],
    );
    return r ? num(r.version) : null;
  }

  async deleteItem(appId: string, identifier: string): Promise<boolean> {
    return (await this.run('DELETE FROM items WHERE app_id = $1 AND identifier = $2', [appId, identifier])) > 0;
  }

  async listOwnItems(appId: string, ownerId: string, after: string, limit: number): Promise<ItemRow[]> {
    const rows = await this.all(
      'SELECT * FROM items WHERE app_id = $1 AND owner_id = $2 AND identifier > $3 ORDER BY identifier LIMIT $4',
      [appId, ownerId, after, limit],
    );
    return rows.map(toItem);
  }

  async listSharedItems(appId: string, userId: string, after: string, limit: number): Promise<SharedItemRow[]> {
    const rows = await this.all(
      `SELECT i.*, g.role AS grant_role, g.wrapped_key AS grant_wrapped_key FROM grants g
       JOIN items i ON i.app_id = g.app_id AND i.identifier = g.identifier
       WHERE g.app_id = $1 AND g.user_id = $2 AND g.identifier > $3 ORDER BY g.identifier LIMIT $4`,
      [appId, userId, after, limit],
    );
    return rows.map((r) => ({ ...toItem(r), role: str(r.grant_role) as SharedItemRow['role'], grantWrappedKey: buf(r.grant_wrapped_key) }));
  }

  async getGrant(appId: string, identifier: string, userId: string): Promise<GrantRow | undefined> {
    const r = await this.get('SELECT * FROM grants WHERE app_id = $1 AND identifier = $2 AND user_id = $3', [appId, identifier, userId]);
    return r && toGrant(r);
  }

  async listGrants(appId: string, identifier: string): Promise<GrantRow[]> {
    const rows = await this.all('SELECT * FROM grants WHERE app_id = $1 AND identifier = $2 ORDER BY user_id', [appId, identifier]);
    return rows.map(toGrant);
  }

  /** One statement, so a set of grants lands all together or not at all. Callers pass distinct user ids. */
  async upsertGrants(appId: string, identifier: string, grants: GrantRow[]): Promise<void> {
    if (grants.length === 0) return;
    const params: unknown[] = [];
    const values = grants.map((g) => {
      const base = params.length;
      params.push(appId, identifier, g.userId, g.role, g.wrappedKey, g.grantedAt);
      return `($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 5}, $${base + 6})`;
    });
    await this.run(
      `INSERT INTO grants (app_id, identifier, user_id, role, wrapped_key, granted_at) VALUES ${values.join(', ')}
       ON CONFLICT (app_id, identifier, user_id) DO UPDATE SET role = excluded.role, wrapped_key = excluded.wrapped_key, granted_at = excluded.granted_at`,
      params,
    );
    // Granted again: no longer revoked.
    const list = grants.map((_, i) => `$${i + 3}`).join(', ');
    await this.run(`DELETE FROM grant_revocations WHERE app_id = $1 AND identifier = $2 AND user_id IN (${list})`, [appId, identifier, ...grants.map((g) => g.userId)]);
  }

  async deleteGrants(appId: string, identifier: string, userIds: string[], at = Date.now()): Promise<number> {
    if (userIds.length === 0) return 0;
    const list = userIds.map((_, i) => `$${i + 3}`).join(', ');
    // Remembered only for users who had a grant: strangers keep getting 404.
    const had = (await this.all(`SELECT user_id FROM grants WHERE app_id = $1 AND identifier = $2 AND user_id IN (${list})`, [appId, identifier, ...userIds])).map((r) => str(r.user_id));
    const removed = await this.run(`DELETE FROM grants WHERE app_id = $1 AND identifier = $2 AND user_id IN (${list})`, [appId, identifier, ...userIds]);
    if (had.length > 0) {
      const params: unknown[] = [appId, identifier, at];
      const values = had.map((u) => {
        params.push(u);
        return `($1, $2, $${params.length}, $3)`;
      });
      await this.run(
        `INSERT INTO grant_revocations (app_id, identifier, user_id, revoked_at) VALUES ${values.join(', ')}
         ON CONFLICT (app_id, identifier, user_id) DO UPDATE SET revoked_at = excluded.revoked_at`,
        params,
      );
    }
    return removed;
  }

  async grantsChangedAt(appId: string, identifiers: string[]): Promise<Map<string, number>> {
    if (identifiers.length === 0) return new Map();
    const list = identifiers.map((_, i) => `$${i + 2}`).join(', ');
    const rows = await this.all(
      `SELECT identifier, MAX(t) AS t FROM (
         SELECT identifier, granted_at AS t FROM grants WHERE app_id = $1 AND identifier IN (${list})
         UNION ALL
         SELECT identifier, revoked_at AS t FROM grant_revocations WHERE app_id = $1 AND identifier IN (${list})
       ) changes GROUP BY identifier`,
      [appId, ...identifiers],
    );
    return new Map(rows.map((r) => [str(r.identifier), num(r.t)]));
  }

  async revokedAt(appId: string, identifier: string, userId: string): Promise<number | null> {
    const r = await this.get('SELECT revoked_at FROM grant_revocations WHERE app_id = $1 AND identifier = $2 AND user_id = $3', [appId, identifier, userId]);
    return r ? num(r.revoked_at) : null;
  }

  async listAuditByTarget(chain: string, target: string, after: number, limit: number): Promise<AuditRow[]> {
    return (await this.all('SELECT * FROM audit_log WHERE chain = $1 AND target = $2 AND seq > $3 ORDER BY seq LIMIT $4', [chain, target, after, limit])).map(toAudit);
  }

  async listAudit(chain: string, userId: string | null, after: number, limit: number): Promise<AuditRow[]> {
    const rows =
      userId === null
        ? await this.all('SELECT * FROM audit_log WHERE chain = $1 AND seq > $2 ORDER BY seq LIMIT $3', [chain, after, limit])
        : await this.all('SELECT * FROM audit_log WHERE chain = $1 AND user_id = $2 AND seq > $3 ORDER BY seq LIMIT $4', [chain, userId, after, limit]);
    return rows.map(toAudit);
  }

  async getCounter(key: string, windowStart: number): Promise<number> {
    const r = await this.get('SELECT count FROM rate_counters WHERE key = $1 AND window_start = $2', [key, windowStart]);
    return r ? num(r.count) : 0;
  }

  async pruneCounters(before: number): Promise<void> {
    await this.run('DELETE FROM rate_counters WHERE window_start < $1', [before]);
  }

  async getRecovery(appId: string, usernameKey: string): Promise<RecoveryRow | undefined> {
    const r = await this.get('SELECT * FROM recovery_records WHERE app_id = $1 AND username_key = $2', [appId, usernameKey]);
    if (!r) return undefined;
    return {
      appId: str(r.app_id),
      usernameKey: str(r.username_key),
      identityKey: str(r.identity_key),
      share: buf(r.share),
      pinParams: strOrNull(r.pin_params),
      backup: bufOrNull(r.backup),
      pinCheckHash: bufOrNull(r.pin_check_hash),
      wordsCheckHash: bufOrNull(r.words_check_hash),
      escrow: strOrNull(r.escrow),
      failures: num(r.failures),
      lockedUntil: num(r.locked_until),
      updatedAt: num(r.updated_at),
    };
  }

  async putRecovery(x: RecoveryRow): Promise<void> {
    await this.run(
      `INSERT INTO recovery_records (app_id, username_key, identity_key, share, pin_params, backup, pin_check_hash, words_check_hash, escrow, failures, locked_until, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (app_id, username_key) DO UPDATE SET identity_key = excluded.identity_key, share = excluded.share, pin_params = excluded.pin_params,
         backup = excluded.backup, pin_check_hash = excluded.pin_check_hash, words_check_hash = excluded.words_check_hash, escrow = excluded.escrow,
         failures = excluded.failures, locked_until = excluded.locked_until, updated_at = excluded.updated_at`,
      [x.appId, x.usernameKey, x.identityKey, x.share, x.pinParams, x.backup, x.pinCheckHash, x.wordsCheckHash, x.escrow, x.failures, x.lockedUntil, x.updatedAt],
    );
  }

  async recoveryFailed(appId: string, usernameKey: string, lockedUntil: (failures: number) => number): Promise<number> {
    // One statement increments, so concurrent wrong checks are all counted.
    await this.run('UPDATE recovery_records SET failures = failures + 1 WHERE app_id = $1 AND username_key = $2', [appId, usernameKey]);
    const r = await this.get('SELECT failures FROM recovery_records WHERE app_id = $1 AND username_key = $2', [appId, usernameKey]);
    const failures = r ? num(r.failures) : 0;
    await this.run('UPDATE recovery_records SET locked_until = $3 WHERE app_id = $1 AND username_key = $2 AND locked_until < $3', [appId, usernameKey, lockedUntil(failures)]);
    return failures;
  }

  async recoverySucceeded(appId: string, usernameKey: string): Promise<void> {
    await this.run('UPDATE recovery_records SET failures = 0, locked_until = 0 WHERE app_id = $1 AND username_key = $2', [appId, usernameKey]);
  }

  async createLinkSession(x: LinkSessionRow, now: number): Promise<boolean> {
    // Expired sessions give their codes back before the unique (app, code) check.
    await this.run('DELETE FROM link_sessions WHERE expires_at <= $1', [now]);
    const n = await this.run(
      `INSERT INTO link_sessions (link_id, app_id, username_key, code, commitment, claim_key, claimed_by, reveal_key, sealed, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, NULL, NULL, NULL, NULL, $6, $7) ON CONFLICT DO NOTHING`,
      [x.linkId, x.appId, x.usernameKey, x.code, x.commitment, x.createdAt, x.expiresAt],
    );
    return n > 0;
  }

  async getLinkSession(appId: string, linkId: string, now: number): Promise<LinkSessionRow | undefined> {
    const r = await this.get('SELECT * FROM link_sessions WHERE app_id = $1 AND link_id = $2 AND expires_at > $3', [appId, linkId, now]);
    return r ? toLinkSession(r) : undefined;
  }

  async linkSessionByCode(appId: string, code: string, now: number): Promise<LinkSessionRow | undefined> {
    const r = await this.get('SELECT * FROM link_sessions WHERE app_id = $1 AND code = $2 AND expires_at > $3', [appId, code, now]);
    return r ? toLinkSession(r) : undefined;
  }

  async claimLinkSession(appId: string, linkId: string, deviceId: string, claimKey: Buffer, now: number): Promise<boolean> {
    // Conditional update: of two concurrent claims exactly one changes the row.
    const n = await this.run('UPDATE link_sessions SET claim_key = $3, claimed_by = $4 WHERE app_id = $1 AND link_id = $2 AND claimed_by IS NULL AND expires_at > $5', [
      appId,
      linkId,
      claimKey,
      deviceId,
      now,
    ]);
    return n > 0;
  }

  async revealLinkSession(appId: string, linkId: string, revealKey: Buffer, now: number): Promise<boolean> {
    const n = await this.run('UPDATE link_sessions SET reveal_key = $3 WHERE app_id = $1 AND link_id = $2 AND claimed_by IS NOT NULL AND reveal_key IS NULL AND expires_at > $4', [
      appId,
      linkId,
      revealKey,
      now,
    ]);
    return n > 0;
  }

  async sealLinkSession(appId: string, linkId: string, deviceId: string, sealed: Buffer, now: number): Promise<boolean> {
    const n = await this.run(
      'UPDATE link_sessions SET sealed = $4 WHERE app_id = $1 AND link_id = $2 AND claimed_by = $3 AND reveal_key IS NOT NULL AND sealed IS NULL AND expires_at > $5',
      [appId, linkId, deviceId, sealed, now],
    );
    return n > 0;
  }

  async deleteLinkSession(appId: string, linkId: string): Promise<boolean> {
    return (await this.run('DELETE FROM link_sessions WHERE app_id = $1 AND link_id = $2', [appId, linkId])) > 0;
  }
}

const toLinkSession = (r: Row): LinkSessionRow => ({
  linkId: str(r.link_id),
  appId: str(r.app_id),
  usernameKey: str(r.username_key),
  code: str(r.code),
  commitment: buf(r.commitment),
  claimKey: bufOrNull(r.claim_key),
  claimedBy: strOrNull(r.claimed_by),
  revealKey: bufOrNull(r.reveal_key),
  sealed: bufOrNull(r.sealed),
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at),
});

/**
 * The key service's storage interface. Two adapters implement it (sqlite.ts,
 * postgres.ts) and the same API test suite runs against both.
 *
 * Nothing here keeps state in process memory that correctness depends on:
 * uniqueness, dedupe, versions, counters and the audit chain are all enforced
 * by the database (unique constraints, conditional updates, row locks), so
 * several server instances can share one database.
 *
 * Times are milliseconds since the epoch; binary values are Buffers.
 *
 * The rows are in their own modules by domain (app-user-rows.ts,
 * key-message-rows.ts, item-grant-rows.ts, audit-counter-rows.ts,
 * recovery-link-rows.ts) and the errors in store-errors.ts; this module
 * re-exports them, so importers keep one place to import from.
 */
import type { AgentAuthRow, AppRow, AppSummary, DelegationRow, DeviceAuthRow, DeviceRow, KeyChangeRow, NewApp, UserRow } from './app-user-rows.js';
import type { AuditAppend, AuditRow, CounterHit, NewAuditEntry } from './audit-counter-rows.js';
import type { GrantRow, ItemRow, SharedItemRow } from './item-grant-rows.js';
import type { AckedMessage, InsertMessagesResult, KeyRef, KeyRow, MessageRow, NewKey, NewMessage } from './key-message-rows.js';
import type { LinkSessionRow, RecoveryRow } from './recovery-link-rows.js';

export type * from './app-user-rows.js';
export * from './audit-counter-rows.js';
export type * from './item-grant-rows.js';
export * from './key-message-rows.js';
export type * from './recovery-link-rows.js';
export * from './store-errors.js';

export type StoreKind = 'sqlite' | 'postgres';

/** Plain SQL with PostgreSQL's $n placeholders (the SQLite adapter rewrites them): rows, or the number of rows changed. */
export interface SqlRunner {
  all(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  run(sql: string, params?: unknown[]): Promise<number>;
}

export interface Store {
  readonly kind: StoreKind;
  /** For feature stores in their own files; each statement is atomic on its own. */
  sql(): SqlRunner;
  /** Creates or upgrades the schema; safe to run from several instances at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;

  /** A server-wide secret: the stored value, or `create()` stored atomically (first writer wins). */
  getOrCreateSecret(name: string, create: () => string): Promise<string>;

  /** @throws {UniqueViolation} an app with that id or key hash exists */
  insertApp(app: NewApp): Promise<void>;
  appByServerKeyHash(hash: string): Promise<AppRow | undefined>;
  appByClientKeyHash(hash: string): Promise<AppRow | undefined>;
  getApp(id: string): Promise<AppRow | undefined>;
  listApps(): Promise<AppSummary[]>;
  revokeApp(id: string, at: number): Promise<boolean>;

  /** Inserts the user unless the (app, username) exists; returns the stored row either way. */
  insertUserIfAbsent(user: UserRow, usernameKey: string): Promise<UserRow>;
  /** Binds an identity to a user that has none yet; returns the stored row. */
  bindUserIdentity(appId: string, userId: string, did: string, signingKey: string): Promise<UserRow>;
  userById(appId: string, id: string): Promise<UserRow | undefined>;
  userByName(appId: string, usernameKey: string): Promise<UserRow | undefined>;
  /** Inserts the device unless (app, deviceId) exists; returns the stored row either way. */
  insertDeviceIfAbsent(device: DeviceRow): Promise<DeviceRow>;
  deviceAuth(appId: string, deviceId: string): Promise<DeviceAuthRow | undefined>;
  devicesOfUser(appId: string, userId: string): Promise<DeviceRow[]>;
  listDevices(appId: string): Promise<DeviceRow[]>;
  revokeDevice(appId: string, deviceId: string, at: number): Promise<boolean>;
  /** Stores (or replaces) a device's delegation; false when its deviceDid is delegated to another device. */
  putDelegation(appId: string, row: DelegationRow, at: number): Promise<boolean>;
  delegationsOfUser(appId: string, userId: string): Promise<DelegationRow[]>;
  /** Appends a key change as the user's next; false when its old or new fingerprint is in a stored change already. */
  insertKeyChange(appId: string, userId: string, row: Omit<KeyChangeRow, 'seq'>): Promise<boolean>;
  /** The user's key changes, oldest first. */
  keyChangesOfUser(appId: string, userId: string): Promise<KeyChangeRow[]>;
  /** The delegated device whose device key is `deviceDid` in the app. */
  agentAuth(appId: string, deviceDid: string): Promise<AgentAuthRow | undefined>;
  /** Records an agent-token id until `expiresAt`; false when it was already used (a replay). Forgets expired ids. */
  useAgentTokenId(appId: string, jti: string, expiresAt: number, now: number): Promise<boolean>;

  insertKey(key: NewKey): Promise<number>;
  keyByTokenHash(appId: string, tokenHash: string): Promise<KeyRow | undefined>;
  keyForSend(appId: string, tokenHash: string): Promise<KeyRef | undefined>;
  deleteKey(id: number): Promise<boolean>;
  publishedKeysOfUser(appId: string, userId: string): Promise<KeyRow[]>;

  /**
   * Stores messages for a key with increasing MessageIds, atomically. With a
   * clientId, a second call with the same (key, clientId) stores nothing and
   * returns the first call's ids, and whether the content was the same (by
   * `contentHash` when given, else byte for byte).
   *
   * `audit`, when given, is appended to its chain unless the result is a
   * duplicate with different content (the caller refuses that one and audits
   * it itself). SQLite appends it in the same transaction as the messages;
   * PostgreSQL right after them, and a failure there rejects the call (a
   * retry with the same clientId is deduped and appends it then).
   */
  insertMessages(keyId: number, messages: NewMessage[], clientId: string | null, contentHash: Buffer | null, audit?: AuditAppend): Promise<InsertMessagesResult>;
  /** Messages with MessageId > after, oldest first. */
  listMessages(keyId: number, after: number, limit: number): Promise<MessageRow[]>;
  /**
   * Records that the key's owner has fetched every message up to MessageId `upTo`
   * (clamped to the key's last stored MessageId; never moves back). Returns the
   * messages with a sender and clientId this call acknowledged first (message-acks.ts).
   */
  ackMessages(keyId: number, upTo: number, at: number): Promise<AckedMessage[]>;
  /** Of `seqs`, the MessageIds on the key that `sender` sent and the key's owner has acknowledged. */
  deliveredMessages(keyId: number, sender: string, seqs: number[]): Promise<number[]>;

  getItem(appId: string, identifier: string): Promise<ItemRow | undefined>;
  /** false when the identifier exists. */
  createItem(item: ItemRow): Promise<boolean>;
  /** The new version, or null when `expectedVersion` is stale (or the item is gone). */
  updateItem(appId: string, identifier: string, expectedVersion: number, data: Buffer, ownerWrappedKey: Buffer | null, at: number): Promise<number | null>;
  deleteItem(appId: string, identifier: string): Promise<boolean>;
  listOwnItems(appId: string, ownerId: string, after: string, limit: number): Promise<ItemRow[]>;
  listSharedItems(appId: string, userId: string, after: string, limit: number): Promise<SharedItemRow[]>;
  getGrant(appId: string, identifier: string, userId: string): Promise<GrantRow | undefined>;
  listGrants(appId: string, identifier: string): Promise<GrantRow[]>;
  upsertGrants(appId: string, identifier: string, grants: GrantRow[]): Promise<void>;
  /** Removes grants and remembers who lost access (revokedAt), so they get 403 rather than 404. */
  deleteGrants(appId: string, identifier: string, userIds: string[], at?: number): Promise<number>;
  /** Per identifier, when a grant was last added, replaced or removed (identifiers without any are absent). */
  grantsChangedAt(appId: string, identifiers: string[]): Promise<Map<string, number>>;
  /** When the user's grant on the item was removed (and not given again), else null. */
  revokedAt(appId: string, identifier: string, userId: string): Promise<number | null>;

  /** Appends to the chain's hash chain: hash = SHA-256(previous hash || canonical entry). */
  appendAudit(entry: NewAuditEntry, canonical: Buffer): Promise<number>;
  listAudit(chain: string, userId: string | null, after: number, limit: number): Promise<AuditRow[]>;
  /** Entries of the chain about one target (e.g. `item:<identifier>`), whoever made them. */
  listAuditByTarget(chain: string, target: string, after: number, limit: number): Promise<AuditRow[]>;

  /** Adds `n` to each fixed-window counter (reset when its window moved on); returns the new counts by key. */
  incrementCounters(hits: CounterHit[]): Promise<Map<string, number>>;
  getCounter(key: string, windowStart: number): Promise<number>;
  pruneCounters(before: number): Promise<void>;

  /** Recovery records (routes/recovery.ts). */
  getRecovery(appId: string, usernameKey: string): Promise<RecoveryRow | undefined>;
  /** Inserts or replaces the record (failures and lock reset). */
  putRecovery(row: RecoveryRow): Promise<void>;
  /** Counts a wrong check; sets lockedUntil from the new count. Returns the new count. */
  recoveryFailed(appId: string, usernameKey: string, lockedUntil: (failures: number) => number): Promise<number>;
  recoverySucceeded(appId: string, usernameKey: string): Promise<void>;

  /** Device link sessions (routes/link.ts); expired rows are never returned. Deletes expired sessions, then inserts; false when the code is taken by a live session of the app. */
  createLinkSession(row: LinkSessionRow, now: number): Promise<boolean>;
  getLinkSession(appId: string, linkId: string, now: number): Promise<LinkSessionRow | undefined>;
  linkSessionByCode(appId: string, code: string, now: number): Promise<LinkSessionRow | undefined>;
  /** Records the existing device's key once: false when the session was claimed already (or is gone). */
  claimLinkSession(appId: string, linkId: string, deviceId: string, claimKey: Buffer, now: number): Promise<boolean>;
  /** Records the new device's key once, after the claim: false otherwise. */
  revealLinkSession(appId: string, linkId: string, revealKey: Buffer, now: number): Promise<boolean>;
  /** Stores the sealed secrets once, from the claiming device, after the reveal: false otherwise. */
  sealLinkSession(appId: string, linkId: string, deviceId: string, sealed: Buffer, now: number): Promise<boolean>;
  deleteLinkSession(appId: string, linkId: string): Promise<boolean>;
}

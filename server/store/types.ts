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
 */

export type StoreKind = 'sqlite' | 'postgres';

export interface AppRow {
  id: string;
  name: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface AppSummary extends AppRow {
  users: number;
  devices: number;
}

export interface NewApp {
  id: string;
  name: string;
  serverKeyHash: string;
  clientKeyHash: string;
  createdAt: number;
}

export interface UserRow {
  id: string;
  appId: string;
  username: string;
  /** The identity (did:key) bound by the first device package; null until then. */
  did: string | null;
  /** Ed25519 identity public key, base64url; null until the first device. */
  signingKey: string | null;
  createdAt: number;
}

export interface DeviceRow {
  appId: string;
  deviceId: string;
  userId: string;
  /** The signed device package as JSON text. */
  packageJson: string;
  encryptionKey: string;
  fingerprint: string;
  createdAt: number;
  revokedAt: number | null;
}

/** A device's published delegation (shared/delegation.ts). */
export interface DelegationRow {
  deviceId: string;
  deviceDid: string;
  /** The signed delegation as JSON text. */
  delegationJson: string;
}

/** A signed encryption-key change (shared/key-change.ts), in the user's order. */
export interface KeyChangeRow {
  seq: number;
  oldFingerprint: string;
  newFingerprint: string;
  /** The signed statement as JSON text. */
  statementJson: string;
  createdAt: number;
}

/** What an agent token is checked against on every request. */
export interface AgentAuthRow {
  deviceId: string;
  userId: string;
  /** The user's identity did:key. */
  did: string | null;
  delegationJson: string;
  revokedAt: number | null;
  appRevokedAt: number | null;
}

/** What a device JWT is checked against on every request. */
export interface DeviceAuthRow {
  userId: string;
  revokedAt: number | null;
  appRevokedAt: number | null;
}

export type KeyMode = 'online' | 'offline';
/** How a key's private half is kept: sealed by the server, an uploaded encrypted PKCS#8 PEM, or not at all. */
export type PrivateKeyKind = 'scrypt-aes-256-gcm' | 'pkcs8-pem' | null;

export interface NewKey {
  appId: string;
  tokenHash: string;
  mode: KeyMode;
  publicKey: string;
  fingerprint: string;
  bits: number;
  privateKeyKind: PrivateKeyKind;
  privateKey: Buffer | null;
  /** scrypt verifier of the passphrase (server-sealed keys only). */
  passphraseVerifier: string | null;
  /** scrypt verifier of the privatekeyhash. */
  privateKeyHashVerifier: string;
  ownerUserId: string | null;
  /** The token itself, kept only for keys published in the directory. */
  publishedToken: string | null;
  createdAt: number;
}

export interface KeyRow extends NewKey {
  id: number;
}

/** What a send needs of a key. */
export interface KeyRef {
  id: number;
  mode: KeyMode;
  publicKey: string;
  /** Whose inbox it is (the push stream tells that user's devices); null for a key made with a client key. */
  ownerUserId: string | null;
}

/** A message an inbox read acknowledged, for the sender's delivered event. */
export interface AckedMessage {
  /** As recorded by the send: `device:<deviceId>`, `client` or `server`. */
  sender: string;
  clientId: string;
}

export interface NewMessage {
  kind: KeyMode;
  isFile: boolean;
  fileName: string | null;
  contentType: string | null;
  body: Buffer;
  encKey: Buffer;
  size: number;
  sentOn: number;
  sender: string | null;
}

export interface MessageRow extends NewMessage {
  seq: number;
  clientId: string | null;
}

export interface InsertMessagesResult {
  /** MessageIds (per-key sequence numbers) of the stored messages, in order. */
  ids: number[];
  /** True when the clientId had been seen: nothing new was stored. */
  duplicate: boolean;
  /** For a duplicate: whether the earlier send had the same content. */
  sameContent: boolean;
}

export interface ItemRow {
  appId: string;
  identifier: string;
  ownerId: string;
  version: number;
  data: Buffer;
  ownerWrappedKey: Buffer | null;
  createdAt: number;
  updatedAt: number;
}

export interface GrantRow {
  identifier: string;
  userId: string;
  role: 'read' | 'edit';
  wrappedKey: Buffer;
  grantedAt: number;
}

export interface SharedItemRow extends ItemRow {
  role: 'read' | 'edit';
  grantWrappedKey: Buffer;
}

export interface NewAuditEntry {
  /** The app id, or "-" for requests no app could be identified for. */
  chain: string;
  ts: number;
  userId: string | null;
  deviceId: string | null;
  actor: string;
  action: string;
  target: string | null;
  result: string;
  status: number;
  ip: string;
}

/** An audit entry and its canonical bytes (audit.ts), to append together with a write. */
export interface AuditAppend {
  entry: NewAuditEntry;
  canonical: Buffer;
}

/** Whether insertMessages appends the `audit` it was given: always, except for a clientId reused with different content. */
export function auditsInsert(result: InsertMessagesResult): boolean {
  return !result.duplicate || result.sameContent;
}

export interface AuditRow extends NewAuditEntry {
  seq: number;
  hash: Buffer;
}

export interface CounterHit {
  key: string;
  windowStart: number;
  n: number;
}

/** A user's recovery record (routes/recovery.ts): one share of the backup key and what guards it. */
export interface RecoveryRow {
  appId: string;
  /** usernameKey(username): case- and normalisation-insensitive. */
  usernameKey: string;
  /** Ed25519 identity public key (base64url) that signed the deposit; later deposits must match. */
  identityKey: string;
  share: Buffer;
  pinParams: string | null;
  backup: Buffer | null;
  /** SHA-256 of the client's check values; a record with either is gated. */
  pinCheckHash: Buffer | null;
  wordsCheckHash: Buffer | null;
  escrow: string | null;
  failures: number;
  lockedUntil: number;
  updatedAt: number;
}

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

/** A device link session (routes/link.ts): only public keys, a commitment and ciphertext. */
export interface LinkSessionRow {
  linkId: string;
  appId: string;
  /** usernameKey(username) of the user whose device may claim it. */
  usernameKey: string;
  /** 8 digits, unique among the app's live sessions. */
  code: string;
  commitment: Buffer;
  claimKey: Buffer | null;
  /** The device id that claimed it (only it may seal). */
  claimedBy: string | null;
  revealKey: Buffer | null;
  sealed: Buffer | null;
  createdAt: number;
  expiresAt: number;
}

/** A unique constraint refused the write. */
export class UniqueViolation extends Error {
  constructor(message = 'already exists') {
    super(message);
    this.name = 'UniqueViolation';
  }
}

/** 32 zero bytes: the "previous hash" of a chain's first entry. */
export const AUDIT_GENESIS = Buffer.alloc(32);

/** The row a write depends on is gone (e.g. a key deleted while a message was being sent to it). */
export class MissingRow extends Error {
  constructor(message = 'not found') {
    super(message);
    this.name = 'MissingRow';
  }
}

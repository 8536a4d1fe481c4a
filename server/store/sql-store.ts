import * as agents from './sql-agent-delegations.js';
import * as apps from './sql-apps.js';
import * as audit from './sql-audit-counters.js';
import * as items from './sql-items-grants.js';
import * as keys from './sql-keys.js';
import * as links from './sql-link-sessions.js';
import * as messages from './sql-messages.js';
import * as recovery from './sql-recovery.js';
import type { Row, SqlQueries } from './sql-row.js';
import * as users from './sql-users-devices.js';
import type {
  AckedMessage,
  AgentAuthRow,
  AppRow,
  AppSummary,
  AuditAppend,
  AuditRow,
  CounterHit,
  DelegationRow,
  DeviceAuthRow,
  DeviceRow,
  GrantRow,
  InsertMessagesResult,
  ItemRow,
  KeyChangeRow,
  KeyRef,
  KeyRow,
  LinkSessionRow,
  MessageRow,
  NewApp,
  NewAuditEntry,
  NewKey,
  NewMessage,
  RecoveryRow,
  SharedItemRow,
  SqlRunner,
  Store,
  StoreKind,
  UserRow,
} from './types.js';

/**
 * The SQL both adapters share. Statements use PostgreSQL's `$n` placeholders;
 * the SQLite adapter rewrites them. Only what cannot be one portable
 * statement (message sequence numbers, the audit chain, migrations) is left
 * to the adapters.
 *
 * The statements live in one module per domain (sql-apps.ts,
 * sql-users-devices.ts, sql-agent-delegations.ts, sql-keys.ts,
 * sql-messages.ts, sql-items-grants.ts, sql-audit-counters.ts,
 * sql-recovery.ts, sql-link-sessions.ts); this class hands each the adapter's
 * get/all/run, so an adapter's override of one of them (SQLite's cached
 * statements, its one-step get) applies to every domain.
 */
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

  /** The adapter's statements, for the per-domain modules. */
  private readonly q: SqlQueries = {
    get: (sql, params) => this.get(sql, params),
    all: (sql, params) => this.all(sql, params),
    run: (sql, params) => this.run(sql, params),
    isUniqueViolation: (error) => this.isUniqueViolation(error),
  };

  /** Plain statements for feature stores kept in their own files (store/enrollment-store.ts, store/totp-store.ts). */
  sql(): SqlRunner {
    return { all: (sql, params) => this.all(sql, params), run: (sql, params) => this.run(sql, params) };
  }

  async ping(): Promise<void> {
    await this.get('SELECT 1 AS ok');
  }

  getOrCreateSecret(name: string, create: () => string): Promise<string> {
    return apps.getOrCreateSecret(this.q, name, create);
  }

  insertApp(app: NewApp): Promise<void> {
    return apps.insertApp(this.q, app);
  }
  appByServerKeyHash(hash: string): Promise<AppRow | undefined> {
    return apps.appByServerKeyHash(this.q, hash);
  }
  appByClientKeyHash(hash: string): Promise<AppRow | undefined> {
    return apps.appByClientKeyHash(this.q, hash);
  }
  getApp(id: string): Promise<AppRow | undefined> {
    return apps.getApp(this.q, id);
  }
  listApps(): Promise<AppSummary[]> {
    return apps.listApps(this.q);
  }
  revokeApp(id: string, at: number): Promise<boolean> {
    return apps.revokeApp(this.q, id, at);
  }

  insertUserIfAbsent(user: UserRow, usernameKey: string): Promise<UserRow> {
    return users.insertUserIfAbsent(this.q, user, usernameKey);
  }
  bindUserIdentity(appId: string, userId: string, did: string, signingKey: string): Promise<UserRow> {
    return users.bindUserIdentity(this.q, appId, userId, did, signingKey);
  }
  userById(appId: string, id: string): Promise<UserRow | undefined> {
    return users.userById(this.q, appId, id);
  }
  userByName(appId: string, usernameKey: string): Promise<UserRow | undefined> {
    return users.userByName(this.q, appId, usernameKey);
  }
  insertDeviceIfAbsent(d: DeviceRow): Promise<DeviceRow> {
    return users.insertDeviceIfAbsent(this.q, d);
  }
  deviceAuth(appId: string, deviceId: string): Promise<DeviceAuthRow | undefined> {
    return users.deviceAuth(this.q, appId, deviceId);
  }
  devicesOfUser(appId: string, userId: string): Promise<DeviceRow[]> {
    return users.devicesOfUser(this.q, appId, userId);
  }
  listDevices(appId: string): Promise<DeviceRow[]> {
    return users.listDevices(this.q, appId);
  }
  revokeDevice(appId: string, deviceId: string, at: number): Promise<boolean> {
    return users.revokeDevice(this.q, appId, deviceId, at);
  }
  insertKeyChange(appId: string, userId: string, k: Omit<KeyChangeRow, 'seq'>): Promise<boolean> {
    return users.insertKeyChange(this.q, appId, userId, k);
  }
  keyChangesOfUser(appId: string, userId: string): Promise<KeyChangeRow[]> {
    return users.keyChangesOfUser(this.q, appId, userId);
  }

  putDelegation(appId: string, d: DelegationRow, at: number): Promise<boolean> {
    return agents.putDelegation(this.q, appId, d, at);
  }
  delegationsOfUser(appId: string, userId: string): Promise<DelegationRow[]> {
    return agents.delegationsOfUser(this.q, appId, userId);
  }
  agentAuth(appId: string, deviceDid: string): Promise<AgentAuthRow | undefined> {
    return agents.agentAuth(this.q, appId, deviceDid);
  }
  useAgentTokenId(appId: string, jti: string, expiresAt: number, now: number): Promise<boolean> {
    return agents.useAgentTokenId(this.q, appId, jti, expiresAt, now);
  }

  insertKey(k: NewKey): Promise<number> {
    return keys.insertKey(this.q, k);
  }
  keyByTokenHash(appId: string, tokenHash: string): Promise<KeyRow | undefined> {
    return keys.keyByTokenHash(this.q, appId, tokenHash);
  }
  keyForSend(appId: string, tokenHash: string): Promise<KeyRef | undefined> {
    return keys.keyForSend(this.q, appId, tokenHash);
  }
  deleteKey(id: number): Promise<boolean> {
    return keys.deleteKey(this.q, id);
  }
  publishedKeysOfUser(appId: string, userId: string): Promise<KeyRow[]> {
    return keys.publishedKeysOfUser(this.q, appId, userId);
  }

  listMessages(keyId: number, after: number, limit: number): Promise<MessageRow[]> {
    return messages.listMessages(this.q, keyId, after, limit);
  }
  ackMessages(keyId: number, upTo: number, at: number): Promise<AckedMessage[]> {
    return messages.ackMessages(this.q, keyId, upTo, at);
  }
  deliveredMessages(keyId: number, sender: string, seqs: number[]): Promise<number[]> {
    return messages.deliveredMessages(this.q, keyId, sender, seqs);
  }

  getItem(appId: string, identifier: string): Promise<ItemRow | undefined> {
    return items.getItem(this.q, appId, identifier);
  }
  createItem(i: ItemRow): Promise<boolean> {
    return items.createItem(this.q, i);
  }
  updateItem(appId: string, identifier: string, expectedVersion: number, data: Buffer, wrappedKey: Buffer | null, at: number): Promise<number | null> {
    return items.updateItem(this.q, appId, identifier, expectedVersion, data, wrappedKey, at);
  }
  deleteItem(appId: string, identifier: string): Promise<boolean> {
    return items.deleteItem(this.q, appId, identifier);
  }
  listOwnItems(appId: string, ownerId: string, after: string, limit: number): Promise<ItemRow[]> {
    return items.listOwnItems(this.q, appId, ownerId, after, limit);
  }
  listSharedItems(appId: string, userId: string, after: string, limit: number): Promise<SharedItemRow[]> {
    return items.listSharedItems(this.q, appId, userId, after, limit);
  }
  getGrant(appId: string, identifier: string, userId: string): Promise<GrantRow | undefined> {
    return items.getGrant(this.q, appId, identifier, userId);
  }
  listGrants(appId: string, identifier: string): Promise<GrantRow[]> {
    return items.listGrants(this.q, appId, identifier);
  }
  upsertGrants(appId: string, identifier: string, grants: GrantRow[]): Promise<void> {
    return items.upsertGrants(this.q, appId, identifier, grants);
  }
  deleteGrants(appId: string, identifier: string, userIds: string[], at?: number): Promise<number> {
    return items.deleteGrants(this.q, appId, identifier, userIds, at);
  }
  grantsChangedAt(appId: string, identifiers: string[]): Promise<Map<string, number>> {
    return items.grantsChangedAt(this.q, appId, identifiers);
  }
  revokedAt(appId: string, identifier: string, userId: string): Promise<number | null> {
    return items.revokedAt(this.q, appId, identifier, userId);
  }

  listAuditByTarget(chain: string, target: string, after: number, limit: number): Promise<AuditRow[]> {
    return audit.listAuditByTarget(this.q, chain, target, after, limit);
  }
  listAudit(chain: string, userId: string | null, after: number, limit: number): Promise<AuditRow[]> {
    return audit.listAudit(this.q, chain, userId, after, limit);
  }
  getCounter(key: string, windowStart: number): Promise<number> {
    return audit.getCounter(this.q, key, windowStart);
  }
  pruneCounters(before: number): Promise<void> {
    return audit.pruneCounters(this.q, before);
  }

  getRecovery(appId: string, usernameKey: string): Promise<RecoveryRow | undefined> {
    return recovery.getRecovery(this.q, appId, usernameKey);
  }
  putRecovery(x: RecoveryRow): Promise<void> {
    return recovery.putRecovery(this.q, x);
  }
  recoveryFailed(appId: string, usernameKey: string, lockedUntil: (failures: number) => number): Promise<number> {
    return recovery.recoveryFailed(this.q, appId, usernameKey, lockedUntil);
  }
  recoverySucceeded(appId: string, usernameKey: string): Promise<void> {
    return recovery.recoverySucceeded(this.q, appId, usernameKey);
  }

  createLinkSession(x: LinkSessionRow, now: number): Promise<boolean> {
    return links.createLinkSession(this.q, x, now);
  }
  getLinkSession(appId: string, linkId: string, now: number): Promise<LinkSessionRow | undefined> {
    return links.getLinkSession(this.q, appId, linkId, now);
  }
  linkSessionByCode(appId: string, code: string, now: number): Promise<LinkSessionRow | undefined> {
    return links.linkSessionByCode(this.q, appId, code, now);
  }
  claimLinkSession(appId: string, linkId: string, deviceId: string, claimKey: Buffer, now: number): Promise<boolean> {
    return links.claimLinkSession(this.q, appId, linkId, deviceId, claimKey, now);
  }
  revealLinkSession(appId: string, linkId: string, revealKey: Buffer, now: number): Promise<boolean> {
    return links.revealLinkSession(this.q, appId, linkId, revealKey, now);
  }
  sealLinkSession(appId: string, linkId: string, deviceId: string, sealed: Buffer, now: number): Promise<boolean> {
    return links.sealLinkSession(this.q, appId, linkId, deviceId, sealed, now);
  }
  deleteLinkSession(appId: string, linkId: string): Promise<boolean> {
    return links.deleteLinkSession(this.q, appId, linkId);
  }
}

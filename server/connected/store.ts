/**
 * Connected apps and their approval requests in the database (schema 9).
 * Secrets are stored as HMACs; a request's result is what the device sent (the
 * sealed key and the signature), never a key in the clear. Deciding a request
 * and collecting its result are single conditional updates, so two instances
 * (or a replayed call) cannot both win.
 * @module
 */
import type { ApprovalKind, ConnectedAppMode, KeyBits } from '../../shared/connected-wire.js';
import type { SqlRunner, Store } from '../store/types.js';

export interface ConnectedAppRow {
  id: string;
  appId: string;
  name: string;
  mode: ConnectedAppMode;
  keyBits: KeyBits;
  publicKey: string | null;
  secretHash: string;
  createdAt: number;
  removedAt: number | null;
}

export type StoredState = 'pending' | 'approved' | 'denied';

export interface ApprovalRow {
  id: string;
  appId: string;
  connectedAppId: string;
  kind: ApprovalKind;
  userId: string | null;
  userCode: string | null;
  reason: string | null;
  returnTo: string | null;
  transitKey: string | null;
  nonce: string;
  ip: string;
  createdAt: number;
  expiresAt: number;
  state: StoredState;
  decidedAt: number | null;
  decidedBy: string | null;
  /** JSON of the RequestResult (shared/connected-wire.ts) once approved. */
  result: string | null;
  collectedAt: number | null;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function toApp(r: Record<string, unknown>): ConnectedAppRow {
  return {
    id: String(r.id),
    appId: String(r.app_id),
    name: String(r.name),
    mode: String(r.mode) as ConnectedAppMode,
    keyBits: num(r.key_bits) as KeyBits,
    publicKey: strOrNull(r.public_key),
    secretHash: String(r.secret_hash),
    createdAt: num(r.created_at),
    removedAt: numOrNull(r.removed_at),
  };
}

function toRequest(r: Record<string, unknown>): ApprovalRow {
  return {
    id: String(r.id),
    appId: String(r.app_id),
    connectedAppId: String(r.connected_app_id),
    kind: String(r.kind) as ApprovalKind,
    userId: strOrNull(r.user_id),
    userCode: strOrNull(r.user_code),
    reason: strOrNull(r.reason),
    returnTo: strOrNull(r.return_to),
    transitKey: strOrNull(r.transit_key),
    nonce: String(r.nonce),
    ip: String(r.ip),
    createdAt: num(r.created_at),
    expiresAt: num(r.expires_at),
    state: String(r.state) as StoredState,
    decidedAt: numOrNull(r.decided_at),
    decidedBy: strOrNull(r.decided_by),
    result: strOrNull(r.result),
    collectedAt: numOrNull(r.collected_at),
  };
}

export class ConnectedStore {
  private readonly db: SqlRunner;

  constructor(store: Store) {
    this.db = store.sql();
  }

  async insertApp(row: ConnectedAppRow): Promise<void> {
    await this.db.run(
      `INSERT INTO connected_apps (id, app_id, name, mode, key_bits, public_key, secret_hash, created_at, removed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)`,
      [row.id, row.appId, row.name, row.mode, row.keyBits, row.publicKey, row.secretHash, row.createdAt],
    );
  }

  async appBySecretHash(hash: string): Promise<ConnectedAppRow | undefined> {
    const [r] = await this.db.all('SELECT * FROM connected_apps WHERE secret_hash = $1', [hash]);
    return r && toApp(r);
  }

  async app(id: string): Promise<ConnectedAppRow | undefined> {
    const [r] = await this.db.all('SELECT * FROM connected_apps WHERE id = $1', [id]);
    return r && toApp(r);
  }

  async listApps(appId?: string): Promise<ConnectedAppRow[]> {
    const rows = appId
      ? await this.db.all('SELECT * FROM connected_apps WHERE app_id = $1 ORDER BY created_at', [appId])
      : await this.db.all('SELECT * FROM connected_apps ORDER BY created_at', []);
    return rows.map(toApp);
  }

  /** Marks the app removed (its secret stops working; its requests stay for the audit trail). */
  async removeApp(id: string, now: number): Promise<boolean> {
    return (await this.db.run('UPDATE connected_apps SET removed_at = $2 WHERE id = $1 AND removed_at IS NULL', [id, now])) > 0;
  }

  /** @returns false when the id or user code is taken (the caller draws again) */
  async insertRequest(row: ApprovalRow): Promise<boolean> {
    try {
      const n = await this.db.run(
        `INSERT INTO approval_requests (id, app_id, connected_app_id, kind, user_id, user_code, reason, return_to, transit_key, nonce, ip, created_at, expires_at, state, decided_at, decided_by, result, collected_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'pending', NULL, NULL, NULL, NULL) ON CONFLICT DO NOTHING`,
        [row.id, row.appId, row.connectedAppId, row.kind, row.userId, row.userCode, row.reason, row.returnTo, row.transitKey, row.nonce, row.ip, row.createdAt, row.expiresAt],
      );
      return n > 0;
    } catch (error) {
      if ((error as Error).name === 'UniqueViolation') return false;
      throw error;
    }
  }

  async request(appId: string, id: string): Promise<ApprovalRow | undefined> {
    const [r] = await this.db.all('SELECT * FROM approval_requests WHERE app_id = $1 AND id = $2', [appId, id]);
    return r && toRequest(r);
  }

  /** A user's requests still waiting for a decision, oldest first. */
  async pendingFor(appId: string, userId: string, now: number): Promise<ApprovalRow[]> {
    const rows = await this.db.all(
      `SELECT * FROM approval_requests WHERE app_id = $1 AND user_id = $2 AND state = 'pending' AND expires_at > $3 ORDER BY created_at LIMIT 100`,
      [appId, userId, now],
    );
    return rows.map(toRequest);
  }

  async byUserCode(appId: string, code: string, now: number): Promise<ApprovalRow | undefined> {
    const [r] = await this.db.all(`SELECT * FROM approval_requests WHERE app_id = $1 AND user_code = $2 AND expires_at > $3`, [appId, code, now]);
    return r && toRequest(r);
  }

  /** Binds a username-less sign-in to the user who typed its code: true for exactly one caller. */
  async claim(appId: string, id: string, userId: string, now: number): Promise<boolean> {
    const n = await this.db.run(`UPDATE approval_requests SET user_id = $3 WHERE app_id = $1 AND id = $2 AND user_id IS NULL AND state = 'pending' AND expires_at > $4`, [
      appId,
      id,
      userId,
      now,
    ]);
    return n > 0;
  }

  /** Records the decision of a pending, unexpired request: true for exactly one caller. */
  async decide(appId: string, id: string, userId: string, state: 'approved' | 'denied', by: string, result: string | null, now: number): Promise<boolean> {
    const n = await this.db.run(
      `UPDATE approval_requests SET state = $4, decided_at = $6, decided_by = $5, result = $7
       WHERE app_id = $1 AND id = $2 AND user_id = $3 AND state = 'pending' AND expires_at > $6`,
      [appId, id, userId, state, by, now, result],
    );
    return n > 0;
  }

  /** Hands out an approved request's result once: true for exactly one reader. */
  async collect(appId: string, id: string, now: number): Promise<boolean> {
    const n = await this.db.run(`UPDATE approval_requests SET collected_at = $3 WHERE app_id = $1 AND id = $2 AND state = 'approved' AND collected_at IS NULL`, [appId, id, now]);
    return n > 0;
  }
}

/**
 * The local audit log (design §4 "every key and data request is logged"): who did
 * what, to what, with which result, hash-chained and anchored outside the database.
 *
 *   row bytes = UTF-8(canonicalJson({ id, ts, actor, action, target, result, details }))
 *   hash      = SHA-256(prev_hash || row bytes)      (prev_hash of the first row: 32 zero bytes)
 *
 * The chain alone catches an edited row and a row deleted in the middle, but not
 * a cut-off tail or a chain recomputed from the edit onwards: whoever can write
 * vault.db can do both. So the newest (id, hash) is also kept in the keychain
 * account 'audit-head', and verification checks the chain ends there. Rows newer
 * than the anchor (a crash between the commit and the keychain write, or two
 * processes racing) are reported as `unanchored`, not as tampering.
 *
 * Details never hold secrets: keys that name one (pin, passphrase, seed, data,
 * plaintext, privateKey, token, ...) are refused, as are binary values.
 * @module
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from '../../../shared/canonical-json.js';
import type { Keychain } from '../keychain/types.js';
import { checkInput, col, type Db, parseRow, parseRows, stmt } from './_sql.js';
import { VaultError } from './errors.js';

/** The actions the engine records. Extend here (one line). */
export const AUDIT_ACTIONS = [
  'identity.create',
  'identity.restore',
  'identity.export',
  'unlock',
  'lock',
  'pin.change',
  'pin.wipe',
  'encrypt',
  'decrypt',
  'grant',
  'revoke',
  'export',
  'import',
  'message.send',
  'message.open',
  'device.register',
  'device.package',
  'device.revoke',
  'contact.verify',
  'key.rotate',
  'backup.create',
  'recovery.words',
  'recovery.confirm',
  'recovery.backup',
  'audit.verify',
  'item.sync',
  'link.request',
  'link.claim',
  'link.confirm',
  'link.cancel',
  'totp.enable',
  'totp.confirm',
  'totp.disable',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface AuditInput {
  /** Who asked: 'ui', 'cli', 'webhost', 'sync', 'system'. */
  actor: string;
  action: AuditAction;
  /** What it was about (item identifier, peer, ...), never content. */
  target?: string | null;
  /** 'ok', or the result code's name ('WrongPin', 'Tampered', ...). */
  result: string;
  details?: Record<string, JsonValue> | null;
}

export interface AuditEntry {
  id: number;
  /** ms since epoch. */
  ts: number;
  actor: string;
  action: string;
  target: string | null;
  result: string;
  details: Record<string, JsonValue> | null;
  prevHash: string;
  hash: string;
}

export interface AuditHead {
  id: number;
  hash: string;
}

export type AuditFailure =
  | 'malformed-row' // a row does not parse
  | 'broken-link' // prev_hash differs from the previous row's hash: a row before it was deleted or reordered
  | 'hash-mismatch' // the row's content was edited
  | 'head-missing' // rows exist but no anchor in the keychain
  | 'head-corrupt' // the anchor does not parse
  | 'truncated' // the anchored row is gone: the tail was cut off
  | 'head-mismatch'; // the anchored row has another hash: history rewritten and the chain recomputed

export interface AuditVerifyResult {
  ok: boolean;
  /** Rows checked. */
  entries: number;
  /** The first row found bad (for 'truncated': the anchored id that is missing). */
  firstBadId?: number;
  reason?: AuditFailure;
  /** Rows after the anchor (normal: 0, or a few after a crash). */
  unanchored?: number;
}

export const GENESIS_HASH = '0'.repeat(64);

const SECRET_KEY_NAMES = new Set([
  'pin', 'oldpin', 'newpin', 'passphrase', 'password', 'secret', 'secrets', 'seed', 'mnemonic', 'words', 'recoverywords',
  'privatekey', 'privatekeyder', 'privatekeypem', 'privatekeyhash', 'plaintext', 'data', 'message', 'body', 'dek', 'key',
  'token', 'accesstoken', 'jwt', 'clientkey', 'serverkey', 'apikey', 'share',
]);

const Json: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string().max(512), z.number().finite(), z.boolean(), z.null(), z.array(Json).max(64), z.record(z.string().max(64), Json)]),
);

const Input = z.object({
  actor: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/),
  action: z.enum(AUDIT_ACTIONS),
  target: z.string().max(256).nullable().default(null),
  result: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,31}$/),
  details: z.record(z.string().max(64), Json).nullable().default(null),
});

const Row = z.object({
  id: col.int.positive(),
  ts: col.ms,
  actor: col.text,
  action: col.text,
  target: col.text.nullable(),
  result: col.text,
  details: col.text.nullable(),
  prev_hash: z.string().regex(/^[0-9a-f]{64}$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});
type Row = z.infer<typeof Row>;

const HeadSchema = z.object({ v: z.literal(1), id: z.number().int().positive(), hash: z.string().regex(/^[0-9a-f]{64}$/) }).strict();

/**
 * Refuses detail keys that name a secret, at any depth: a guard against a future
 * caller logging what it should not, not a proof that nothing secret gets in.
 */
function checkNoSecrets(value: JsonValue, path: string): void {
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
    if (typeof k === 'string' && SECRET_KEY_NAMES.has(k.toLowerCase().replace(/[^a-z]/g, ''))) {
      throw new VaultError('invalid-input', `audit details must not contain "${path}${k}" (secrets are never logged)`);
    }
    checkNoSecrets(v, `${path}${String(k)}.`);
  }
}

function rowBytes(e: { id: number; ts: number; actor: string; action: string; target: string | null; result: string; details: unknown }): Buffer {
  return Buffer.from(
    canonicalJson({ id: e.id, ts: e.ts, actor: e.actor, action: e.action, target: e.target, result: e.result, details: e.details }),
    'utf8',
  );
}

/** SHA-256(prev_hash || row bytes), hex. */
export function auditHash(prevHash: string, entry: Parameters<typeof rowBytes>[0]): string {
  return createHash('sha256').update(Buffer.from(prevHash, 'hex')).update(rowBytes(entry)).digest('hex');
}

function toEntry(r: Row): AuditEntry {
  let details: Record<string, JsonValue> | null = null;
  if (r.details !== null) {
    try {
      details = JSON.parse(r.details) as Record<string, JsonValue>;
    } catch (e) {
      throw new VaultError('corrupt-row', `audit row ${r.id} has unreadable details`, { cause: e });
    }
  }
  return { id: r.id, ts: r.ts, actor: r.actor, action: r.action, target: r.target, result: r.result, details, prevHash: r.prev_hash, hash: r.hash };
}

/**
 * Appends one entry to the chain (database only; {@link AuditLog.record} also
 * anchors it). Runs under the write lock so concurrent writers chain correctly.
 * @throws {VaultError} 'invalid-input' (bad fields, secret-looking detail keys, details over 4 KiB)
 */
export function appendAudit(db: Db, entry: AuditInput, now: number): AuditEntry {
  const e = checkInput(Input, entry, 'audit entry');
  if (e.details) checkNoSecrets(e.details, '');
  const details = e.details === null ? null : canonicalJson(e.details);
  if (details !== null && details.length > 4096) throw new VaultError('invalid-input', 'audit details over 4 KiB');
  return db
    .transaction((): AuditEntry => {
      const last = stmt(db, 'SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1').get() as { id: number; hash: string } | undefined;
      const id = (last?.id ?? 0) + 1;
      const prevHash = last?.hash ?? GENESIS_HASH;
      const fields = { id, ts: now, actor: e.actor, action: e.action, target: e.target, result: e.result, details: e.details };
      const hash = auditHash(prevHash, fields);
      stmt(
        db,
        'INSERT INTO audit (id, ts, actor, action, target, result, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(id, now, e.actor, e.action, e.target, e.result, details, prevHash, hash);
      return { ...fields, prevHash, hash };
    })
    .immediate();
}

/**
 * Newest first, optionally filtered, paged by `beforeId`.
 * @throws {VaultError} 'corrupt-row'
 */
export function listAudit(db: Db, q: { limit?: number; action?: string; result?: string; beforeId?: number } = {}): AuditEntry[] {
  const limit = Math.min(Math.max(1, q.limit ?? 100), 10_000);
  const rows = stmt(
    db,
    `SELECT * FROM audit WHERE id < ? AND (? IS NULL OR action = ?) AND (? IS NULL OR result = ?) ORDER BY id DESC LIMIT ?`,
  ).all(q.beforeId ?? Number.MAX_SAFE_INTEGER, q.action ?? null, q.action ?? null, q.result ?? null, q.result ?? null, limit);
  return parseRows(Row, rows, 'audit').map(toEntry);
}

/** The newest entry's id and hash, or null for an empty log. */
export function auditTail(db: Db): AuditHead | null {
  const last = stmt(db, 'SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1').get() as AuditHead | undefined;
  return last ?? null;
}

/**
 * Walks the whole chain (streaming) and checks it ends at `head`. Pure: no I/O
 * beyond reading `db`. `head` undefined = no anchor available (chain only);
 * null = the keychain has no anchor.
 */
export function checkAuditChain(db: Db, head: AuditHead | null | undefined): AuditVerifyResult {
  let prev = GENESIS_HASH;
  let entries = 0;
  let headRow: { id: number; hash: string } | undefined;
  let lastId = 0;
  let unanchored = 0;
  for (const raw of stmt(db, 'SELECT * FROM audit ORDER BY id').iterate()) {
    entries++;
    const rawId = (raw as { id?: unknown }).id;
    let row: Row;
    let entry: AuditEntry;
    try {
      row = parseRow(Row, raw, 'audit');
      entry = toEntry(row);
    } catch {
      return { ok: false, entries, reason: 'malformed-row', ...(typeof rawId === 'number' && { firstBadId: rawId }) };
    }
    if (row.prev_hash !== prev) return { ok: false, entries, firstBadId: row.id, reason: 'broken-link' };
    if (auditHash(prev, entry) !== row.hash) return { ok: false, entries, firstBadId: row.id, reason: 'hash-mismatch' };
    prev = row.hash;
    lastId = row.id;
    if (head && row.id === head.id) headRow = row;
    if (head && row.id > head.id) unanchored++;
  }
  if (head === undefined) return { ok: true, entries };
  if (head === null) return entries === 0 ? { ok: true, entries } : { ok: false, entries, reason: 'head-missing' };
  if (!headRow) return { ok: false, entries, firstBadId: head.id > lastId ? lastId + 1 : head.id, reason: 'truncated' };
  if (headRow.hash !== head.hash) return { ok: false, entries, firstBadId: head.id, reason: 'head-mismatch' };
  return { ok: true, entries, unanchored };
}

/**
 * Reads the anchor from the keychain.
 * @throws {KeychainError}
 * @returns null when absent, 'corrupt' when present but unreadable
 */
export async function readAuditHead(keychain: Keychain): Promise<AuditHead | null | 'corrupt'> {
  const bytes = await keychain.get('audit-head');
  if (!bytes) return null;
  try {
    const parsed = HeadSchema.safeParse(JSON.parse(Buffer.from(bytes).toString('utf8')));
    return parsed.success ? { id: parsed.data.id, hash: parsed.data.hash } : 'corrupt';
  } catch {
    return 'corrupt';
  }
}

const encodeHead = (h: AuditHead): Uint8Array => Buffer.from(JSON.stringify({ v: 1, id: h.id, hash: h.hash }), 'utf8');

/**
 * Verifies the chain against the keychain anchor.
 * @throws {KeychainError} when the keychain cannot be read
 */
export async function verifyAuditChain(db: Db, keychain: Keychain): Promise<AuditVerifyResult> {
  const head = await readAuditHead(keychain);
  if (head === 'corrupt') {
    const chain = checkAuditChain(db, undefined);
    return chain.ok ? { ok: false, entries: chain.entries, reason: 'head-corrupt' } : chain;
  }
  return checkAuditChain(db, head);
}

/**
 * The audit log of one profile: appends to vault.db and keeps the keychain anchor
 * current. Anchor writes are coalesced (a burst of entries costs one or two
 * keychain writes) and never go backwards within this process.
 */
export class AuditLog {
  private pending: AuditHead | null = null;
  private written = 0;
  private writer: Promise<void> | null = null;

  constructor(
    readonly db: Db,
    readonly keychain: Keychain,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Appends and anchors; resolves once the anchor covering this entry is in the keychain.
   * @throws {VaultError} 'invalid-input'
   * @throws {KeychainError} when the anchor cannot be written (the entry is stored, unanchored)
   */
  async record(entry: AuditInput): Promise<AuditEntry> {
    const appended = appendAudit(this.db, entry, this.now());
    await this.anchor({ id: appended.id, hash: appended.hash });
    return appended;
  }

  /** @throws {VaultError} 'corrupt-row' */
  list(q: Parameters<typeof listAudit>[1] = {}): AuditEntry[] {
    return listAudit(this.db, q);
  }

  /** @throws {KeychainError} */
  async verify(): Promise<AuditVerifyResult> {
    await this.writer?.catch(() => undefined);
    return verifyAuditChain(this.db, this.keychain);
  }

  /**
   * Re-anchors at the current tail, e.g. after the user reviewed a failed
   * verification, or restored vault.db from a backup. Records nothing itself.
   * @throws {KeychainError}
   */
  async reanchor(): Promise<void> {
    const tail = auditTail(this.db);
    if (tail) await this.anchor(tail, true);
    else await this.keychain.delete('audit-head');
  }

  private anchor(head: AuditHead, force = false): Promise<void> {
    if (force || head.id > Math.max(this.written, this.pending?.id ?? 0)) this.pending = head;
    if (force) this.written = 0;
    this.writer ??= (async () => {
      try {
        while (this.pending) {
          const next = this.pending;
          this.pending = null;
          await this.keychain.set('audit-head', encodeHead(next));
          this.written = Math.max(this.written, next.id);
        }
      } finally {
        this.writer = null;
      }
    })();
    return this.writer;
  }
}

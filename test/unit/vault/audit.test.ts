/**
 * The audit chain: an untouched chain verifies; an edited row, a deleted middle row,
 * a cut-off tail and a recomputed chain are each detected. Tampering is done the
 * way an attacker with vault.db would: straight SQL, after dropping the triggers.
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../shared/canonical-json.js';
import { FileKeychain, type Keychain, type KeychainAccount } from '../../../electron/engine/keychain/index.js';
import {
  appendAudit,
  auditHash,
  AuditLog,
  checkAuditChain,
  GENESIS_HASH,
  verifyAuditChain,
  type AuditInput,
  type JsonValue,
} from '../../../electron/engine/vault/index.js';
import { tempVault, type TempVault } from './helpers.js';

let t: TempVault;
let keychain: FileKeychain;
let log: AuditLog;
let clock = 1_700_000_000_000;

const entry = (i: number): AuditInput => ({
  actor: 'ui',
  action: i % 2 ? 'decrypt' : 'encrypt',
  target: `item-${i}`,
  result: i % 5 === 4 ? 'Tampered' : 'ok',
  details: { bytes: i * 100, keyId: `k${i}` },
});

beforeEach(async () => {
  t = tempVault();
  keychain = new FileKeychain(t.dir, 'default');
  log = new AuditLog(t.vault.db, keychain, () => ++clock);
  for (let i = 1; i <= 10; i++) await log.record(entry(i));
});
afterEach(() => t.cleanup());

/** What someone with write access to vault.db can do. */
function tamper(sql: string, ...args: unknown[]): void {
  const db = t.vault.db;
  db.exec('DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;');
  db.prepare(sql).run(...args);
}

describe('audit chain', () => {
  it('an untouched chain verifies, anchored at the newest entry', async () => {
    expect(await log.verify()).toEqual({ ok: true, entries: 10, unanchored: 0 });
    const head = JSON.parse(Buffer.from((await keychain.get('audit-head'))!).toString()) as { id: number; hash: string };
    expect(head.id).toBe(10);
    expect(head.hash).toBe(log.list({ limit: 1 })[0]!.hash);
  });

  it('hashes are SHA-256(prev_hash || canonical row bytes), starting from zeros (docs/security.md)', () => {
    const [first] = log.list({ limit: 100 }).reverse();
    expect(first!.prevHash).toBe(GENESIS_HASH);
    const bytes = canonicalJson({
      id: first!.id,
      ts: first!.ts,
      actor: first!.actor,
      action: first!.action,
      target: first!.target,
      result: first!.result,
      details: first!.details,
    });
    const expected = createHash('sha256').update(Buffer.alloc(32)).update(bytes).digest('hex');
    expect(first!.hash).toBe(expected);
    expect(auditHash(GENESIS_HASH, first!)).toBe(expected);
  });

  it('detects an edited row', async () => {
    tamper(`UPDATE audit SET result = 'ok' WHERE id = 4`);
    expect(await log.verify()).toMatchObject({ ok: false, firstBadId: 4, reason: 'hash-mismatch' });
  });

  it('detects an edited details field and an edited timestamp', async () => {
    tamper(`UPDATE audit SET details = '{"bytes":1,"keyId":"k6"}' WHERE id = 6`);
    expect(await verifyAuditChain(t.vault.db, keychain)).toMatchObject({ ok: false, firstBadId: 6, reason: 'hash-mismatch' });
  });

  it('detects a deleted row in the middle', async () => {
    tamper('DELETE FROM audit WHERE id = 5');
    expect(await log.verify()).toMatchObject({ ok: false, entries: 5, firstBadId: 6, reason: 'broken-link' });
  });

  it('detects a deleted first row', async () => {
    tamper('DELETE FROM audit WHERE id = 1');
    expect(await log.verify()).toMatchObject({ ok: false, firstBadId: 2, reason: 'broken-link' });
  });

  it('detects a deleted tail row (the chain alone cannot: the keychain anchor does)', async () => {
    tamper('DELETE FROM audit WHERE id >= 9');
    expect(checkAuditChain(t.vault.db, undefined)).toEqual({ ok: true, entries: 8 }); // chain alone: looks fine
    expect(await log.verify()).toMatchObject({ ok: false, entries: 8, firstBadId: 9, reason: 'truncated' });
  });

  it('detects a rewritten history whose chain was recomputed, and a tail cut then refilled', async () => {
    tamper(`UPDATE audit SET result = 'ok' WHERE id = 4`);
    const rows = t.vault.db.prepare('SELECT * FROM audit ORDER BY id').all() as Record<string, unknown>[];
    let prev = GENESIS_HASH;
    for (const r of rows) {
      const details = r.details === null ? null : (JSON.parse(r.details as string) as Record<string, never>);
      const hash = auditHash(prev, { id: r.id as number, ts: r.ts as number, actor: r.actor as string, action: r.action as string, target: r.target as string, result: r.result as string, details });
      tamper('UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?', prev, hash, r.id);
      prev = hash;
    }
    expect(checkAuditChain(t.vault.db, undefined).ok).toBe(true);
    expect(await log.verify()).toMatchObject({ ok: false, firstBadId: 10, reason: 'head-mismatch' });

    tamper('DELETE FROM audit WHERE id = 10');
    appendAudit(t.vault.db, entry(99), ++clock);
    expect(await log.verify()).toMatchObject({ ok: false, reason: 'head-mismatch' });
  });

  it('a missing or damaged anchor is reported; reanchor() accepts the current chain', async () => {
    await keychain.delete('audit-head');
    expect(await log.verify()).toMatchObject({ ok: false, entries: 10, reason: 'head-missing' });
    await keychain.set('audit-head', new TextEncoder().encode('garbage'));
    expect(await log.verify()).toMatchObject({ ok: false, reason: 'head-corrupt' });
    await log.reanchor();
    expect(await log.verify()).toMatchObject({ ok: true, entries: 10 });
  });

  it('rows after the anchor (a crash before the keychain write) are reported, not flagged', async () => {
    appendAudit(t.vault.db, entry(11), ++clock);
    expect(await log.verify()).toEqual({ ok: true, entries: 11, unanchored: 1 });
    await log.record(entry(12));
    expect(await log.verify()).toEqual({ ok: true, entries: 12, unanchored: 0 });
  });

  it('the app cannot update or delete audit rows (triggers)', () => {
    expect(() => t.vault.db.prepare(`UPDATE audit SET result = 'ok'`).run()).toThrow(/append-only/);
    expect(() => t.vault.db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
  });

  it('refuses details that look like secrets, binary values, and unknown actions', async () => {
    const secretLooking: Record<string, JsonValue>[] = [{ pin: '1234' }, { newPin: '1' }, { nested: { privateKey: 'x' } }, { list: [{ seed: 'x' }] }, { data: 'plaintext' }];
    for (const details of secretLooking) {
      await expect(log.record({ ...entry(1), details })).rejects.toMatchObject({ kind: 'invalid-input' });
    }
    await expect(log.record({ ...entry(1), details: { blob: new Uint8Array(3) as never } })).rejects.toMatchObject({ kind: 'invalid-input' });
    await expect(log.record({ ...entry(1), action: 'format-disk' as never })).rejects.toMatchObject({ kind: 'invalid-input' });
    expect((await log.verify()).entries).toBe(10);
  });

  it('lists newest first with filters; survives a reopen', async () => {
    expect(log.list({ action: 'encrypt' }).map((e) => e.id)).toEqual([10, 8, 6, 4, 2]);
    expect(log.list({ result: 'Tampered' }).map((e) => e.id)).toEqual([9, 4]);
    expect(log.list({ limit: 3, beforeId: 5 }).map((e) => e.id)).toEqual([4, 3, 2]);
    t.reopen();
    expect(await verifyAuditChain(t.vault.db, keychain)).toMatchObject({ ok: true, entries: 10 });
  });

  it('coalesces anchor writes under a burst, and the anchor ends at the newest entry', async () => {
    let sets = 0;
    const counting: Keychain = {
      backend: 'file',
      get: (a: KeychainAccount) => keychain.get(a),
      set: async (a: KeychainAccount, v: Uint8Array) => {
        sets++;
        await keychain.set(a, v);
      },
      delete: (a: KeychainAccount) => keychain.delete(a),
    };
    const burst = new AuditLog(t.vault.db, counting, () => ++clock);
    const entries = await Promise.all(Array.from({ length: 50 }, (_, i) => burst.record(entry(i))));
    expect(new Set(entries.map((e) => e.id)).size).toBe(50);
    expect(sets).toBeLessThan(10);
    expect(await burst.verify()).toEqual({ ok: true, entries: 60, unanchored: 0 });
  });
});

/**
 * Changes another process commits to the profile reach the UI as refresh
 * events (service/external-changes.ts); our own writes do not echo. A second
 * connection to the same vault.db stands in for the command line's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../../shared/contract-events.js';
import { watchExternalChanges } from '../../../electron/engine/service/external-changes.js';
import { openVault, type Vault } from '../../../electron/engine/vault/index.js';
import { setSetting } from '../../../electron/engine/vault/settings.js';

const until = async (ok: () => boolean, what: string): Promise<void> => {
  const end = Date.now() + 30_000;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('watchExternalChanges', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sealpost-external-'));
  let vault: Vault | null = null;
  let stop: (() => void) | null = null;
  afterEach(() => {
    stop?.();
    vault?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tells a commit by another connection once, as the refresh events, and not our own writes', async () => {
    vault = openVault(dir);
    const events: EngineEvent[] = [];
    stop = watchExternalChanges(vault.db, (e) => events.push(e), 5);

    // Our own write, then enough checks to have seen it had it counted: nothing.
    setSetting(vault.db, 'ours', true, Date.now());
    const other = new Database(vault.path);
    try {
      // A marker write by the other connection after ours proves the checks ran past our write.
      other.prepare(`INSERT INTO settings (key, value, updated_at) VALUES ('theirs', '1', 0)`).run();
      await until(() => events.length > 0, 'the refresh events');
      expect(events.map((e) => e.type)).toEqual(['sync', 'messages', 'items', 'contacts', 'approvals']);
      expect(events[1]).toEqual({ type: 'messages', received: 0, changed: 0 });
    } finally {
      other.close();
    }
    // One commit, one round of events; our next write adds none.
    const n = events.length;
    setSetting(vault.db, 'ours-again', true, Date.now());
    const again = new Database(vault.path);
    again.prepare(`INSERT INTO settings (key, value, updated_at) VALUES ('theirs-again', '1', 0)`).run();
    again.close();
    await until(() => events.length > n, 'the second round');
    expect(events.length).toBe(2 * n);
  });
});

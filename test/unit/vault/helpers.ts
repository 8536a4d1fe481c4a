/** Temp profile directories for the vault tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { openVault, type Vault } from '../../../electron/engine/vault/index.js';

export interface TempVault {
  dir: string;
  vault: Vault;
  reopen(): Vault;
  cleanup(): void;
}

export function tempVault(): TempVault {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sealpost-vault-'));
  const t: TempVault = {
    dir,
    vault: openVault(dir),
    reopen() {
      t.vault.close();
      t.vault = openVault(dir);
      return t.vault;
    },
    cleanup() {
      if (t.vault.db.open) t.vault.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}

/** A fresh vault for each test of the calling file (removed after it): the vault's database. */
export function eachTestDb(): () => Vault['db'] {
  let t: TempVault | undefined;
  beforeEach(() => {
    t = tempVault();
  });
  afterEach(() => t?.cleanup());
  return () => t!.vault.db;
}

export const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

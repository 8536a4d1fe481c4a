/**
 * PIN -> unlocked, as the user waits for it: Session.unlock over a PinVault in a
 * file keychain (temp profile), with the default KDF parameters. That is: read the
 * record, persist the attempt count (atomic write + fsync), scrypt, AES-GCM open,
 * persist the reset (a second durable write). Beside it, the KDF alone
 * (measureKdf), so `overhead_ms` is what the keychain and bookkeeping add.
 * Rounds alternate unlock and KDF; medians are reported.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { DEFAULT_KDF_PARAMS, measureKdf } from '../electron/engine/crypto/pin-kdf.js';
import { openKeychain } from '../electron/engine/keychain/index.js';
import { PinVault, Session } from '../electron/engine/session/index.js';
import { type BenchEntry, round } from './results.js';

const ROUNDS = 7;
const PIN = '493817';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

export async function benchUnlock(): Promise<Record<string, BenchEntry>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sealpost-bench-unlock-'));
  try {
    const keychain = await openKeychain({ profileDir: dir, profileName: 'bench', prefer: 'file' });
    // ~ what the identity record holds: a 32-byte seed and an RSA-3072 PKCS#8 key
    const secrets = randomBytes(32 + 1800);
    const vault = await PinVault.create(keychain, { pin: PIN, secrets, kdfParams: DEFAULT_KDF_PARAMS });
    const session = new Session(vault, { autoLockMs: 0 });
    await session.unlock(PIN); // warm-up (page cache, scrypt allocation)
    session.lock();
    await measureKdf(DEFAULT_KDF_PARAMS);
    const unlock: number[] = [];
    const kdf: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = performance.now();
      await session.unlock(PIN);
      unlock.push(performance.now() - t0);
      session.lock();
      kdf.push(await measureKdf(DEFAULT_KDF_PARAMS));
    }
    const value = median(unlock);
    const kdfMs = median(kdf);
    return {
      unlock: {
        value: round(value, 1),
        unit: 'ms',
        kdf_ms: round(kdfMs, 1),
        overhead_ms: round(value - kdfMs, 1),
        keychain: keychain.backend,
        kdf: `scrypt N=2^${Math.log2(DEFAULT_KDF_PARAMS.N)} r=${DEFAULT_KDF_PARAMS.r} p=${DEFAULT_KDF_PARAMS.p}`,
        rounds: ROUNDS,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await benchUnlock(), null, 2));
}

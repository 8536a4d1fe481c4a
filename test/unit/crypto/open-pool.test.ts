/**
 * Open pool: in-thread fallback from the .ts sources, and real worker_threads from
 * a fresh tsc build of electron/engine/crypto (compiled here into .tmp/, so the test
 * never runs a stale dist/).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealEnvelope } from '../../../electron/engine/crypto/envelope.js';
import { InvalidInputError, isCryptoError, TamperedError } from '../../../electron/engine/crypto/errors.js';
import { OpenPool } from '../../../electron/engine/crypto/open-pool.js';
import type { EncryptionKeyPair } from '../../../electron/engine/crypto/rsa.js';
import { repoRoot, rsaKeys, senderFor } from './helpers.js';

let b: EncryptionKeyPair;
let envelopes: Uint8Array[];
const N = 120;

beforeAll(async () => {
  const [a, bb] = (await rsaKeys(2)) as [EncryptionKeyPair, EncryptionKeyPair];
  b = bb;
  const alice = senderFor(a, 1);
  envelopes = Array.from({ length: N }, (_, i) => sealEnvelope({ body: `message ${i}`, sender: alice, recipients: [b.publicKeyPem], sentAt: i }));
  const t = envelopes[7]!.slice();
  t[t.length - 1]! ^= 1;
  envelopes[7] = t;
});

function check(outcomes: Awaited<ReturnType<OpenPool['openMany']>>): void {
  expect(outcomes).toHaveLength(N);
  outcomes.forEach((o, i) => {
    if (i === 7) {
      expect(o.ok).toBe(false);
      if (!o.ok) {
        expect(isCryptoError(o.error)).toBe(true);
        expect((o.error as { kind?: string }).kind).toBe('tampered');
      }
    } else {
      expect(o.ok).toBe(true);
      if (o.ok) {
        expect(new TextDecoder().decode(o.value.body)).toBe(`message ${i}`);
        expect(o.value.sentAt).toBe(i);
      }
    }
  });
}

describe('open pool, in-thread (running from .ts sources)', () => {
  it('falls back to inline mode and opens everything in order', async () => {
    const pool = await OpenPool.create({ privateKeyDer: b.privateKeyDer });
    expect(pool.mode).toBe('inline');
    expect(pool.size).toBe(0);
    check(await pool.openMany(envelopes));
    await expect(pool.open(envelopes[7]!)).rejects.toThrow(TamperedError);
    await pool.close();
    await expect(pool.open(envelopes[0]!)).rejects.toThrow(/closed/);
  });

  it('validates the key and mode up front', async () => {
    await expect(OpenPool.create({ privateKeyDer: new Uint8Array(3) })).rejects.toThrow(InvalidInputError);
    await expect(OpenPool.create({ privateKeyDer: b.privateKeyDer, mode: 'workers' })).rejects.toThrow(/worker script not found/);
  });
});

describe('open pool, worker_threads (fresh tsc build)', () => {
  const out = path.join(repoRoot, '.tmp', `crypto-build-${process.pid}`);
  beforeAll(() => {
    const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const files = ['electron/engine/crypto/index.ts', 'electron/engine/crypto/open-worker.ts'];
    execFileSync(process.execPath, [
      tsc, '--outDir', out, '--rootDir', '.', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022',
      '--types', 'node', '--skipLibCheck', '--strict', '--esModuleInterop', ...files,
    ], { cwd: repoRoot, stdio: 'pipe' });
  }, 120_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('opens in parallel workers with the same results', async () => {
    const built = path.join(out, 'electron/engine/crypto/open-pool.js');
    expect(existsSync(path.join(out, 'electron/engine/crypto/open-worker.js'))).toBe(true);
    const mod = (await import(pathToFileURL(built).href)) as { OpenPool: typeof OpenPool };
    const pool = await mod.OpenPool.create({ privateKeyDer: b.privateKeyDer, size: 2, mode: 'workers', batchSize: 8 });
    try {
      expect(pool.mode).toBe('workers');
      expect(pool.size).toBe(2);
      check(await pool.openMany(envelopes));
      const one = await pool.open(envelopes[3]!);
      expect(new TextDecoder().decode(one.body)).toBe('message 3');
      await expect(pool.open(envelopes[7]!)).rejects.toMatchObject({ kind: 'tampered' });
      // concurrent callers share the pool
      const [x, y] = await Promise.all([pool.openMany(envelopes.slice(0, 30)), pool.openMany(envelopes.slice(30, 60))]);
      expect(x.length + y.length).toBe(60);
    } finally {
      await pool.close();
    }
  });
});

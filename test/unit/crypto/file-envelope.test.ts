/**
 * File envelope: streamed round trips, tampered / truncated / reordered / appended
 * chunks (error and no output left), wrong key, and bounded memory on a 200 MiB file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, openSync, closeSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BadSignatureError,
  CryptoError,
  InvalidInputError,
  TamperedError,
  TruncatedError,
  UnsupportedVersionError,
  WrongKeyError,
} from '../../../electron/engine/crypto/errors.js';
import { openFile, sealFile } from '../../../electron/engine/crypto/file-envelope.js';
import { type EncryptionKeyPair, keyId } from '../../../electron/engine/crypto/rsa.js';
import { rsaKeys, senderFor } from './helpers.js';

let a: EncryptionKeyPair, b: EncryptionKeyPair;
let alice: ReturnType<typeof senderFor>;
let dir: string;
const C = 64 * 1024;
const R = C + 16;
const recordsStart = (n: number): number => 20 + 32 * n + n * (2 + 256);

beforeAll(async () => {
  [a, b] = (await rsaKeys(2)) as [EncryptionKeyPair, EncryptionKeyPair];
  alice = senderFor(a, 1);
  dir = mkdtempSync(path.join(tmpdir(), 'sp-file-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const p = (name: string): string => path.join(dir, name);
const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

async function expectNoOutput(run: Promise<unknown>, err: new (...args: never[]) => CryptoError, out: string): Promise<void> {
  await expect(run).rejects.toThrow(err);
  expect(existsSync(out)).toBe(false);
  expect(existsSync(`${out}.partial`)).toBe(false);
}

describe('file envelope', () => {
  let sealed: string;
  let plainHash: string;
  beforeAll(async () => {
    writeFileSync(p('random.bin'), randomBytes(20 * 1024 * 1024));
    plainHash = sha(p('random.bin'));
    sealed = p('random.spfl');
    const progress: number[] = [];
    const info = await sealFile(p('random.bin'), sealed, {
      sender: alice,
      recipients: [a.publicKeyPem, b.publicKeyPem],
      contentType: 'application/octet-stream',
      onProgress: (n) => progress.push(n),
    });
    expect(info.bytes).toBe(20 * 1024 * 1024);
    expect(info.sha256).toBe(plainHash);
    expect(readFileSync(sealed).length).toBe(info.sealedBytes);
    expect(progress.at(-1)).toBe(20 * 1024 * 1024);
    expect(progress.every((x, i) => i === 0 || x >= progress[i - 1]!)).toBe(true);
    expect(existsSync(`${sealed}.partial`)).toBe(false);
  });

  it('20 MiB random file round trip with hash check (both recipients)', async () => {
    for (const k of [a, b]) {
      const out = p(`out-${keyId(k.publicKeyPem)}.bin`);
      let last = 0;
      const r = await openFile(sealed, out, { privateKey: k.privateKeyDer, onProgress: (n) => (last = n) });
      expect(sha(out)).toBe(plainHash);
      expect(r).toMatchObject({ bytes: 20 * 1024 * 1024, sha256: plainHash, fileName: 'random.bin', senderFingerprint: alice.fingerprint });
      expect(r.recipients).toEqual([keyId(a.publicKeyPem), keyId(b.publicKeyPem)]);
      expect(last).toBe(readFileSync(sealed).length);
      rmSync(out);
    }
  });

  it('a modified chunk, header or key table: error and no output file', async () => {
    const bytes = readFileSync(sealed);
    const start = recordsStart(2);
    for (const pos of [5 * R + 100, start + 3, bytes.length - 3, 8, 30, 60, start - 5]) {
      const t = Buffer.from(bytes);
      t[pos]! ^= 0x10;
      writeFileSync(p('t.spfl'), t);
      await expect(openFile(p('t.spfl'), p('t.out'), { privateKey: b.privateKeyDer })).rejects.toThrow(CryptoError);
      expect(existsSync(p('t.out'))).toBe(false);
      expect(existsSync(p('t.out.partial'))).toBe(false);
    }
    const t = Buffer.from(bytes);
    t[7 * R]! ^= 1;
    writeFileSync(p('t.spfl'), t);
    await expectNoOutput(openFile(p('t.spfl'), p('t.out'), { privateKey: b.privateKeyDer }), TamperedError, p('t.out'));
  });

  it('truncated (at a chunk boundary, mid-chunk, inside the header) and appended: error and no output', async () => {
    const bytes = readFileSync(sealed);
    const start = recordsStart(2);
    const full = Math.floor((bytes.length - start - 1) / R); // full non-final records
    writeFileSync(p('cut.spfl'), bytes.subarray(0, start + (full - 2) * R));
    await expectNoOutput(openFile(p('cut.spfl'), p('cut.out'), { privateKey: b.privateKeyDer }), TruncatedError, p('cut.out'));
    writeFileSync(p('cut.spfl'), bytes.subarray(0, start + 3 * R + 1000));
    await expectNoOutput(openFile(p('cut.spfl'), p('cut.out'), { privateKey: b.privateKeyDer }), TamperedError, p('cut.out'));
    writeFileSync(p('cut.spfl'), bytes.subarray(0, start));
    await expectNoOutput(openFile(p('cut.spfl'), p('cut.out'), { privateKey: b.privateKeyDer }), TruncatedError, p('cut.out'));
    writeFileSync(p('cut.spfl'), bytes.subarray(0, 40));
    await expectNoOutput(openFile(p('cut.spfl'), p('cut.out'), { privateKey: b.privateKeyDer }), TruncatedError, p('cut.out'));
    writeFileSync(p('cut.spfl'), Buffer.concat([bytes, Buffer.alloc(1)]));
    await expectNoOutput(openFile(p('cut.spfl'), p('cut.out'), { privateKey: b.privateKeyDer }), TamperedError, p('cut.out'));
  });

  it('reordered or duplicated chunks: TamperedError and no output', async () => {
    const bytes = readFileSync(sealed);
    const s = recordsStart(2);
    const rec = (i: number): Buffer => bytes.subarray(s + i * R, s + (i + 1) * R);
    const swapped = Buffer.concat([bytes.subarray(0, s), rec(0), rec(2), rec(1), bytes.subarray(s + 3 * R)]);
    writeFileSync(p('swap.spfl'), swapped);
    await expectNoOutput(openFile(p('swap.spfl'), p('swap.out'), { privateKey: b.privateKeyDer }), TamperedError, p('swap.out'));
    const dup = Buffer.concat([bytes.subarray(0, s), rec(0), rec(0), bytes.subarray(s + R)]);
    writeFileSync(p('dup.spfl'), dup);
    await expectNoOutput(openFile(p('dup.spfl'), p('dup.out'), { privateKey: b.privateKeyDer }), TamperedError, p('dup.out'));
  });

  it('wrong key, future version, expected sender', async () => {
    const [c] = (await rsaKeys(1)) as [EncryptionKeyPair];
    await expectNoOutput(openFile(sealed, p('w.out'), { privateKey: c.privateKeyDer }), WrongKeyError, p('w.out'));
    const t = Buffer.from(readFileSync(sealed).subarray(0, 4096));
    t[4] = 2;
    writeFileSync(p('v.spfl'), t);
    await expectNoOutput(openFile(p('v.spfl'), p('v.out'), { privateKey: b.privateKeyDer }), UnsupportedVersionError, p('v.out'));
    await expectNoOutput(
      openFile(sealed, p('s.out'), { privateKey: b.privateKeyDer, expectedSender: { fingerprint: '00'.repeat(32) } }),
      BadSignatureError,
      p('s.out'),
    );
    await expectNoOutput(
      openFile(sealed, p('k.out'), { privateKey: b.privateKeyDer, expectedSender: { publicKey: new Uint8Array(32).fill(7) } }),
      BadSignatureError,
      p('k.out'),
    );
  });
});

describe('file envelope edge sizes', () => {
  it('round trips sizes around chunk boundaries with 4 KiB chunks (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.integer({ min: 0, max: 20000 }), fc.constantFrom(0, 1, 4095, 4096, 4097, 8192)), async (size) => {
        const data = randomBytes(size);
        writeFileSync(p('e.bin'), data);
        await sealFile(p('e.bin'), p('e.spfl'), { sender: alice, recipients: [b.publicKeyPem], chunkSize: 4096, fileName: 'e.bin' });
        const r = await openFile(p('e.spfl'), p('e.out'), { privateKey: b.privateKeyDer });
        expect(r.bytes).toBe(size);
        expect(readFileSync(p('e.out')).equals(data)).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it('caps the inflated size (decompression bomb)', async () => {
    closeSync(openSync(p('zeros-small.bin'), 'w'));
    truncateSync(p('zeros-small.bin'), 10 * 1024 * 1024);
    await sealFile(p('zeros-small.bin'), p('zs.spfl'), { sender: alice, recipients: [b.publicKeyPem] });
    await expectNoOutput(openFile(p('zs.spfl'), p('zs.out'), { privateKey: b.privateKeyDer, maxOutputBytes: 1024 * 1024 }), InvalidInputError, p('zs.out'));
  });
});

describe('memory', () => {
  it('sealing and opening a 200 MiB file keeps RSS growth bounded (< 100 MB)', async () => {
    const f = p('big.bin');
    closeSync(openSync(f, 'w'));
    truncateSync(f, 200 * 1024 * 1024); // sparse zeros
    const fd = openSync(f, 'r+');
    writeSync(fd, randomBytes(1024 * 1024), 0, 1024 * 1024, 50 * 1024 * 1024); // some incompressible bytes too
    closeSync(fd);
    globalThis.gc?.();
    const base = process.memoryUsage().rss;
    let peak = base;
    const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    try {
      await sealFile(f, p('big.spfl'), { sender: alice, recipients: [b.publicKeyPem] });
      const r = await openFile(p('big.spfl'), p('big.out'), { privateKey: b.privateKeyDer });
      expect(r.bytes).toBe(200 * 1024 * 1024);
    } finally {
      clearInterval(timer);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(peak - base).toBeLessThan(100 * 1024 * 1024);
    rmSync(p('big.out'));
    rmSync(f);
  });
});

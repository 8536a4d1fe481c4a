/**
 * AES-256-GCM: Wycheproof vectors against the engine's native aead.ts and against
 * @noble/ciphers; native vs noble byte-for-byte on random inputs.
 *
 * Wycheproof result policy: "valid" must open (and seal to the exact bytes),
 * "invalid" must be rejected, "acceptable" (none in this file today) may go
 * either way but must never throw anything other than a CryptoError.
 */
import { gcm } from '@noble/ciphers/aes.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { open, seal } from '../../../electron/engine/crypto/aead.js';
import { CryptoError, InvalidInputError, TamperedError, TruncatedError } from '../../../electron/engine/crypto/errors.js';
import { hex, loadVectors, toHex, type WycheproofFile } from './helpers.js';

interface GcmTest {
  tcId: number;
  flags: string[];
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface GcmGroup {
  keySize: number;
  ivSize: number;
  tagSize: number;
  tests: GcmTest[];
}

const file = loadVectors<WycheproofFile<GcmGroup>>('aes_gcm_test.json');
const all = file.testGroups.flatMap((g) => g.tests.map((t) => ({ ...t, g })));
const ours = all.filter((t) => t.g.keySize === 256 && t.g.ivSize === 96 && t.g.tagSize === 128);

describe('Wycheproof AES-GCM through aead.ts (native, the engine path)', () => {
  it('has the expected vectors', () => {
    expect(file.numberOfTests).toBe(all.length);
    expect(ours.length).toBe(66);
  });

  it.each(ours.map((t) => [t.tcId, t] as const))('tcId %i', (_id, t) => {
    const key = hex(t.key);
    const iv = hex(t.iv);
    const aad = hex(t.aad);
    const sealed = hex(t.ct + t.tag);
    if (t.result === 'valid') {
      expect(toHex(seal(key, iv, hex(t.msg), aad))).toBe(t.ct + t.tag);
      expect(toHex(open(key, iv, sealed, aad))).toBe(t.msg);
    } else if (t.result === 'invalid') {
      expect(() => open(key, iv, sealed, aad)).toThrow(TamperedError);
    } else {
      try {
        open(key, iv, sealed, aad);
      } catch (e) {
        expect(e).toBeInstanceOf(CryptoError);
      }
    }
  });

  it('refuses parameters outside the API (other key and IV sizes) with InvalidInputError', () => {
    const others = all.filter((t) => !(t.g.keySize === 256 && t.g.ivSize === 96));
    expect(others.length).toBeGreaterThan(0);
    for (const t of others) {
      expect(() => open(hex(t.key), hex(t.iv), hex(t.ct + t.tag), hex(t.aad))).toThrow(InvalidInputError);
    }
  });
});

describe('Wycheproof AES-GCM through @noble/ciphers (full set where supported)', () => {
  it('every vector', () => {
    let ran = 0;
    let skipped = 0;
    for (const t of all) {
      const key = hex(t.key);
      const iv = hex(t.iv);
      const aad = hex(t.aad);
      let c: ReturnType<typeof gcm>;
      try {
        c = gcm(key, iv, aad);
      } catch {
        // noble refuses IVs shorter than 64 bits up front: parameters it does not support.
        expect(t.g.ivSize, `tcId ${t.tcId}`).toBeLessThan(64);
        skipped++;
        continue;
      }
      ran++;
      if (t.result === 'valid') {
        expect(toHex(c.encrypt(hex(t.msg))), `tcId ${t.tcId}`).toBe(t.ct + t.tag);
        expect(toHex(gcm(key, iv, aad).decrypt(hex(t.ct + t.tag))), `tcId ${t.tcId}`).toBe(t.msg);
      } else if (t.result === 'invalid') {
        expect(() => c.decrypt(hex(t.ct + t.tag)), `tcId ${t.tcId}`).toThrow();
      }
    }
    expect(ran + skipped).toBe(all.length);
    expect(ran).toBe(286); // 30 vectors have IVs of 0..48 bits
  });
});

describe('native vs noble', () => {
  it('identical bytes for the same key/nonce/AAD, and each opens the other', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 64 }),
        (key, nonce, pt, aad) => {
          const a = seal(key, nonce, pt, aad);
          const b = gcm(key, nonce, aad).encrypt(pt);
          expect(toHex(a)).toBe(toHex(b));
          expect(toHex(open(key, nonce, b, aad))).toBe(toHex(pt));
          expect(toHex(gcm(key, nonce, aad).decrypt(a))).toBe(toHex(pt));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('open rejects: any flipped bit, wrong AAD, short input', () => {
    const key = new Uint8Array(32).fill(7);
    const nonce = new Uint8Array(12).fill(9);
    const sealed = seal(key, nonce, new Uint8Array([1, 2, 3]), new Uint8Array([4]));
    for (let i = 0; i < sealed.length * 8; i++) {
      const t = sealed.slice();
      t[i >> 3]! ^= 1 << (i & 7);
      expect(() => open(key, nonce, t, new Uint8Array([4]))).toThrow(TamperedError);
    }
    expect(() => open(key, nonce, sealed, new Uint8Array([5]))).toThrow(TamperedError);
    expect(() => open(key, nonce, sealed.subarray(0, 15))).toThrow(TruncatedError);
    expect(() => seal(new Uint8Array(16), nonce, sealed)).toThrow(InvalidInputError);
  });
});

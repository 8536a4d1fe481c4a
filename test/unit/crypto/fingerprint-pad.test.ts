/** Fingerprint, safety numbers, Padmé padding, gzip interop. */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import pako from 'pako';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError, TamperedError } from '../../../electron/engine/crypto/errors.js';
import { fingerprint, safetyNumber, safetyNumberForOne } from '../../../electron/engine/crypto/fingerprint.js';
import { pad, padme, unpad } from '../../../electron/engine/crypto/pad.js';
import { padme as refPadme } from './purejs.js';

const fpArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));

describe('fingerprint', () => {
  it('is SHA-256("sealpost-fp-v1" || 0x00 || ed25519 pub || RSA SPKI DER)', () => {
    const pub = new Uint8Array(32).fill(1);
    const spki = new Uint8Array([0x30, 0x82, 1, 2, 3]);
    const expected = createHash('sha256').update('sealpost-fp-v1\0').update(pub).update(spki).digest('hex');
    expect(fingerprint(pub, spki)).toBe(expected);
    expect(() => fingerprint(pub.subarray(1), spki)).toThrow(InvalidInputError);
  });
});

describe('safety number', () => {
  it('60 digits in 12 groups of 5, the same for both parties, containing each half', () => {
    fc.assert(
      fc.property(fpArb, fpArb, (a, b) => {
        const n = safetyNumber(a, b);
        expect(n).toMatch(/^\d{5}( \d{5}){11}$/);
        expect(safetyNumber(b, a)).toBe(n);
        expect(safetyNumberForOne(a)).toMatch(/^\d{5}( \d{5}){5}$/);
        expect(n.includes(safetyNumberForOne(a)) && n.includes(safetyNumberForOne(b))).toBe(true);
      }),
    );
  });

  it('follows the spec: SHA-512 chunks of 5 bytes mod 100000', () => {
    const fp = 'ab'.repeat(32);
    const h = createHash('sha512').update('sealpost-safety-v1\0').update(Buffer.from(fp, 'hex')).digest();
    const digits = [0, 1, 2, 3, 4, 5].map((k) => String(h.readUIntBE(5 * k, 5) % 100000).padStart(5, '0'));
    expect(safetyNumberForOne(fp)).toBe(digits.join(' '));
  });

  it('changes when a key changes; rejects malformed fingerprints', () => {
    const a = 'aa'.repeat(32);
    expect(safetyNumber(a, 'bb'.repeat(32))).not.toBe(safetyNumber(a, 'bc'.repeat(32)));
    expect(() => safetyNumber(a, 'AB'.repeat(32))).toThrow(InvalidInputError);
    expect(() => safetyNumberForOne('abc')).toThrow(InvalidInputError);
  });
});

describe('Padmé', () => {
  it('matches the paper\'s formula and its bounds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (L) => {
        const P = padme(L);
        expect(P).toBe(refPadme(L));
        expect(P).toBeGreaterThanOrEqual(L);
        expect(padme(P)).toBe(P); // idempotent
        if (L >= 2) expect((P - L) / L).toBeLessThan(0.12 + 1e-9);
      }),
      { numRuns: 2000 },
    );
    // A few fixed points (docs/format.md table).
    expect([0, 1, 2, 3, 4, 5, 9, 10, 100, 1000, 1024, 1025, 65537].map(padme)).toEqual([0, 1, 2, 3, 4, 5, 10, 10, 104, 1024, 1024, 1088, 67584]);
  });

  it('pad/unpad round trip; bad padding is TamperedError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (d) => {
        const p = pad(d);
        expect(p.length).toBe(padme(4 + d.length));
        expect(Buffer.from(unpad(p)).equals(Buffer.from(d))).toBe(true);
      }),
    );
    const p = pad(new Uint8Array(101).fill(1));
    expect(p.length).toBe(112);
    const q = p.slice();
    q[p.length - 1] = 1;
    expect(() => unpad(q)).toThrow(TamperedError);
    expect(() => unpad(p.subarray(0, p.length - 1))).toThrow(TamperedError);
    expect(() => unpad(new Uint8Array([0, 0]))).toThrow(TamperedError);
    const r = p.slice();
    r[3] = 99;
    expect(() => unpad(r)).toThrow(TamperedError);
  });
});

describe('gzip: node:zlib and pako interoperate', () => {
  it('zlib output inflates with pako and pako output inflates with zlib', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 5000 }), fc.string({ maxLength: 3000 }).map((s) => new TextEncoder().encode(s.repeat(3)))), (data) => {
        const z = gzipSync(data, { level: 6 });
        expect(Buffer.from(pako.ungzip(z)).equals(Buffer.from(data))).toBe(true);
        const p = pako.gzip(data, { level: 6 });
        expect(gunzipSync(p).equals(Buffer.from(data))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});

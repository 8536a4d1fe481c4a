/**
 * Message envelope: round trips, the wire split, every-bit tampering and every-length
 * truncation, wrong key / version / forwarding / sender, decompression bombs, and
 * interop with an independent pure-JS implementation (forge + noble + pako) and a
 * Python opener (python3-cryptography), both written from docs/format.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gcm } from '@noble/ciphers/aes.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  envelopeRecipients,
  fromWire,
  openEnvelope,
  sealEnvelope,
  toWire,
} from '../../../electron/engine/crypto/envelope.js';
import {
  BadSignatureError,
  CryptoError,
  InvalidInputError,
  TamperedError,
  TruncatedError,
  UnsupportedVersionError,
  WrongKeyError,
} from '../../../electron/engine/crypto/errors.js';
import { type EncryptionKeyPair, keyId } from '../../../electron/engine/crypto/rsa.js';
import { canonicalJson } from '../../../shared/canonical-json.js';
import { forgePrivateKey, forgeUnwrap, pureOpenEnvelope, pureSealEnvelope } from './purejs.js';
import { rsaKeys, senderFor, toHex } from './helpers.js';

let a: EncryptionKeyPair, b: EncryptionKeyPair, c: EncryptionKeyPair;
let alice: ReturnType<typeof senderFor>;
let mallory: ReturnType<typeof senderFor>;
let small: Uint8Array; // a two-recipient envelope for exhaustive tests

beforeAll(async () => {
  [a, b, c] = (await rsaKeys(3)) as [EncryptionKeyPair, EncryptionKeyPair, EncryptionKeyPair];
  alice = senderFor(a, 1);
  mallory = senderFor(c, 2);
  small = sealEnvelope({ body: 'hi', sender: alice, recipients: [a.publicKeyPem, b.publicKeyPem], sentAt: 1 });
});

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('round trip', () => {
  it('any body, content type and file name; every recipient opens it', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 2000 }), fc.uint8Array({ maxLength: 4000 })),
        fc.option(fc.stringMatching(/^[\x20-\x7e]{1,40}$/), { nil: undefined }),
        fc.option(fc.stringMatching(/^[a-zA-Z0-9 ._-]{1,30}$/).filter((s) => s !== '.' && s !== '..'), { nil: undefined }),
        (body, contentType, fileName) => {
          const env = sealEnvelope({ body, contentType, fileName, sender: alice, recipients: [a.publicKeyPem, b.publicKeyPem], sentAt: 42 });
          for (const k of [a, b]) {
            const o = openEnvelope(env, { privateKey: k.privateKeyDer });
            const expected = typeof body === 'string' ? new TextEncoder().encode(body) : body;
            expect(toHex(o.body)).toBe(toHex(expected));
            expect(o.contentType).toBe(contentType ?? (typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream'));
            expect(o.fileName).toBe(fileName);
            expect(o.senderFingerprint).toBe(alice.fingerprint);
            expect(toHex(o.senderPublicKey)).toBe(toHex(alice.publicKey));
            expect(o.sentAt).toBe(42);
            expect(o.recipients).toEqual([keyId(a.publicKeyPem), keyId(b.publicKeyPem)]);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('pads the compressed payload to a Padmé length, and accepts KeyObject / keyId / publicKeyPem forms', () => {
    const env = sealEnvelope({ body: 'x'.repeat(10), sender: alice, recipients: [b.publicKeyPem] });
    expect(envelopeRecipients(env)).toEqual([keyId(b.publicKeyPem)]);
    const pk = createPrivateKey({ key: b.privateKeyDer, format: 'der', type: 'pkcs8' });
    expect(text(openEnvelope(env, { privateKey: pk }).body)).toBe('x'.repeat(10));
    expect(text(openEnvelope(env, { privateKey: b.privateKeyDer, keyId: keyId(b.publicKeyPem) }).body)).toBe('x'.repeat(10));
    expect(text(openEnvelope(env, { privateKey: b.privateKeyDer, publicKeyPem: b.publicKeyPem }).body)).toBe('x'.repeat(10));
  });
});

describe('wire split (encryptedmessage / encryptionkey)', () => {
  it('each recipient gets what they need and nothing else', () => {
    const env = sealEnvelope({ body: 'wire', sender: alice, recipients: [a.publicKeyPem, b.publicKeyPem, c.publicKeyPem] });
    for (const k of [a, b, c]) {
      const w = toWire(env, keyId(k.publicKeyPem));
      expect(w.encryptedmessage).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(Buffer.from(w.encryptionkey, 'base64').length).toBe(256);
      const back = fromWire(w);
      expect(text(openEnvelope(back, { privateKey: k.privateKeyDer }).body)).toBe('wire');
      for (const other of [a, b, c].filter((x) => x !== k)) {
        expect(() => openEnvelope(back, { privateKey: other.privateKeyDer })).toThrow(WrongKeyError);
      }
    }
    const w = toWire(env, keyId(a.publicKeyPem));
    // Change the first character for certain: replacing it with a fixed letter is a
    // no-op when the key already starts with that letter (1 run in 64).
    const bKey = toWire(env, keyId(b.publicKeyPem)).encryptionkey;
    const altered = (bKey[0] === 'A' ? 'B' : 'A') + bKey.slice(1);
    expect(() => fromWire({ ...w, encryptionkey: altered })).toThrow(CryptoError);
    expect(() => fromWire({ ...w, encryptionkey: 'not base64!' })).toThrow(InvalidInputError);
    expect(() => toWire(small, keyId(c.publicKeyPem))).toThrow(WrongKeyError);
  });
});

describe('tampering and truncation', () => {
  it('flipping a bit in every byte position is a CryptoError, never plaintext', () => {
    // One bit per byte (rotating through bit positions) keeps this under a second;
    // the property below flips arbitrary bits of arbitrary envelopes.
    for (let i = 0; i < small.length; i++) {
      const bit = (i * 3) % 8;
      const t = small.slice();
      t[i]! ^= 1 << bit;
      expect(() => openEnvelope(t, { privateKey: b.privateKeyDer }), `byte ${i} bit ${bit}`).toThrow(CryptoError);
    }
  });

  it('any byte replaced, in random envelopes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (body, pos, x) => {
        const env = sealEnvelope({ body, sender: alice, recipients: [b.publicKeyPem, a.publicKeyPem] });
        const t = env.slice();
        t[pos % t.length]! ^= x;
        expect(() => openEnvelope(t, { privateKey: b.privateKeyDer })).toThrow(CryptoError);
      }),
      { numRuns: 150 },
    );
  });

  it('truncation at every length, and appended bytes, are CryptoErrors', () => {
    for (let len = 0; len < small.length; len++) {
      expect(() => openEnvelope(small.subarray(0, len), { privateKey: b.privateKeyDer }), `length ${len}`).toThrow(CryptoError);
    }
    expect(() => openEnvelope(small.subarray(0, 30), { privateKey: b.privateKeyDer })).toThrow(TruncatedError);
    expect(() => openEnvelope(small.subarray(0, small.length - 1), { privateKey: b.privateKeyDer })).toThrow(TruncatedError);
    const longer = new Uint8Array(small.length + 1);
    longer.set(small);
    expect(() => openEnvelope(longer, { privateKey: b.privateKeyDer })).toThrow(TamperedError);
  });

  it('names the failure: magic, version, wrong key, ciphertext', () => {
    const bad = (i: number, v: number): Uint8Array => {
      const t = small.slice();
      t[i] = v;
      return t;
    };
    expect(() => openEnvelope(bad(0, 0x58), { privateKey: b.privateKeyDer })).toThrow(InvalidInputError);
    expect(() => openEnvelope(bad(4, 2), { privateKey: b.privateKeyDer })).toThrow(UnsupportedVersionError);
    expect(() => openEnvelope(bad(5, 1), { privateKey: b.privateKeyDer })).toThrow(UnsupportedVersionError);
    expect(() => openEnvelope(small, { privateKey: c.privateKeyDer })).toThrow(WrongKeyError);
    expect(() => openEnvelope(bad(small.length - 1, small[small.length - 1]! ^ 1), { privateKey: b.privateKeyDer })).toThrow(TamperedError);
  });
});

describe('signature and sender', () => {
  it('a recipient who re-encrypts the signed payload to someone else is caught (forwarding)', () => {
    // Bob opens the envelope by hand and re-seals the identical padded plaintext to Carol.
    const env = sealEnvelope({ body: 'for bob only', sender: alice, recipients: [b.publicKeyPem] });
    const header = env.subarray(0, 24 + 32);
    const wrapped = env.subarray(56 + 2, 56 + 2 + 256);
    const k = forgeUnwrap(forgePrivateKey(b.privateKeyDer), wrapped);
    const padded = gcm(k, env.subarray(6, 18), header).decrypt(env.subarray(56 + 2 + 256));
    const forwarded = sealEnvelope({ body: 'placeholder', sender: mallory, recipients: [c.publicKeyPem] });
    const fh = forwarded.slice(0, 56);
    const fk = forgeUnwrap(forgePrivateKey(c.privateKeyDer), forwarded.subarray(58, 58 + 256));
    new DataView(fh.buffer).setUint32(18, padded.length + 16);
    const ct = gcm(fk, fh.subarray(6, 18), fh).encrypt(padded);
    const forged = Buffer.concat([fh, forwarded.subarray(56, 58 + 256), ct]);
    expect(() => openEnvelope(forged, { privateKey: c.privateKeyDer })).toThrow(/forwarded/);
    expect(() => openEnvelope(forged, { privateKey: c.privateKeyDer })).toThrow(BadSignatureError);
  });

  it('a signature by another key than the named one is BadSignatureError', () => {
    const env = pureSealEnvelope({
      body: new Uint8Array([1]),
      contentType: 'text/plain',
      sentAt: 1,
      sender: { secretKey: mallory.secretKey, publicKey: alice.publicKey, fingerprint: alice.fingerprint },
      recipients: [b.publicKeyPem],
    });
    expect(() => openEnvelope(env, { privateKey: b.privateKeyDer })).toThrow(BadSignatureError);
  });

  it('signed metadata that is not canonical JSON is BadSignatureError (no parser ambiguity)', () => {
    const seal = (metaJson: (m: Record<string, unknown>) => string): Uint8Array =>
      pureSealEnvelope({ body: new Uint8Array([1]), contentType: 'text/plain', sentAt: 1, sender: alice, recipients: [b.publicKeyPem], metaJson });
    expect(openEnvelope(seal((m) => canonicalJson(m)), { privateKey: b.privateKeyDer }).sentAt).toBe(1);
    expect(() => openEnvelope(seal((m) => JSON.stringify(m, null, 1)), { privateKey: b.privateKeyDer })).toThrow(BadSignatureError);
    expect(() => openEnvelope(seal((m) => canonicalJson(m).replace('{', '{"ts":2,')), { privateKey: b.privateKeyDer })).toThrow(BadSignatureError);
    expect(() => openEnvelope(seal((m) => canonicalJson({ ...m, extra: 1 })), { privateKey: b.privateKeyDer })).toThrow(BadSignatureError);
  });

  it('expectedSender is enforced', () => {
    const env = sealEnvelope({ body: 'x', sender: alice, recipients: [b.publicKeyPem] });
    expect(openEnvelope(env, { privateKey: b.privateKeyDer, expectedSender: { fingerprint: alice.fingerprint, publicKey: alice.publicKey } }).sentAt).toBeGreaterThan(0);
    expect(() => openEnvelope(env, { privateKey: b.privateKeyDer, expectedSender: { fingerprint: mallory.fingerprint } })).toThrow(BadSignatureError);
    expect(() => openEnvelope(env, { privateKey: b.privateKeyDer, expectedSender: { publicKey: mallory.publicKey } })).toThrow(BadSignatureError);
  });

  it('the sealer refuses inconsistent senders and bad metadata', () => {
    const base = { body: 'x', recipients: [b.publicKeyPem] };
    expect(() => sealEnvelope({ ...base, sender: { ...alice, publicKey: mallory.publicKey } })).toThrow(InvalidInputError);
    expect(() => sealEnvelope({ ...base, sender: { ...alice, fingerprint: 'nope' } })).toThrow(InvalidInputError);
    expect(() => sealEnvelope({ ...base, sender: alice, fileName: '../etc/passwd' })).toThrow(InvalidInputError);
    expect(() => sealEnvelope({ ...base, sender: alice, contentType: 'bad\ntype' })).toThrow(InvalidInputError);
    expect(() => sealEnvelope({ ...base, sender: alice, recipients: [] })).toThrow(InvalidInputError);
    expect(() => sealEnvelope({ ...base, sender: alice, recipients: [b.publicKeyPem, b.publicKeyPem] })).toThrow(/duplicate/);
  });
});

describe('decompression bombs', () => {
  it('refuses to inflate beyond the cap', () => {
    const env = sealEnvelope({ body: new Uint8Array(80 * 1024 * 1024), sender: alice, recipients: [b.publicKeyPem], maxBodyBytes: 100 * 1024 * 1024 });
    expect(env.length).toBeLessThan(200_000);
    expect(() => openEnvelope(env, { privateKey: b.privateKeyDer })).toThrow(/inflates beyond/);
    expect(() => openEnvelope(env, { privateKey: b.privateKeyDer, maxBodyBytes: 1000 })).toThrow(InvalidInputError);
    expect(openEnvelope(env, { privateKey: b.privateKeyDer, maxBodyBytes: 81 * 1024 * 1024 }).body.length).toBe(80 * 1024 * 1024);
    expect(() => sealEnvelope({ body: new Uint8Array(65 * 1024 * 1024), sender: alice, recipients: [b.publicKeyPem] })).toThrow(InvalidInputError);
  });
});

describe('interop with independent implementations of docs/format.md', () => {
  it('native-sealed envelopes open with forge + noble + pako', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (body) => {
        const env = sealEnvelope({ body, sender: alice, recipients: [a.publicKeyPem, b.publicKeyPem], fileName: 'f.bin', sentAt: 7 });
        const o = pureOpenEnvelope(env, b.privateKeyDer, b.publicKeyPem);
        expect(toHex(o.body)).toBe(toHex(body));
        expect(o.meta).toMatchObject({ v: 1, fn: 'f.bin', ts: 7, fp: alice.fingerprint });
      }),
      { numRuns: 15 },
    );
  });

  it('pure-JS-sealed envelopes open natively', () => {
    const env = pureSealEnvelope({
      body: new TextEncoder().encode('from pure JS ✓'),
      contentType: 'text/plain; charset=utf-8',
      fileName: 'note.txt',
      sentAt: 1700000000000,
      sender: alice,
      recipients: [b.publicKeyPem, a.publicKeyPem],
    });
    const o = openEnvelope(env, { privateKey: b.privateKeyDer });
    expect(text(o.body)).toBe('from pure JS ✓');
    expect(o.fileName).toBe('note.txt');
    expect(o.sentAt).toBe(1700000000000);
    expect(o.senderFingerprint).toBe(alice.fingerprint);
  });

  describe('python3 + cryptography opener', () => {
    const haveCryptography = spawnSync('python3', ['-c', 'import cryptography']).status === 0;
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'sp-py-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    // CI must have python3-cryptography; locally it is optional.
    it.skipIf(!haveCryptography && process.env.CI !== 'true')('opens a native envelope from the spec alone', () => {
      const body = new TextEncoder().encode('hello from node, ünïcödé');
      const env = sealEnvelope({ body, sender: alice, recipients: [a.publicKeyPem, b.publicKeyPem], fileName: 'hi.txt', sentAt: 5 });
      writeFileSync(path.join(dir, 'env.bin'), env);
      writeFileSync(path.join(dir, 'b.pem'), createPrivateKey({ key: b.privateKeyDer, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }));
      const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'open_envelope.py');
      const out = JSON.parse(execFileSync('python3', [script, path.join(dir, 'b.pem'), path.join(dir, 'env.bin')]).toString()) as {
        body_hex: string;
        meta: Record<string, unknown>;
      };
      expect(out.body_hex).toBe(toHex(body));
      expect(out.meta).toMatchObject({ fn: 'hi.txt', ts: 5, fp: alice.fingerprint });
      const t = env.slice();
      t[t.length - 5]! ^= 1;
      writeFileSync(path.join(dir, 'bad.bin'), t);
      expect(spawnSync('python3', [script, path.join(dir, 'b.pem'), path.join(dir, 'bad.bin')]).status).toBe(1);
    });
  });
});

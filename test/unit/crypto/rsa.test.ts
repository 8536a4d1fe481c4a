/**
 * RSA: Wycheproof RSA-OAEP (SHA-256/MGF1-SHA-256) vectors against the engine's
 * native path (rsa.ts) and node-forge; native <-> forge wrap/unwrap both ways;
 * the openssl CLI; key ids; encrypted PKCS#8 interop (openssl, forge); validation.
 *
 * Wycheproof result policy: "valid" must decrypt to msg, "invalid" must be rejected
 * (one WrongKeyError, whatever the cause), "acceptable" (none in these files) either way.
 */
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, WrongKeyError } from '../../../electron/engine/crypto/errors.js';
import {
  _oaepDecrypt,
  type EncryptionKeyPair,
  exportEncryptedPrivateKeyPem,
  exportPublicKeyPem,
  generateEncryptionKeyPair,
  importEncryptedPrivateKeyPem,
  importPrivateKey,
  importPublicKey,
  keyId,
  privateKeyHash,
  publicKeyFromPrivate,
  publicKeySpkiDer,
  unwrapKey,
  wrapKey,
} from '../../../electron/engine/crypto/rsa.js';
import { forgePrivateKey, forgeUnwrap, forgeWrap, keyIdOf } from './purejs.js';
import { hex, loadVectors, rsaKeys, toHex, type WycheproofFile } from './helpers.js';

interface OaepTest {
  tcId: number;
  flags: string[];
  msg: string;
  ct: string;
  label: string;
  result: 'valid' | 'invalid' | 'acceptable';
}
interface OaepGroup {
  keySize: number;
  sha: string;
  mgfSha: string;
  privateKeyPkcs8: string;
  tests: OaepTest[];
}

for (const bits of [2048, 3072]) {
  const file = loadVectors<WycheproofFile<OaepGroup>>(`rsa_oaep_${bits}_sha256_mgf1sha256_test.json`);
  describe(`Wycheproof RSA-OAEP-${bits} SHA-256/MGF1-SHA-256`, () => {
    const group = file.testGroups[0]!;
    const der = hex(group.privateKeyPkcs8);
    const forgeKey = forgePrivateKey(der);
    it('group parameters match what the engine uses', () => {
      expect(file.testGroups).toHaveLength(1);
      expect([group.sha, group.mgfSha, group.keySize]).toEqual(['SHA-256', 'SHA-256', bits]);
    });
    it.each(group.tests.map((t) => [t.tcId, t] as const))('tcId %i: native rsa.ts, unwrapKey and forge', (_id, t) => {
      const ct = hex(t.ct);
      const label = hex(t.label);
      if (t.result === 'valid') {
        expect(toHex(_oaepDecrypt(der, ct, label))).toBe(t.msg);
        expect(toHex(forgeUnwrap(forgeKey, ct, label))).toBe(t.msg);
        // The engine's unwrapKey: empty label, 32-byte keys only.
        if (t.label === '' && t.msg.length === 64) expect(toHex(unwrapKey(der, ct))).toBe(t.msg);
        else expect(() => unwrapKey(der, ct)).toThrow(WrongKeyError);
      } else if (t.result === 'invalid') {
        expect(() => _oaepDecrypt(der, ct, label)).toThrow(WrongKeyError);
        expect(() => unwrapKey(der, ct)).toThrow(WrongKeyError);
        expect(() => forgeUnwrap(forgeKey, ct, label)).toThrow();
      }
    });
  });
}

describe('key wrapping interop', () => {
  let a: EncryptionKeyPair, b: EncryptionKeyPair;
  let dir: string;
  beforeAll(async () => {
    [a, b] = (await rsaKeys(2)) as [EncryptionKeyPair, EncryptionKeyPair];
    dir = mkdtempSync(path.join(tmpdir(), 'sp-rsa-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('native wrap -> forge unwrap, forge wrap -> native unwrap', () => {
    const fk = forgePrivateKey(a.privateKeyDer);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (k) => {
        expect(toHex(forgeUnwrap(fk, wrapKey(a.publicKeyPem, k)))).toBe(toHex(k));
        expect(toHex(unwrapKey(a.privateKeyDer, forgeWrap(a.publicKeyPem, k)))).toBe(toHex(k));
      }),
      { numRuns: 10 },
    );
  });

  it('openssl pkeyutl unwraps what we wrap, and we unwrap what it wraps', () => {
    const k = new Uint8Array(32).map((_, i) => i * 7);
    const keyPem = createPrivateKey({ key: a.privateKeyDer, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' });
    writeFileSync(path.join(dir, 'a.pem'), keyPem);
    writeFileSync(path.join(dir, 'a.pub'), a.publicKeyPem);
    writeFileSync(path.join(dir, 'wrapped'), wrapKey(a.publicKeyPem, k));
    writeFileSync(path.join(dir, 'k'), k);
    const oaep = ['-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256'];
    const out = execFileSync('openssl', ['pkeyutl', '-decrypt', '-inkey', path.join(dir, 'a.pem'), '-in', path.join(dir, 'wrapped'), ...oaep]);
    expect(toHex(out)).toBe(toHex(k));
    const wrapped = execFileSync('openssl', ['pkeyutl', '-encrypt', '-pubin', '-inkey', path.join(dir, 'a.pub'), '-in', path.join(dir, 'k'), ...oaep]);
    expect(toHex(unwrapKey(a.privateKeyDer, wrapped))).toBe(toHex(k));
  });

  it('unwrap with the wrong key or a modified wrap is one WrongKeyError', () => {
    const w = wrapKey(a.publicKeyPem, new Uint8Array(32));
    expect(() => unwrapKey(b.privateKeyDer, w)).toThrow(WrongKeyError);
    const t = w.slice();
    t[10]! ^= 1;
    expect(() => unwrapKey(a.privateKeyDer, t)).toThrow(WrongKeyError);
    expect(() => unwrapKey(a.privateKeyDer, w.subarray(1))).toThrow(WrongKeyError);
    expect(() => wrapKey(a.publicKeyPem, new Uint8Array(31))).toThrow(InvalidInputError);
  });

  it('a wrap cut by one leading zero byte is refused (ciphertext must be the modulus length)', () => {
    // About one wrap in 256 begins with 0x00; draw until one does so this edge runs every time.
    let w = wrapKey(a.publicKeyPem, new Uint8Array(32));
    for (let i = 0; i < 5000 && w[0] !== 0; i++) w = wrapKey(a.publicKeyPem, new Uint8Array(32));
    expect(w[0]).toBe(0);
    expect(toHex(unwrapKey(a.privateKeyDer, w))).toBe(toHex(new Uint8Array(32)));
    expect(() => unwrapKey(a.privateKeyDer, w.subarray(1))).toThrow(WrongKeyError);
    const padded = new Uint8Array(w.length + 1);
    padded.set(w, 1);
    expect(() => unwrapKey(a.privateKeyDer, padded)).toThrow(WrongKeyError);
  });

  it('key id = SHA-256(SPKI DER)[0..16) (checked with forge); privatekeyhash = SHA-256(PKCS#8 DER)', () => {
    expect(keyId(a.publicKeyPem)).toBe(toHex(keyIdOf(a.publicKeyPem)));
    expect(keyId(a.publicKeyPem)).toMatch(/^[0-9a-f]{32}$/);
    expect(keyId(publicKeyFromPrivate(a.privateKeyDer))).toBe(keyId(a.publicKeyPem));
    expect(keyId({ publicKeyPem: a.publicKeyPem })).toBe(keyId(importPublicKey(a.publicKeyPem)));
    expect(privateKeyHash(a.privateKeyDer)).toBe(createHash('sha256').update(a.privateKeyDer).digest('hex'));
    expect(toHex(publicKeySpkiDer(a.publicKeyPem))).toBe(
      Buffer.from(a.publicKeyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64').toString('hex'),
    );
    expect(exportPublicKeyPem(a.publicKeyPem)).toBe(a.publicKeyPem);
  });

  it('generates 3072 by default and refuses other sizes', async () => {
    const k = await generateEncryptionKeyPair();
    expect(importPublicKey(k.publicKeyPem).asymmetricKeyDetails?.modulusLength).toBe(3072);
    await expect(generateEncryptionKeyPair(1024 as 2048)).rejects.toThrow(InvalidInputError);
  });
});

describe('public/private key validation', () => {
  it('rejects non-RSA, small, private-as-public and garbage keys', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
    expect(() => importPublicKey(ec.publicKey.export({ type: 'spki', format: 'pem' }) as string)).toThrow(InvalidInputError);
    expect(() => importPublicKey(small.publicKey)).toThrow(/2048/);
    expect(() => importPublicKey(pss.publicKey)).toThrow(InvalidInputError);
    expect(() => importPublicKey(small.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string)).toThrow(InvalidInputError);
    expect(() => importPublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----')).toThrow(InvalidInputError);
    expect(() => importPublicKey(42 as unknown as string)).toThrow(InvalidInputError);
    expect(() => importPrivateKey(new Uint8Array([1, 2, 3]))).toThrow(InvalidInputError);
    expect(() => importPrivateKey(small.privateKey.export({ type: 'pkcs8', format: 'der' }))).toThrow(InvalidInputError);
  });
});

describe('passphrase-encrypted PKCS#8', () => {
  let a: EncryptionKeyPair;
  let dir: string;
  beforeAll(async () => {
    [a] = (await rsaKeys(1)) as [EncryptionKeyPair];
    dir = mkdtempSync(path.join(tmpdir(), 'sp-p8-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('round trip with the default 600,000 iterations; wrong passphrase is WrongKeyError', async () => {
    const pem = await exportEncryptedPrivateKeyPem(a.privateKeyDer, 'correct horse');
    expect(pem).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    expect(toHex(await importEncryptedPrivateKeyPem(pem, 'correct horse'))).toBe(toHex(a.privateKeyDer));
    await expect(importEncryptedPrivateKeyPem(pem, 'wrong horse')).rejects.toThrow(WrongKeyError);
    // node:crypto opens it too
    const k = createPrivateKey({ key: pem, passphrase: 'correct horse' });
    expect(toHex(k.export({ type: 'pkcs8', format: 'der' }))).toBe(toHex(a.privateKeyDer));
  });

  it('openssl pkey and forge open ours; we open openssl PBKDF2 and scrypt output', async () => {
    const pem = await exportEncryptedPrivateKeyPem(a.privateKeyDer, 'pässwörd', { iterations: 2000 });
    const f = path.join(dir, 'enc.pem');
    writeFileSync(f, pem);
    writeFileSync(path.join(dir, 'pass'), 'pässwörd');
    const passin = ['-passin', `file:${path.join(dir, 'pass')}`];
    const pkeyPem = execFileSync('openssl', ['pkey', '-in', f, ...passin]).toString();
    expect(toHex(createPrivateKey(pkeyPem).export({ type: 'pkcs8', format: 'der' }))).toBe(toHex(a.privateKeyDer));
    const info = forge.pki.decryptPrivateKeyInfo(forge.pki.encryptedPrivateKeyFromPem(pem), forge.util.encodeUtf8('pässwörd'));
    const fk = forge.pki.privateKeyFromAsn1(info) as forge.pki.rsa.PrivateKey;
    expect(fk.n.toString(16)).toBe(forgePrivateKey(a.privateKeyDer).n.toString(16));

    const plain = path.join(dir, 'plain.pem');
    writeFileSync(plain, createPrivateKey({ key: a.privateKeyDer, format: 'der', type: 'pkcs8' }).export({ type: 'pkcs8', format: 'pem' }));
    for (const args of [['-v2', 'aes-256-cbc'], ['-scrypt']]) {
      const out = execFileSync('openssl', ['pkcs8', '-topk8', '-in', plain, '-passout', 'pass:secret', ...args]).toString();
      expect(toHex(await importEncryptedPrivateKeyPem(out, 'secret'))).toBe(toHex(a.privateKeyDer));
      await expect(importEncryptedPrivateKeyPem(out, 'nope')).rejects.toThrow(WrongKeyError);
    }
    expect(readFileSync(f, 'utf8')).toBe(pem);
  });

  it('refuses bad input', async () => {
    await expect(exportEncryptedPrivateKeyPem(a.privateKeyDer, '')).rejects.toThrow(InvalidInputError);
    await expect(exportEncryptedPrivateKeyPem(new Uint8Array(5), 'x')).rejects.toThrow(InvalidInputError);
    await expect(importEncryptedPrivateKeyPem('not pem', 'x')).rejects.toThrow(InvalidInputError);
  });
});

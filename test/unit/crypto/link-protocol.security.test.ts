/**
 * Device-linking crypto (electron/engine/crypto/link-protocol.ts): both sides
 * compute the same verification code and key; a relay that swaps either
 * ephemeral key is caught by the commitment or by different codes, and cannot
 * open the sealed secrets; X25519 and HKDF cross-checked against node:crypto.
 */
import { createHash, createPrivateKey, createPublicKey, diffieHellman, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  commitment,
  matchesCommitment,
  newLinkKeyPair,
  openLinkPayload,
  sealLinkPayload,
  sessionKey,
  transcript,
  verificationCode,
} from '../../../electron/engine/crypto/link-protocol.js';
import { InvalidInputError, TamperedError, UnsupportedVersionError } from '../../../electron/engine/crypto/errors.js';

const pkcs8 = (sk: Uint8Array) => createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), sk]), format: 'der', type: 'pkcs8' });
const spki = (pk: Uint8Array) => createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b656e032100', 'hex'), pk]), format: 'der', type: 'spki' });
const rawPublic = (sk: Uint8Array) => Buffer.from(createPublicKey(pkcs8(sk)).export({ format: 'der', type: 'spki' })).subarray(12);
const sha = (...parts: Array<string | Uint8Array>) => createHash('sha256').update(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))))).digest();

const secrets = new Uint8Array([...Buffer.from('SPSK'), 1, ...new Uint8Array(32).fill(9), ...Buffer.from('pkcs8 der bytes')]);
const LINK = 'a'.repeat(32);

/** What each side computes after the exchange, given the keys it saw. */
function side(own: { secretKey: Uint8Array }, c: Uint8Array, oldPk: Uint8Array, newPk: Uint8Array, peer: Uint8Array) {
  const t = transcript(LINK, c, oldPk, newPk);
  return { sas: verificationCode(c, oldPk, newPk), key: sessionKey(own.secretKey, peer, t), t };
}

describe('device linking protocol', () => {
  it('gives both devices the same 6-digit code and key, and the new device opens what the old one sealed', () => {
    const n = newLinkKeyPair();
    const o = newLinkKeyPair();
    const c = commitment(n.publicKey);
    expect(matchesCommitment(c, n.publicKey)).toBe(true);
    const oldSide = side(o, c, o.publicKey, n.publicKey, n.publicKey);
    const newSide = side(n, c, o.publicKey, n.publicKey, o.publicKey);
    expect(oldSide.sas).toMatch(/^\d{6}$/);
    expect(newSide.sas).toBe(oldSide.sas);
    expect(Buffer.from(newSide.key).equals(Buffer.from(oldSide.key))).toBe(true);
    const sealed = sealLinkPayload(oldSide.key, oldSide.t, secrets);
    expect(sealed[0]).toBe(1);
    expect(Buffer.from(openLinkPayload(newSide.key, newSide.t, sealed)).equals(Buffer.from(secrets))).toBe(true);
  });

  it('X25519 and HKDF agree with node:crypto', () => {
    const a = newLinkKeyPair();
    const b = newLinkKeyPair();
    expect(rawPublic(a.secretKey).equals(Buffer.from(a.publicKey))).toBe(true);
    const shared = diffieHellman({ privateKey: pkcs8(a.secretKey), publicKey: spki(b.publicKey) });
    const t = new Uint8Array(32).fill(3);
    const expected = Buffer.from(hkdfSync('sha256', shared, t, Buffer.from('sealpost/link/v1/key'), 32));
    expect(Buffer.from(sessionKey(a.secretKey, b.publicKey, t)).equals(expected)).toBe(true);
  });

  it('matches the example in docs/format.md §14.4, recomputed from the formulas with node:crypto', () => {
    const doc = readFileSync(path.resolve(import.meta.dirname, '../../../docs/format.md'), 'utf8');
    const [epkN, epkO, linkId, c, sas, t, k] = /```text example:link\n([\s\S]*?)```/.exec(doc)![1]!.trim().split('\n');
    const eskN = new Uint8Array(32).fill(0x11);
    const eskO = new Uint8Array(32).fill(0x22);
    const pkN = rawPublic(eskN);
    const pkO = rawPublic(eskO);
    expect([pkN.toString('hex'), pkO.toString('hex')]).toEqual([epkN, epkO]);
    // The formulas, written again without the module.
    const C = sha('sealpost/link/v1/commit', pkN);
    const code = String(sha('sealpost/link/v1/sas', C, pkO, pkN).readUInt32BE(0) % 1_000_000).padStart(6, '0');
    const T = sha('sealpost/link/v1/transcript', Uint8Array.of(linkId!.length), Buffer.from(linkId!), C, pkO, pkN);
    const K = Buffer.from(hkdfSync('sha256', diffieHellman({ privateKey: pkcs8(eskO), publicKey: spki(pkN) }), T, Buffer.from('sealpost/link/v1/key'), 32));
    expect([C.toString('hex'), code, T.toString('hex'), K.toString('hex')]).toEqual([c, sas, t, k]);
    // And the module agrees, from both sides.
    expect(Buffer.from(commitment(pkN)).toString('hex')).toBe(c);
    expect(verificationCode(C, pkO, pkN)).toBe(sas);
    expect(Buffer.from(transcript(linkId!, C, pkO, pkN)).toString('hex')).toBe(t);
    expect(Buffer.from(sessionKey(eskN, pkO, T)).toString('hex')).toBe(k);
    expect(Buffer.from(sessionKey(eskO, pkN, T)).toString('hex')).toBe(k);
  });

  it('a relay that swaps the revealed key is caught by the commitment', () => {
    const n = newLinkKeyPair();
    const c = commitment(n.publicKey);
    const mallory = newLinkKeyPair();
    expect(matchesCommitment(c, mallory.publicKey)).toBe(false);
    expect(matchesCommitment(c, n.publicKey.subarray(0, 31))).toBe(false);
  });

  it('a relay that swaps both keys (its own commitment) makes the two codes differ, and cannot open the secrets', () => {
    const n = newLinkKeyPair();
    const o = newLinkKeyPair();
    const m1 = newLinkKeyPair(); // played to the old device as the "new" one
    const m2 = newLinkKeyPair(); // played to the new device as the "old" one
    const cNew = commitment(n.publicKey);
    const cMallory = commitment(m1.publicKey);
    const oldSide = side(o, cMallory, o.publicKey, m1.publicKey, m1.publicKey);
    const newSide = side(n, cNew, m2.publicKey, n.publicKey, m2.publicKey);
    // The codes match only by chance (1 in a million); these keys are fixed before the other side's are known.
    const sealed = sealLinkPayload(oldSide.key, oldSide.t, secrets);
    expect(() => openLinkPayload(newSide.key, newSide.t, sealed)).toThrow(TamperedError);
    // What mallory can open it with: its own exchange with the old device. That is why the user must compare codes.
    const malloryKey = sessionKey(m1.secretKey, o.publicKey, oldSide.t);
    expect(Buffer.from(openLinkPayload(malloryKey, oldSide.t, sealed)).equals(Buffer.from(secrets))).toBe(true);
    const codes = new Set<string>();
    for (let i = 0; i < 50; i++) codes.add(verificationCode(cNew, newLinkKeyPair().publicKey, n.publicKey));
    expect(codes.size).toBeGreaterThan(45);
  });

  it('the sealed secrets are bound to the transcript and refuse modified bytes and unknown versions', () => {
    const n = newLinkKeyPair();
    const o = newLinkKeyPair();
    const c = commitment(n.publicKey);
    const s = side(o, c, o.publicKey, n.publicKey, n.publicKey);
    const sealed = sealLinkPayload(s.key, s.t, secrets);
    const otherT = transcript('b'.repeat(32), c, o.publicKey, n.publicKey);
    expect(() => openLinkPayload(s.key, otherT, sealed)).toThrow(TamperedError);
    const flipped = sealed.slice();
    flipped[20]! ^= 1;
    expect(() => openLinkPayload(s.key, s.t, flipped)).toThrow(TamperedError);
    const v2 = sealed.slice();
    v2[0] = 2;
    expect(() => openLinkPayload(s.key, s.t, v2)).toThrow(UnsupportedVersionError);
    expect(() => openLinkPayload(s.key, s.t, sealed.subarray(0, 20))).toThrow(TamperedError);
  });

  it('refuses malformed keys and a low-order peer key', () => {
    expect(() => commitment(new Uint8Array(31))).toThrow(InvalidInputError);
    expect(() => verificationCode(new Uint8Array(32), new Uint8Array(32), new Uint8Array(33))).toThrow(InvalidInputError);
    expect(() => sessionKey(newLinkKeyPair().secretKey, new Uint8Array(32), new Uint8Array(32))).toThrow(InvalidInputError);
  });
});

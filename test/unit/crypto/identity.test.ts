/** Seed, named keys (HKDF) and the Ed25519 identity: native vs @noble, determinism, did:key. */
import { ed25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../electron/engine/crypto/errors.js';
import {
  didFromPublicKey,
  identityFromSeed,
  publicKeyFromDid,
  publicKeyOf,
  sign,
  verify,
} from '../../../electron/engine/crypto/identity.js';
import { deriveNamedKey, KEY_NAMES, newSeed } from '../../../electron/engine/crypto/seed.js';
import { hex, toHex } from './helpers.js';

const DID_RE = /^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}$/;
const te = new TextEncoder();

describe('seed and named keys', () => {
  it('newSeed gives 32 fresh bytes', () => {
    const a = newSeed();
    expect(a).toBeInstanceOf(Uint8Array);
    expect(a.length).toBe(32);
    expect(toHex(a)).not.toBe(toHex(newSeed()));
  });

  it('deriveNamedKey = HKDF-SHA256(seed, salt "sealpost/seed/v1", info name) (checked with noble)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.string({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 100 }), (seed, name, len) => {
        const ours = deriveNamedKey(seed, name, len);
        const ref = hkdf(sha256, seed, te.encode('sealpost/seed/v1'), te.encode(name), len);
        expect(toHex(ours)).toBe(toHex(ref));
      }),
      { numRuns: 100 },
    );
  });

  it('names separate keys; bad input is InvalidInputError', () => {
    const seed = new Uint8Array(32).fill(3);
    expect(toHex(deriveNamedKey(seed, KEY_NAMES.identity))).not.toBe(toHex(deriveNamedKey(seed, KEY_NAMES.backup)));
    expect(() => deriveNamedKey(new Uint8Array(31), 'x')).toThrow(InvalidInputError);
    expect(() => deriveNamedKey(seed, '')).toThrow(InvalidInputError);
    expect(() => deriveNamedKey(seed, 'x', 0)).toThrow(InvalidInputError);
  });
});

describe('Ed25519 identity', () => {
  it('is deterministic from the seed and matches noble', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
        const a = identityFromSeed(seed);
        const b = identityFromSeed(seed.slice());
        expect(toHex(a.secretKey)).toBe(toHex(b.secretKey));
        expect(a.did).toBe(b.did);
        expect(toHex(a.secretKey)).toBe(toHex(deriveNamedKey(seed, 'identity/ed25519')));
        expect(toHex(a.publicKey)).toBe(toHex(ed25519.getPublicKey(a.secretKey)));
        expect(a.did).toMatch(DID_RE);
        expect(a.did.startsWith('did:key:z6Mk')).toBe(true); // every Ed25519 did:key starts so
      }),
      { numRuns: 50 },
    );
  });

  it('pins one derivation (a change here breaks every user\'s identity)', () => {
    const id = identityFromSeed(new Uint8Array(32)); // all-zero seed
    expect(toHex(id.secretKey)).toBe(toHex(hkdf(sha256, new Uint8Array(32), te.encode('sealpost/seed/v1'), te.encode('identity/ed25519'), 32)));
    expect(publicKeyFromDid(id.did)).toEqual(id.publicKey);
  });

  it('native signatures equal noble signatures byte for byte; each verifies the other', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 500 }), (sk, msg) => {
        const pk = publicKeyOf(sk);
        const s = sign(msg, sk);
        expect(toHex(s)).toBe(toHex(ed25519.sign(msg, sk)));
        expect(verify(s, msg, pk)).toBe(true);
        expect(ed25519.verify(s, msg, pk)).toBe(true);
        const t = s.slice();
        t[0]! ^= 1;
        expect(verify(t, msg, pk)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });

  it('RFC 8032 §7.1 test 1', () => {
    const sk = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
    expect(toHex(publicKeyOf(sk))).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    expect(toHex(sign(new Uint8Array(0), sk))).toBe(
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
  });

  it('verify is false for malformed signatures; bad keys are InvalidInputError', () => {
    const { secretKey, publicKey } = identityFromSeed(new Uint8Array(32).fill(9));
    const s = sign(new Uint8Array([1]), secretKey);
    expect(verify(s.subarray(1), new Uint8Array([1]), publicKey)).toBe(false);
    expect(verify(s, new Uint8Array([2]), publicKey)).toBe(false);
    expect(() => verify(s, new Uint8Array([1]), publicKey.subarray(1))).toThrow(InvalidInputError);
    expect(() => sign(new Uint8Array([1]), secretKey.subarray(1))).toThrow(InvalidInputError);
  });

  it('did:key round trip; a known W3C example decodes to an Ed25519 key', () => {
    const example = 'did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp';
    const pk = publicKeyFromDid(example);
    expect(pk.length).toBe(32);
    expect(didFromPublicKey(pk)).toBe(example);
    expect(() => publicKeyFromDid('did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme')).toThrow(InvalidInputError); // secp256k1
    expect(() => publicKeyFromDid('did:web:example.com')).toThrow(InvalidInputError);
    expect(() => publicKeyFromDid('did:key:z0OIl')).toThrow(InvalidInputError);
  });
});

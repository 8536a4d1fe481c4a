/**
 * Ed25519 identity (RFC 8032) from the recovery seed, and its did:key
 * (W3C CCG did:key method, multicodec ed25519-pub = varint 0xed 0x01, multibase base58btc 'z').
 *
 * The secret key is the RFC 8032 32-byte private key, derived as
 * deriveNamedKey(seed, "identity/ed25519"). Signing and verification use native
 * node:crypto (OpenSSL); tests check them byte-for-byte against @noble/curves
 * (Ed25519 signatures are deterministic).
 * @module
 */
import { createHash, createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { base58Decode, base58Encode } from './_base58.js';
import { buf, checkBytes, concat, equalBytes, fromHex, view, wipe } from './_bytes.js';
import { InvalidInputError } from './errors.js';
import { deriveNamedKey, KEY_NAMES } from './seed.js';

/** ASN.1 DER prefix that wraps a raw 32-byte Ed25519 private key as PKCS#8 (RFC 8410). */
const PKCS8_PREFIX = fromHex('302e020100300506032b657004220420');
/** Multicodec varint for ed25519-pub. */
const MULTICODEC_ED25519_PUB = Uint8Array.of(0xed, 0x01);

/** An Ed25519 identity: 32-byte secret key, 32-byte public key, did:key. */
export interface Identity {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  did: string;
}

/**
 * Native KeyObjects per secret-key array. OpenSSL's PKCS#8 decoder costs ~0.35 ms per
 * import, so the KeyObject is cached against the caller's array, keyed weakly (it goes
 * when the array goes) and checked by a SHA-256 of the bytes, so an array that was
 * changed or wiped is never served a stale key. No copy of the secret is kept here.
 */
const privateKeyCache = new WeakMap<Uint8Array, { digest: Buffer; key: KeyObject }>();

/** @internal native private KeyObject for a raw 32-byte secret key. */
export function _ed25519PrivateKeyObject(secretKey: Uint8Array): KeyObject {
  checkBytes(secretKey, 'Ed25519 secret key', 32);
  const digest = createHash('sha256').update(secretKey).digest();
  const hit = privateKeyCache.get(secretKey);
  if (hit && equalBytes(hit.digest, digest)) return hit.key;
  const der = concat(PKCS8_PREFIX, secretKey);
  try {
    const key = createPrivateKey({ key: Buffer.from(der.buffer, der.byteOffset, der.length), format: 'der', type: 'pkcs8' });
    privateKeyCache.set(secretKey, { digest, key });
    return key;
  } finally {
    wipe(der);
  }
}

/** @internal native public KeyObject for a raw 32-byte public key (JWK import: ~8x faster than SPKI DER). */
export function _ed25519PublicKeyObject(publicKey: Uint8Array): KeyObject {
  checkBytes(publicKey, 'Ed25519 public key', 32);
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: buf(publicKey).toString('base64url') }, format: 'jwk' });
  } catch (cause) {
    throw new InvalidInputError('not a valid Ed25519 public key', { cause });
  }
}

/** The 32-byte public key of a 32-byte secret key. @throws {InvalidInputError} */
export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  const jwk = createPublicKey(_ed25519PrivateKeyObject(secretKey)).export({ format: 'jwk' });
  return view(Buffer.from(jwk.x!, 'base64url'));
}

/** did:key for an Ed25519 public key: "did:key:z" + base58btc(0xed 0x01 || publicKey). @throws {InvalidInputError} */
export function didFromPublicKey(publicKey: Uint8Array): string {
  checkBytes(publicKey, 'Ed25519 public key', 32);
  return `did:key:z${base58Encode(concat(MULTICODEC_ED25519_PUB, publicKey))}`;
}

/** The Ed25519 public key named by a did:key. @throws {InvalidInputError} not an Ed25519 did:key */
export function publicKeyFromDid(did: string): Uint8Array {
  if (typeof did !== 'string' || !did.startsWith('did:key:z')) throw new InvalidInputError('not a did:key (base58btc)');
  const raw = base58Decode(did.slice('did:key:z'.length));
  if (raw.length !== 34 || raw[0] !== 0xed || raw[1] !== 0x01) {
    throw new InvalidInputError('did:key is not an Ed25519 public key');
  }
  return raw.slice(2);
}

/** Deterministic identity from a 32-byte seed. @throws {InvalidInputError} seed not 32 bytes */
export function identityFromSeed(seed: Uint8Array): Identity {
  const secretKey = deriveNamedKey(seed, KEY_NAMES.identity, 32);
  const publicKey = publicKeyOf(secretKey);
  return { secretKey, publicKey, did: didFromPublicKey(publicKey) };
}

/** Ed25519 signature (64 bytes) of `message`. @throws {InvalidInputError} secret key not 32 bytes */
export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  checkBytes(message, 'message');
  return view(nodeSign(null, message, _ed25519PrivateKeyObject(secretKey)));
}

/**
 * True iff `signature` is a valid Ed25519 signature of `message` by `publicKey`.
 * A malformed signature (not 64 bytes) verifies false.
 * @throws {InvalidInputError} public key not 32 bytes
 */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  checkBytes(message, 'message');
  const key = _ed25519PublicKeyObject(publicKey);
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
  try {
    return nodeVerify(null, message, key, signature);
  } catch {
    return false;
  }
}

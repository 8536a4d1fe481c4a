/**
 * Checks an IDENTOS device package (shared/device-package.ts) before a device
 * is registered: the Ed25519 signature over canonicalJson(package without
 * "signature"), the did:key naming the same public key, the RSA encryption
 * key, and the fingerprint (docs/format.md):
 *   fingerprint = hex(SHA-256("sealpost-fp-v1" || 0x00 || ed25519Pub(32) || rsaSpkiDer))
 */
import { createHash } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { canonicalJson } from '../../shared/canonical-json.js';
import type { DevicePackage } from '../../shared/device-package.js';
import { KeyFormatError, parseRsaPublicKey } from './online.js';

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** Base58btc (Bitcoin alphabet) of a short byte string. */
export function base58btc(bytes: Uint8Array): string {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)]! + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = `1${out}`;
  }
  return out;
}

/** did:key of an Ed25519 public key: "did:key:z" + base58btc(0xed 0x01 || key). */
export function didKeyOf(publicKey: Uint8Array): string {
  return `did:key:z${base58btc(Uint8Array.of(0xed, 0x01, ...publicKey))}`;
}

/** The identity fingerprint of an Ed25519 key and an RSA SPKI DER. */
export function identityFingerprint(signingPublicKey: Uint8Array, rsaSpkiDer: Uint8Array): string {
  return createHash('sha256').update('sealpost-fp-v1\u0000').update(signingPublicKey).update(rsaSpkiDer).digest('hex');
}

export class DevicePackageError extends Error {
  override name = 'DevicePackageError';
}

export interface CheckedPackage {
  /** The RSA encryption key as normalised SPKI PEM. */
  encryptionKey: string;
}

/**
 * @throws {DevicePackageError} naming the check that failed
 */
export function checkDevicePackage(pkg: DevicePackage): CheckedPackage {
  const signingKey = Buffer.from(pkg.signingPublicKey, 'base64url');
  const signature = Buffer.from(pkg.signature, 'base64url');
  if (signingKey.length !== 32) throw new DevicePackageError('signingPublicKey must be 32 bytes');
  if (signature.length !== 64) throw new DevicePackageError('signature must be 64 bytes');
  const { signature: _omit, ...unsigned } = pkg;
  let valid = false;
  try {
    valid = ed25519.verify(signature, new TextEncoder().encode(canonicalJson(unsigned)), signingKey);
  } catch {
    valid = false;
  }
  if (!valid) throw new DevicePackageError('signature does not verify with signingPublicKey');
  if (didKeyOf(signingKey) !== pkg.did) throw new DevicePackageError('did does not name signingPublicKey');
  let rsa;
  try {
    rsa = parseRsaPublicKey(pkg.encryptionPublicKey);
  } catch (error) {
    throw new DevicePackageError(error instanceof KeyFormatError ? error.message.replace('publickey', 'encryptionPublicKey') : 'bad encryptionPublicKey');
  }
  if (identityFingerprint(signingKey, rsa.spkiDer) !== pkg.fingerprint) throw new DevicePackageError('fingerprint does not match the keys');
  return { encryptionKey: rsa.pem };
}

/**
 * Online mode of the seed key service: the server makes the RSA pair, keeps
 * the private key sealed under the user's passphrase, encrypts messages sent
 * in plaintext and decrypts them for whoever presents the passphrase.
 *
 * Message format (also what an offline sender may produce so that an online
 * key holder can read it; docs/api.md):
 *   encryptedmessage = base64( nonce(12) || AES-256-GCM(key, nonce, gzip(plaintext)) || tag(16) )
 *   encryptionkey    = base64( RSA-OAEP-SHA256(publicKey, key(32)) )
 * Sealed private key (server-generated keys):
 *   scrypt(passphrase, salt) -> 64 bytes = verifier(32, stored) || aesKey(32)
 *   sealed = nonce(12) || AES-256-GCM(aesKey, nonce, PKCS#8 DER) || tag(16)
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import forge from 'node-forge';
import { checkVerifierAndKey, deriveVerifierAndKey, type ScryptParams } from './secrets.js';

const generateKeyPairAsync = promisify(generateKeyPair);

export const ALLOWED_RSA_BITS = [2048, 3072, 4096] as const;
export type RsaBits = (typeof ALLOWED_RSA_BITS)[number];

export class KeyFormatError extends Error {
  override name = 'KeyFormatError';
}

export interface PublicKeyInfo {
  key: KeyObject;
  /** SPKI PEM, normalised. */
  pem: string;
  spkiDer: Buffer;
  /** hex SHA-256 of the SPKI DER. */
  fingerprint: string;
  bits: number;
}

/**
 * Parses an RSA public key (SPKI "PUBLIC KEY" or PKCS#1 "RSA PUBLIC KEY" PEM).
 * @throws {KeyFormatError} not an RSA public key of 2048–4096 bits
 */
export function parseRsaPublicKey(pem: string): PublicKeyInfo {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new KeyFormatError('publickey is not a PEM public key');
  }
  if (key.asymmetricKeyType !== 'rsa') throw new KeyFormatError('publickey must be an RSA key');
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048 || bits > 4096) throw new KeyFormatError('publickey must be 2048 to 4096 bits');
  const spkiDer = key.export({ type: 'spki', format: 'der' });
  return {
    key,
    pem: key.export({ type: 'spki', format: 'pem' }).toString(),
    spkiDer,
    fingerprint: createHash('sha256').update(spkiDer).digest('hex'),
    bits,
  };
}

const PBES2 = '1.2.840.113549.1.5.13';
const PBKDF2 = '1.2.840.113549.1.5.12';
/** Refuse uploads whose KDF would let one request burn seconds of CPU. */
const MAX_PBKDF2_ITERATIONS = 1_000_000;

/**
 * Checks an uploaded `privatekey`: it must be a passphrase-encrypted PKCS#8
 * PEM (EncryptedPrivateKeyInfo, PBES2 with PBKDF2 of at most 1,000,000
 * iterations). The server cannot decrypt it until someone presents the passphrase.
 * @throws {KeyFormatError}
 */
export function checkEncryptedPrivateKeyPem(pem: string): void {
  if (!pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) {
    throw new KeyFormatError('privatekey must be encrypted with the passphrase (PKCS#8 "ENCRYPTED PRIVATE KEY" PEM)');
  }
  let iterations: number;
  try {
    const der = forge.pem.decode(pem)[0]?.body;
    if (!der) throw new Error('no PEM body');
    const info = forge.asn1.fromDer(der);
    const [algorithm] = info.value as forge.asn1.Asn1[];
    const [oid, params] = algorithm!.value as forge.asn1.Asn1[];
    if (forge.asn1.derToOid(oid!.value as string) !== PBES2) throw new Error('not PBES2');
    const [kdf] = params!.value as forge.asn1.Asn1[];
    const [kdfOid, kdfParams] = kdf!.value as forge.asn1.Asn1[];
    if (forge.asn1.derToOid(kdfOid!.value as string) !== PBKDF2) throw new Error('not PBKDF2');
    const count = (kdfParams!.value as forge.asn1.Asn1[])[1]!;
    iterations = forge.util.createBuffer(count.value as string).getInt((count.value as string).length * 8);
  } catch {
    throw new KeyFormatError('privatekey must be PKCS#8 encrypted with PBES2/PBKDF2');
  }
  if (iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) throw new KeyFormatError(`privatekey PBKDF2 iterations must be 1..${MAX_PBKDF2_ITERATIONS}`);
  let opened = false;
  try {
    createPrivateKey({ key: pem, format: 'pem' });
    opened = true;
  } catch {
    // Expected: it needs a passphrase (the error code differs between OpenSSL versions).
  }
  if (!opened) return;
  throw new KeyFormatError('privatekey must be encrypted with the passphrase');
}

/**
 * Decrypts an uploaded encrypted PKCS#8 PEM with the passphrase.
 * @returns null when the passphrase is wrong; @throws {KeyFormatError} when it does not match the public key
 */
export function openUploadedPrivateKey(pem: string, passphrase: string, publicSpkiDer: Buffer): KeyObject | null {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem', passphrase });
  } catch {
    return null;
  }
  if (!createPublicKey(key).export({ type: 'spki', format: 'der' }).equals(publicSpkiDer)) {
    throw new KeyFormatError('the stored privatekey does not belong to the publickey');
  }
  return key;
}

export interface GeneratedKey {
  publicPem: string;
  privateDer: Buffer;
}

/** A fresh RSA pair from node:crypto (native, off the event loop). */
export async function generateRsaKey(bits: RsaBits): Promise<GeneratedKey> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  return { publicPem: publicKey, privateDer: privateKey };
}

/** The seed's privatekeyhash of a private key: hex SHA-256 of its PKCS#8 DER. */
export function privateKeyHash(privateDer: Buffer): string {
  return createHash('sha256').update(privateDer).digest('hex');
}

function aesGcmSeal(key: Buffer, plaintext: Buffer): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

/** @throws {Error} truncated or tampered */
function aesGcmOpen(key: Buffer, sealed: Buffer): Buffer {
  if (sealed.length < 28) throw new Error('ciphertext too short');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
}

/** Seals a private key under a passphrase; the verifier is what gets stored beside it. */
export async function sealPrivateKey(privateDer: Buffer, passphrase: string, params: ScryptParams): Promise<{ verifier: string; sealed: Buffer }> {
  const { verifier, key } = await deriveVerifierAndKey(passphrase, params);
  const sealed = aesGcmSeal(key, privateDer);
  key.fill(0);
  return { verifier, sealed };
}

/** The private key, or null when the passphrase is wrong. */
export async function openSealedPrivateKey(sealed: Buffer, verifier: string, passphrase: string): Promise<KeyObject | null> {
  const key = await checkVerifierAndKey(passphrase, verifier);
  if (!key) return null;
  try {
    return createPrivateKey({ key: aesGcmOpen(key, sealed), format: 'der', type: 'pkcs8' });
  } finally {
    key.fill(0);
  }
}

/** Online send: gzip, AES-256-GCM under a fresh key, key wrapped with RSA-OAEP-SHA256. */
export function encryptForKey(plaintext: Buffer, publicKey: KeyObject): { body: Buffer; encKey: Buffer } {
  const key = randomBytes(32);
  const body = aesGcmSeal(key, gzipSync(plaintext));
  const encKey = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, key);
  key.fill(0);
  return { body, encKey };
}

/** @throws {Error} not in the online format, tampered, or larger than `maxBytes` once inflated */
export function decryptForKey(body: Buffer, encKey: Buffer, privateKey: KeyObject, maxBytes: number): Buffer {
  const key = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, encKey);
  try {
    return gunzipSync(aesGcmOpen(key, body), { maxOutputLength: maxBytes });
  } finally {
    key.fill(0);
  }
}

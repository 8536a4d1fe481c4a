/**
 * RSA encryption keys: generation, PEM/DER import with validation, key ids,
 * RSAES-OAEP key wrapping (RFC 8017 §7.1, SHA-256, MGF1-SHA-256, empty label),
 * and passphrase-encrypted PKCS#8 (RFC 5958 EncryptedPrivateKeyInfo with PBES2,
 * RFC 8018: PBKDF2-HMAC-SHA256 + AES-256-CBC), all on native node:crypto.
 *
 * Accepted keys: RSA (not RSA-PSS-restricted), modulus 2048..16384 bits, odd e >= 3.
 * Key id = first 16 bytes of SHA-256(SubjectPublicKeyInfo DER).
 * The forge implementation of the same OAEP lives in the tests (interop).
 * @module
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  KeyObject,
  pbkdf2,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import { promisify } from 'node:util';
import { checkBytes, toHex, utf8, view, wipe } from './_bytes.js';
import { children, integer, isOid, nul, octets, oid, readInteger, seq, single, TAG } from './_der.js';
import { InvalidInputError, WrongKeyError } from './errors.js';

const generateKeyPairAsync = promisify(generateKeyPair);
const pbkdf2Async = promisify(pbkdf2);

export type RsaBits = 2048 | 3072 | 4096;
/** Default modulus size (design §3). */
export const DEFAULT_RSA_BITS: RsaBits = 3072;
export const MIN_RSA_BITS = 2048;
export const MAX_RSA_BITS = 16384;
/** Length of a key id in bytes (hex: twice that). */
export const KEY_ID_LENGTH = 16;

/** A freshly generated pair: SPKI PEM public key, PKCS#8 DER private key. */
export interface EncryptionKeyPair {
  publicKeyPem: string;
  privateKeyDer: Buffer;
}

/** A public key as SPKI PEM, a KeyObject, or a record carrying `publicKeyPem`. */
export type PublicKeyInput = string | KeyObject | { publicKeyPem: string };
/** A private key as a KeyObject or PKCS#8 DER bytes. */
export type PrivateKeyInput = KeyObject | Uint8Array;

const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;

/**
 * Generates a random RSA key pair (e = 65537) natively, off the main thread.
 * @throws {InvalidInputError} bits not 2048, 3072 or 4096
 */
export async function generateEncryptionKeyPair(bits: RsaBits = DEFAULT_RSA_BITS): Promise<EncryptionKeyPair> {
  if (bits !== 2048 && bits !== 3072 && bits !== 4096) throw new InvalidInputError('bits must be 2048, 3072 or 4096');
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: bits,
    publicExponent: 0x10001,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  return { publicKeyPem: publicKey, privateKeyDer: privateKey };
}

function checkRsa(key: KeyObject, type: 'public' | 'private'): KeyObject {
  if (key.type !== type) throw new InvalidInputError(`expected an RSA ${type} key, got a ${key.type} key`);
  if (key.asymmetricKeyType !== 'rsa') {
    throw new InvalidInputError(`expected an RSA key, got ${String(key.asymmetricKeyType)}`);
  }
  const d = key.asymmetricKeyDetails;
  const bits = d?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
    throw new InvalidInputError(`RSA modulus must be ${MIN_RSA_BITS}..${MAX_RSA_BITS} bits, got ${bits}`);
  }
  const e = d?.publicExponent ?? 0n;
  if (e < 3n || e % 2n === 0n) throw new InvalidInputError('RSA public exponent must be odd and >= 3');
  return key;
}

const checkedPublic = new WeakSet<KeyObject>();

/**
 * Imports and validates an RSA public key (SPKI PEM, "RSA PUBLIC KEY" PEM, or KeyObject).
 * @throws {InvalidInputError} not parseable, not RSA, modulus < 2048 bits, a private key
 */
export function importPublicKey(input: PublicKeyInput): KeyObject {
  if (input instanceof KeyObject) {
    if (checkedPublic.has(input)) return input;
    checkRsa(input, 'public');
    checkedPublic.add(input);
    return input;
  }
  const pem = typeof input === 'string' ? input : input?.publicKeyPem;
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN ') || pem.includes('PRIVATE KEY')) {
    throw new InvalidInputError('public key must be a PEM "PUBLIC KEY" or a KeyObject');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (cause) {
    throw new InvalidInputError('public key PEM does not parse', { cause });
  }
  checkRsa(key, 'public');
  checkedPublic.add(key);
  return key;
}

/** SPKI PEM of a validated RSA public key. @throws {InvalidInputError} */
export function exportPublicKeyPem(input: PublicKeyInput): string {
  return importPublicKey(input).export({ type: 'spki', format: 'pem' }) as string;
}

/** SubjectPublicKeyInfo DER of a validated RSA public key. @throws {InvalidInputError} */
export function publicKeySpkiDer(input: PublicKeyInput): Uint8Array {
  return view(importPublicKey(input).export({ type: 'spki', format: 'der' }));
}

/**
 * Imports and validates an RSA private key from PKCS#8 DER (or passes a KeyObject through).
 * @throws {InvalidInputError} not PKCS#8, not RSA, modulus < 2048 bits
 */
export function importPrivateKey(input: PrivateKeyInput): KeyObject {
  if (input instanceof KeyObject) return checkRsa(input, 'private');
  checkBytes(input, 'private key DER');
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(input), format: 'der', type: 'pkcs8' });
  } catch (cause) {
    throw new InvalidInputError('private key is not PKCS#8 DER', { cause });
  }
  return checkRsa(key, 'private');
}

/** The public half of a private key. @throws {InvalidInputError} */
export function publicKeyFromPrivate(privateKey: PrivateKeyInput): KeyObject {
  const key = createPublicKey(importPrivateKey(privateKey));
  checkedPublic.add(key);
  return key;
}

const keyIdCache = new WeakMap<KeyObject, Uint8Array>();

/** Key id bytes: SHA-256(SPKI DER)[0..16). @throws {InvalidInputError} */
export function keyIdBytes(input: PublicKeyInput): Uint8Array {
  const key = importPublicKey(input);
  let id = keyIdCache.get(key);
  if (!id) {
    id = view(createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest().subarray(0, KEY_ID_LENGTH));
    keyIdCache.set(key, id);
  }
  return id.slice();
}

/** Key id as 32 lowercase hex characters. @throws {InvalidInputError} */
export function keyId(input: PublicKeyInput): string {
  return toHex(keyIdBytes(input));
}

/** privatekeyhash (design §3): lowercase hex SHA-256 of the PKCS#8 DER bytes as given. */
export function privateKeyHash(privateKeyDer: Uint8Array): string {
  checkBytes(privateKeyDer, 'private key DER');
  return createHash('sha256').update(privateKeyDer).digest('hex');
}

/**
 * RSA-OAEP(SHA-256, MGF1-SHA-256, empty label) encryption of a 32-byte key.
 * @throws {InvalidInputError} bad public key or key not 32 bytes
 */
export function wrapKey(publicKey: PublicKeyInput, key32: Uint8Array): Uint8Array {
  checkBytes(key32, 'key to wrap', 32);
  return view(publicEncrypt({ key: importPublicKey(publicKey), ...OAEP }, key32));
}

/**
 * @internal Raw RSA-OAEP-SHA256 decryption with an optional label (Wycheproof tests).
 * @throws {WrongKeyError} on any decryption failure (one error for every cause: no padding oracle)
 */
export function _oaepDecrypt(privateKey: PrivateKeyInput, ciphertext: Uint8Array, label?: Uint8Array): Uint8Array {
  const key = importPrivateKey(privateKey);
  checkBytes(ciphertext, 'wrapped key');
  // RFC 8017 §7.1.2 step 1: a ciphertext must be exactly k octets. OpenSSL also accepts
  // shorter input (read as a smaller integer), so a wrap whose first byte is 0 would still
  // open with that byte cut off; one length rule keeps a modified wrap a WrongKeyError.
  const modulusBytes = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  if (ciphertext.length !== modulusBytes) {
    throw new WrongKeyError('RSA-OAEP decryption failed (wrong key or corrupted wrapped key)');
  }
  try {
    return view(privateDecrypt({ key, ...OAEP, ...(label && label.length ? { oaepLabel: label } : {}) }, ciphertext));
  } catch {
    throw new WrongKeyError('RSA-OAEP decryption failed (wrong key or corrupted wrapped key)');
  }
}

/**
 * Unwraps a 32-byte key wrapped by {@link wrapKey}.
 * @throws {InvalidInputError} bad private key
 * @throws {WrongKeyError} not wrapped for this key, corrupted, or not 32 bytes inside
 */
export function unwrapKey(privateKey: PrivateKeyInput, wrapped: Uint8Array): Uint8Array {
  const key = _oaepDecrypt(privateKey, wrapped);
  if (key.length !== 32) {
    wipe(key);
    throw new WrongKeyError('RSA-OAEP decryption failed (wrong key or corrupted wrapped key)');
  }
  return key;
}

// ---- Passphrase-encrypted PKCS#8 (PBES2 / PBKDF2-HMAC-SHA256 / AES-256-CBC) ----

const OID_PBES2 = '1.2.840.113549.1.5.13';
const OID_PBKDF2 = '1.2.840.113549.1.5.12';
const OID_AES256_CBC = '2.16.840.1.101.3.4.1.42';
const PRF_OIDS: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};
/** PBKDF2 iterations for exported keys (OWASP 2023 figure for HMAC-SHA256). */
export const PKCS8_PBKDF2_ITERATIONS = 600_000;
const MAX_PBKDF2_ITERATIONS = 10_000_000;

function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

function unpem(text: string, label: string): Uint8Array {
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(text);
  if (!m) throw new InvalidInputError(`expected a PEM "${label}"`);
  return view(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}

/**
 * Passphrase-encrypted PKCS#8 PEM ("ENCRYPTED PRIVATE KEY"): PBES2 with
 * PBKDF2-HMAC-SHA256 (16-byte salt, `iterations`) and AES-256-CBC (16-byte IV).
 * Opens with `openssl pkey -passin`, node:crypto createPrivateKey and forge.
 * @throws {InvalidInputError} bad private key, empty passphrase, iterations out of range
 */
export async function exportEncryptedPrivateKeyPem(
  privateKeyDer: Uint8Array,
  passphrase: string,
  options: { iterations?: number } = {},
): Promise<string> {
  importPrivateKey(privateKeyDer);
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new InvalidInputError('passphrase must be non-empty');
  const iterations = options.iterations ?? PKCS8_PBKDF2_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) {
    throw new InvalidInputError('iterations out of range');
  }
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = await pbkdf2Async(utf8(passphrase), salt, iterations, 32, 'sha256');
  try {
    const cipher = createCipheriv('aes-256-cbc', key, iv);
    const encrypted = Buffer.concat([cipher.update(privateKeyDer), cipher.final()]);
    const der = seq(
      seq(
        oid(OID_PBES2),
        seq(
          seq(oid(OID_PBKDF2), seq(octets(salt), integer(iterations), seq(oid('1.2.840.113549.2.9'), nul()))),
          seq(oid(OID_AES256_CBC), octets(iv)),
        ),
      ),
      octets(encrypted),
    );
    return pem('ENCRYPTED PRIVATE KEY', der);
  } finally {
    wipe(key);
  }
}

interface Pbes2Params {
  salt: Uint8Array;
  iterations: number;
  digest: string;
  iv: Uint8Array;
  data: Uint8Array;
}

/** Parses PBES2/PBKDF2/AES-256-CBC; undefined for any other (valid) scheme. */
function parsePbes2(der: Uint8Array): Pbes2Params | undefined {
  const [alg, data] = children(single(der));
  const [algOid, params] = children(alg);
  if (!isOid(algOid, OID_PBES2)) return undefined;
  const [kdf, enc] = children(params);
  const [kdfOid, kdfParams] = children(kdf);
  const [encOid, iv] = children(enc);
  if (!isOid(kdfOid, OID_PBKDF2) || !isOid(encOid, OID_AES256_CBC)) return undefined;
  if (!iv || iv.tag !== TAG.OCTET_STRING || iv.content.length !== 16) return undefined;
  const p = children(kdfParams);
  const salt = p[0];
  if (!salt || salt.tag !== TAG.OCTET_STRING) return undefined;
  const iterations = readInteger(p[1]);
  let i = 2;
  if (p[i]?.tag === TAG.INTEGER) {
    if (readInteger(p[i]) !== 32) return undefined;
    i++;
  }
  let digest = 'sha1';
  if (p[i]) {
    const [prfOid] = children(p[i]);
    const name = Object.entries(PRF_OIDS).find(([o]) => isOid(prfOid, o))?.[1];
    if (!name) return undefined;
    digest = name;
  }
  if (!data || data.tag !== TAG.OCTET_STRING || data.content.length % 16 !== 0 || data.content.length === 0) {
    throw new InvalidInputError('malformed encrypted private key');
  }
  return { salt: salt.content, iterations, digest, iv: iv.content, data: data.content };
}

/**
 * Decrypts an "ENCRYPTED PRIVATE KEY" PEM to PKCS#8 DER. PBES2/PBKDF2/AES-256-CBC
 * (ours, and OpenSSL's default) is decrypted asynchronously off the main thread;
 * other schemes OpenSSL knows (e.g. PBES2/scrypt) fall back to a synchronous import.
 * @throws {InvalidInputError} not an encrypted PKCS#8 PEM, not RSA, < 2048 bits, absurd iteration count
 * @throws {WrongKeyError} wrong passphrase (or corrupted ciphertext)
 */
export async function importEncryptedPrivateKeyPem(encryptedPem: string, passphrase: string): Promise<Buffer> {
  if (typeof encryptedPem !== 'string') throw new InvalidInputError('expected a PEM string');
  if (typeof passphrase !== 'string') throw new InvalidInputError('passphrase must be a string');
  const der = unpem(encryptedPem, 'ENCRYPTED PRIVATE KEY');
  const params = parsePbes2(der);
  let plain: Buffer;
  if (params) {
    if (params.iterations < 1 || params.iterations > MAX_PBKDF2_ITERATIONS) {
      throw new InvalidInputError('PBKDF2 iteration count out of range');
    }
    const key = await pbkdf2Async(utf8(passphrase), params.salt, params.iterations, 32, params.digest);
    try {
      const d = createDecipheriv('aes-256-cbc', key, params.iv);
      plain = Buffer.concat([d.update(params.data), d.final()]);
    } catch {
      throw new WrongKeyError('wrong passphrase');
    } finally {
      wipe(key);
    }
  } else {
    try {
      plain = createPrivateKey({ key: encryptedPem, format: 'pem', passphrase }).export({
        type: 'pkcs8',
        format: 'der',
      });
    } catch (cause) {
      throw new WrongKeyError('wrong passphrase or unsupported encryption', { cause });
    }
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: plain, format: 'der', type: 'pkcs8' });
  } catch {
    // CBC padding checks out under a wrong passphrase about 1 time in 256; the DER then fails.
    throw new WrongKeyError('wrong passphrase');
  }
  checkRsa(key, 'private');
  return plain;
}


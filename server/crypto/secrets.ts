/**
 * How the key service keeps secrets it must check but never needs back.
 *
 * - Low-entropy secrets (passphrases, privatekeyhash — the seed allows "any
 *   string") are stored as salted scrypt hashes (RFC 7914), checked in
 *   constant time: `scrypt$<log2 N>$<r>$<p>$<salt b64>$<hash b64>`.
 * - High-entropy values the server generated (serverKey, clientKey, key
 *   tokens: 256 random bits) are stored as HMAC-SHA256 under a server-wide
 *   pepper and looked up by that hash: a slow hash adds nothing at 256 bits,
 *   and a cheap one keeps every request's authentication fast.
 */
import { createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  log2N: number;
  r: number;
  p: number;
}

/** ~50–100 ms and 32 MiB per hash on a current server core. */
export const DEFAULT_SCRYPT: ScryptParams = { log2N: 15, r: 8, p: 1 };

const MAX_LOG2N = 20;

function scrypt(secret: string | Buffer, salt: Buffer, length: number, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** params.log2N, r: params.r, p: params.p, maxmem: 256 * params.r * 2 ** params.log2N + 1024 * 1024 };
  return new Promise((resolve, reject) => scryptCb(secret, salt, length, options, (err, key) => (err ? reject(err) : resolve(key))));
}

export interface ParsedVerifier {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

export function formatVerifier(params: ScryptParams, salt: Buffer, hash: Buffer): string {
  return `scrypt$${params.log2N}$${params.r}$${params.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** @throws {Error} not a verifier this server wrote */
export function parseVerifier(stored: string): ParsedVerifier {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') throw new Error('malformed scrypt verifier');
  const [log2N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (!Number.isInteger(log2N) || log2N < 10 || log2N > MAX_LOG2N || !Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) {
    throw new Error('scrypt verifier parameters out of range');
  }
  return { params: { log2N, r, p }, salt: Buffer.from(parts[4]!, 'base64'), hash: Buffer.from(parts[5]!, 'base64') };
}

/** Salted scrypt hash of a secret, as a self-describing verifier string. */
export async function slowHash(secret: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  return formatVerifier(params, salt, await scrypt(secret, salt, 32, params));
}

/** Constant-time check of a secret against a {@link slowHash} verifier. */
export async function slowVerify(secret: string, stored: string): Promise<boolean> {
  const v = parseVerifier(stored);
  const candidate = await scrypt(secret, v.salt, v.hash.length, v.params);
  return candidate.length === v.hash.length && timingSafeEqual(candidate, v.hash);
}

/**
 * scrypt with 64 output bytes: the first 32 are a verifier (stored), the last
 * 32 a key (never stored). Used to seal server-generated private keys under a
 * passphrase with one slow derivation.
 */
export async function deriveVerifierAndKey(secret: string, params: ScryptParams, salt = randomBytes(16)): Promise<{ verifier: string; key: Buffer }> {
  const out = await scrypt(secret, salt, 64, params);
  return { verifier: formatVerifier(params, salt, out.subarray(0, 32)), key: out.subarray(32) };
}

/** The key of {@link deriveVerifierAndKey}, or null when the secret does not match the verifier. */
export async function checkVerifierAndKey(secret: string, stored: string): Promise<Buffer | null> {
  const v = parseVerifier(stored);
  const out = await scrypt(secret, v.salt, 64, v.params);
  return timingSafeEqual(out.subarray(0, 32), v.hash) ? out.subarray(32) : null;
}

/** HMAC-SHA256(pepper, value), hex: how API keys and key tokens are stored and looked up. */
export function keyedHash(pepper: Buffer, value: string): string {
  return createHmac('sha256', pepper).update(value).digest('hex');
}

/** `bytes` random bytes, base64url without padding. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * Per-instance memory of successful slow-hash checks, so a device polling its
 * inbox does not pay scrypt on every request. Entries are keyed by an HMAC of
 * (key id, stored verifier, secret) under a per-process random key: nothing
 * secret is kept, a failed check is never cached, and a changed or deleted
 * key stops matching. Purely an optimisation — correctness never depends on it.
 */
export class VerifiedSecretCache {
  private readonly entries = new Map<string, number>();
  private readonly cacheKey = randomBytes(32);

  constructor(
    private readonly ttlMs = 10 * 60_000,
    private readonly maxEntries = 10_000,
  ) {}

  private id(scope: string, verifier: string, secret: string): string {
    return createHmac('sha256', this.cacheKey).update(scope).update('\0').update(verifier).update('\0').update(secret).digest('base64');
  }

  has(scope: string, verifier: string, secret: string, now = Date.now()): boolean {
    const id = this.id(scope, verifier, secret);
    const expires = this.entries.get(id);
    if (expires === undefined) return false;
    if (expires < now) {
      this.entries.delete(id);
      return false;
    }
    return true;
  }

  add(scope: string, verifier: string, secret: string, now = Date.now()): void {
    const id = this.id(scope, verifier, secret);
    this.entries.delete(id);
    this.entries.set(id, now + this.ttlMs);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }
}

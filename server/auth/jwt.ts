/**
 * Device JWTs (SenseCrypt's gen-jwt flow): compact JWS, HS256 only (RFC 7519,
 * RFC 7515), signed with the server's secret, which every instance shares
 * (SEALPOST_JWT_SECRET, or generated once and kept in the database).
 *
 * Claims: iss "sealpost-keyservice", aud = app id, sub = device id,
 * uid = user id, iat, exp, jti.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BoundedMap } from '../lru.js';

export const JWT_ISSUER = 'sealpost-keyservice';
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
const MAX_TOKEN_LENGTH = 4096;
/** Tolerated clock difference between instances for iat. */
const SKEW_SECONDS = 60;

export interface DeviceClaims {
  iss: string;
  aud: string;
  sub: string;
  uid: string;
  iat: number;
  exp: number;
  jti: string;
}

export type JwtFailure = 'malformed' | 'bad_signature' | 'expired' | 'not_yet_valid' | 'wrong_issuer';

function sign(input: string, secret: Buffer): Buffer {
  return createHmac('sha256', secret).update(input).digest();
}

export function signDeviceJwt(c: { appId: string; deviceId: string; userId: string; ttlSeconds: number; now?: number }, secret: Buffer): { jwt: string; exp: number } {
  const iat = Math.floor((c.now ?? Date.now()) / 1000);
  const claims: DeviceClaims = { iss: JWT_ISSUER, aud: c.appId, sub: c.deviceId, uid: c.userId, iat, exp: iat + c.ttlSeconds, jti: randomBytes(12).toString('base64url') };
  const input = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return { jwt: `${input}.${sign(input, secret).toString('base64url')}`, exp: claims.exp };
}

const B64URL = /^[A-Za-z0-9_-]+$/;

/** Verifies signature and times; the caller then checks the device is still registered and not revoked. */
export function verifyDeviceJwt(token: string, secret: Buffer, now = Date.now()): { ok: true; claims: DeviceClaims } | { ok: false; reason: JwtFailure } {
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) return { ok: false, reason: 'malformed' };
  const [header, payload, signature] = parts as [string, string, string];
  // Only our exact header: no "alg":"none", no key ids, no algorithm confusion.
  if (header !== HEADER) return { ok: false, reason: 'malformed' };
  const expected = sign(`${header}.${payload}`, secret);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
  let claims: DeviceClaims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as DeviceClaims;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (
    typeof claims !== 'object' ||
    claims === null ||
    typeof claims.aud !== 'string' ||
    typeof claims.sub !== 'string' ||
    typeof claims.uid !== 'string' ||
    !Number.isSafeInteger(claims.exp) ||
    !Number.isSafeInteger(claims.iat)
  ) {
    return { ok: false, reason: 'malformed' };
  }
  if (claims.iss !== JWT_ISSUER) return { ok: false, reason: 'wrong_issuer' };
  const nowSeconds = Math.floor(now / 1000);
  if (claims.exp <= nowSeconds) return { ok: false, reason: 'expired' };
  if (claims.iat > nowSeconds + SKEW_SECONDS) return { ok: false, reason: 'not_yet_valid' };
  return { ok: true, claims };
}

/**
 * verifyDeviceJwt with a per-instance memo of tokens whose signature and
 * claims checked out: a device sends the same token on every request, so the
 * HMAC and JSON parsing run once per token. Times are checked on every call;
 * revocation is checked by the caller (in the database) on every call.
 */
export class JwtVerifier {
  private readonly verified = new BoundedMap<string, DeviceClaims>(10_000);

  constructor(private readonly secret: Buffer) {}

  verify(token: string, now = Date.now()): ReturnType<typeof verifyDeviceJwt> {
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.exp > Math.floor(now / 1000)) return { ok: true, claims: cached };
      this.verified.delete(token);
      return { ok: false, reason: 'expired' };
    }
    const result = verifyDeviceJwt(token, this.secret, now);
    if (result.ok) this.verified.set(token, result.claims);
    return result;
  }
}

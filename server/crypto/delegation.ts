/**
 * Server-side checks of device delegations and agent tokens (shared/delegation.ts,
 * docs/format.md §15.1), with @noble/curves: the server does not import electron/.
 *
 *   delegation signature = Ed25519(identity key, UTF-8(canonicalJson(delegation without "signature")))
 *   agent token          = compact JWS, header {"alg":"EdDSA","typ":"JWT"}, signed by the device key
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { canonicalJson } from '../../shared/canonical-json.js';
import { AGENT_TOKEN_MAX_TTL_S, AgentTokenClaimsSchema, AgentTokenHeaderSchema, DelegationSchema, type AgentTokenClaims, type Delegation } from '../../shared/delegation.js';

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const MAX_TOKEN_LENGTH = 4096;
const SKEW_SECONDS = 60;

function base58btcDecode(text: string): Uint8Array | null {
  let n = 0n;
  for (const c of text) {
    const v = ALPHABET.indexOf(c);
    if (v < 0) return null;
    n = n * 58n + BigInt(v);
  }
  const bytes: number[] = [];
  while (n > 0n) {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  for (const c of text) {
    if (c !== '1') break;
    bytes.unshift(0);
  }
  return Uint8Array.from(bytes);
}

/** The Ed25519 public key a did:key names, or null when it names none. */
export function ed25519KeyOfDid(did: string): Uint8Array | null {
  if (!did.startsWith('did:key:z')) return null;
  const bytes = base58btcDecode(did.slice('did:key:z'.length));
  if (!bytes || bytes.length !== 34 || bytes[0] !== 0xed || bytes[1] !== 0x01) return null;
  return bytes.subarray(2);
}

function verifySignature(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return ed25519.verify(signature, message, publicKey);
  } catch {
    return false;
  }
}

export type DelegationCheck = { ok: true; delegation: Delegation } | { ok: false; reason: string };

/** Shape and signature by the identity key given (base64url), which must be the one `did` names. */
export function checkDelegation(value: unknown, identityKey: string): DelegationCheck {
  const parsed = DelegationSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: 'malformed delegation' };
  const { signature, ...unsigned } = parsed.data;
  const key = ed25519KeyOfDid(parsed.data.did);
  if (!key || Buffer.from(key).toString('base64url') !== identityKey) return { ok: false, reason: 'the delegation names another identity' };
  if (!ed25519KeyOfDid(parsed.data.deviceDid)) return { ok: false, reason: 'deviceDid names no Ed25519 key' };
  if (!verifySignature(Buffer.from(signature, 'base64url'), new TextEncoder().encode(canonicalJson(unsigned)), key)) {
    return { ok: false, reason: 'the delegation is not signed by the identity key' };
  }
  return { ok: true, delegation: parsed.data };
}

/** Whether a bearer token's header announces an agent token (EdDSA) rather than a device JWT (HS256). */
export function isAgentToken(token: string): boolean {
  // Every device request asks this: look at the header only, without splitting the whole token.
  const dot = token.indexOf('.');
  const header = dot < 0 ? token : token.slice(0, dot);
  if (!header || !/^[A-Za-z0-9_-]+$/.test(header)) return false;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && (parsed as { alg?: unknown }).alg === 'EdDSA';
  } catch {
    return false;
  }
}

export type AgentTokenFailure = 'malformed' | 'bad_signature' | 'expired' | 'not_yet_valid' | 'too_long';

/** Form, signature by the key `iss` names, and times. Delegation, audience and replay are the caller's. */
export function verifyAgentTokenSignature(token: string, now = Date.now()): { ok: true; claims: AgentTokenClaims } | { ok: false; reason: AgentTokenFailure } {
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return { ok: false, reason: 'malformed' };
  const [h, p, s] = parts as [string, string, string];
  let header: unknown;
  let payload: unknown;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (!AgentTokenHeaderSchema.safeParse(header).success) return { ok: false, reason: 'malformed' };
  const claims = AgentTokenClaimsSchema.safeParse(payload);
  if (!claims.success) return { ok: false, reason: 'malformed' };
  const key = ed25519KeyOfDid(claims.data.iss);
  if (!key || !verifySignature(Buffer.from(s, 'base64url'), new TextEncoder().encode(`${h}.${p}`), key)) return { ok: false, reason: 'bad_signature' };
  const t = Math.floor(now / 1000);
  if (claims.data.exp <= t) return { ok: false, reason: 'expired' };
  if (claims.data.iat > t + SKEW_SECONDS) return { ok: false, reason: 'not_yet_valid' };
  if (claims.data.exp - claims.data.iat > AGENT_TOKEN_MAX_TTL_S) return { ok: false, reason: 'too_long' };
  return { ok: true, claims: claims.data };
}

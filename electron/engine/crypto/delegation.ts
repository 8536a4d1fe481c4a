/**
 * Device keys, delegations and agent tokens (shared/delegation.ts, docs/format.md §18).
 * The device key is random per device (not derived from the seed: a restored or
 * linked device gets a new one, and revoking one device never touches the others).
 * Agent tokens are made here and checked only by the key service
 * (server/crypto/delegation.ts).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { canonicalJson } from '../../../shared/canonical-json.js';
import {
  AGENT_TOKEN_MAX_TTL_S,
  AgentTokenClaimsSchema,
  DelegationSchema,
  type AgentTokenClaims,
  type Delegation,
} from '../../../shared/delegation.js';
import { utf8 } from './_bytes.js';
import { BadSignatureError, InvalidInputError } from './errors.js';
import { didFromPublicKey, publicKeyFromDid, publicKeyOf, sign, verify } from './identity.js';

export interface DeviceKey {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  did: string;
}

/** A fresh random Ed25519 device key. */
export function newDeviceKey(): DeviceKey {
  const secretKey = new Uint8Array(randomBytes(32));
  const publicKey = publicKeyOf(secretKey);
  return { secretKey, publicKey, did: didFromPublicKey(publicKey) };
}

/** The device key for a stored secret. @throws {InvalidInputError} */
export function deviceKeyFromSecret(secretKey: Uint8Array): DeviceKey {
  const publicKey = publicKeyOf(secretKey);
  return { secretKey, publicKey, did: didFromPublicKey(publicKey) };
}

/** The identity signs a delegation to a device key. @throws {InvalidInputError} */
export function signDelegation(identitySecretKey: Uint8Array, fields: Omit<Delegation, 'signature' | 'version' | 'scope'>): Delegation {
  const unsigned = { version: 1 as const, scope: 'authenticate' as const, ...fields };
  const signature = Buffer.from(sign(utf8(canonicalJson(unsigned)), identitySecretKey)).toString('base64url');
  return DelegationSchema.parse({ ...unsigned, signature });
}

/**
 * Checks shape and signature (by the identity its `did` names).
 * @throws {InvalidInputError} malformed; {BadSignatureError} signature wrong
 */
export function verifyDelegation(delegation: unknown): Delegation {
  const parsed = DelegationSchema.safeParse(delegation);
  if (!parsed.success) throw new InvalidInputError('malformed delegation');
  const { signature, ...unsigned } = parsed.data;
  if (!verify(Buffer.from(signature, 'base64url'), utf8(canonicalJson(unsigned)), publicKeyFromDid(parsed.data.did))) {
    throw new BadSignatureError('the delegation is not signed by the identity it names');
  }
  return parsed.data;
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A short-lived agent token signed by the device key.
 * @throws {InvalidInputError} ttl out of 1..600 s
 */
export function makeAgentToken(device: DeviceKey, claims: { sub: string; aud: string; ttlSeconds?: number; now?: number }): string {
  const ttl = claims.ttlSeconds ?? 300;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > AGENT_TOKEN_MAX_TTL_S) throw new InvalidInputError(`agent token lifetime must be 1..${AGENT_TOKEN_MAX_TTL_S} s`);
  const iat = Math.floor((claims.now ?? Date.now()) / 1000);
  const payload: AgentTokenClaims = { iss: device.did, sub: claims.sub, aud: claims.aud, iat, exp: iat + ttl, jti: randomBytes(16).toString('base64url') };
  const signingInput = `${b64url({ alg: 'EdDSA', typ: 'JWT' })}.${b64url(AgentTokenClaimsSchema.parse(payload))}`;
  return `${signingInput}.${Buffer.from(sign(utf8(signingInput), device.secretKey)).toString('base64url')}`;
}

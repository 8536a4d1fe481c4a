import { z } from 'zod';

/**
 * Device delegation (IOTICS authentication delegation, design §7): the identity key
 * says "this device key may act for me". Each device has its own Ed25519 key; the
 * directory serves the delegations in the user's DID document, and the key service
 * accepts an agent token signed by a delegated, unrevoked device key.
 *
 * signature = Ed25519(identity key, UTF-8(canonicalJson(delegation without "signature")))
 */
export const DelegationSchema = z
  .object({
    version: z.literal(1),
    /** did:key of the identity (the delegator). */
    did: z.string().regex(/^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}$/),
    /** The device, 32 lowercase hex digits (as in the device package). */
    deviceId: z.string().regex(/^[0-9a-f]{32}$/),
    /** did:key of the device's own Ed25519 key (the delegate). */
    deviceDid: z.string().regex(/^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}$/),
    /** What the device may do: authenticate to the key service on the user's behalf. */
    scope: z.literal('authenticate'),
    /** ISO 8601 time of signing. */
    issuedAt: z.string().datetime(),
    signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/),
  })
  .strict();
export type Delegation = z.infer<typeof DelegationSchema>;

/**
 * Agent token: a compact JWS (RFC 7515) with alg "EdDSA" (RFC 8037), signed by the
 * device key. Short-lived (at most 10 minutes) and bound to one app.
 */
export const AgentTokenHeaderSchema = z.object({ alg: z.literal('EdDSA'), typ: z.literal('JWT') }).strict();
export const AgentTokenClaimsSchema = z
  .object({
    /** The device key's did:key. */
    iss: z.string().regex(/^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}$/),
    /** The identity's did:key. */
    sub: z.string().regex(/^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}$/),
    /** The appId. */
    aud: z.string().min(1).max(200),
    /** Seconds since the epoch. */
    iat: z.number().int().nonnegative(),
    exp: z.number().int().nonnegative(),
    /** 16 random bytes, base64url: lets the service refuse a replay within the lifetime. */
    jti: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
  })
  .strict();
export type AgentTokenClaims = z.infer<typeof AgentTokenClaimsSchema>;

/** Longest lifetime a key service accepts for an agent token. */
export const AGENT_TOKEN_MAX_TTL_S = 600;

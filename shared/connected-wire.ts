import { z } from 'zod';
import { canonicalJson } from './canonical-json.js';

/**
 * Connected apps (docs/connected-apps.md, docs/api.md "Connected apps"): an
 * organisation's other applications ask for a user's personal encryption key or
 * a sign-in; the user decides on a device. Shared by the key service, the engine
 * and the example application.
 *
 * What travels: the device seals the key to the application's transit key
 * (RSA-OAEP-SHA256, docs/format.md §19) and signs the approval challenge with the
 * identity key (Ed25519). The key service stores and relays those two only.
 */

/** The header an application's back end authenticates with (server to server). */
export const CONNECTED_APP_HEADER = 'x-connected-app-key';

export const ConnectedAppId = z.string().regex(/^ca_[0-9a-f]{16}$/, 'a connected-app id is "ca_" and 16 hex digits');
/** 128 random bits, hex. */
export const ApprovalId = z.string().regex(/^[0-9a-f]{32}$/, 'a request id is 32 hex digits');
/** What the application may ask for (the seed's three ways). */
export const ConnectedAppMode = z.enum(['api', 'login', 'always']);
export type ConnectedAppMode = z.infer<typeof ConnectedAppMode>;
export const KeyBits = z.union([z.literal(128), z.literal(192), z.literal(256)]);
export type KeyBits = z.infer<typeof KeyBits>;
/** What a request asks: a key, a sign-in, or a sign-in that brings the key too (mode `login`/`always`). */
export const ApprovalKind = z.enum(['key', 'sign-in', 'sign-in+key']);
export type ApprovalKind = z.infer<typeof ApprovalKind>;
export const ApprovalState = z.enum(['pending', 'approved', 'denied', 'expired']);
export type ApprovalState = z.infer<typeof ApprovalState>;

/** A user code for a sign-in that names nobody: 8 letters/digits without look-alikes, shown as ABCD-EFGH. */
export const USER_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const UserCode = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-HJ-NP-Z2-9]{4}[- ]?[A-HJ-NP-Z2-9]{4}$/, 'the code has 8 letters or digits, e.g. ABCD-EFGH')
  .transform((s) => s.replace(/[- ]/g, ''));

const Username = z.string().min(1).max(128);
const Reason = z.string().trim().min(1).max(300);
/** A PEM public key (RSA 2048-4096; the server checks the rest). */
const Pem = z.string().min(100).max(4000);
/** How long the request waits for a decision, in seconds (default 120). */
const ExpiresIn = z.number().int().min(30).max(600);

export const CreateKeyRequestBody = z.strictObject({ username: Username, reason: Reason, publicKey: Pem.optional(), expiresIn: ExpiresIn.optional() });
export const CreateSignInBody = z.strictObject({
  /** Omitted or null: the user is identified by the user code the answer carries. */
  username: Username.nullable().optional(),
  returnTo: z.string().url().max(500),
  reason: Reason.optional(),
  publicKey: Pem.optional(),
  expiresIn: ExpiresIn.optional(),
});
export const CreatedRequestResponse = z.object({
  id: ApprovalId,
  kind: ApprovalKind,
  state: ApprovalState,
  nonce: z.string(),
  expiresAt: z.string(),
  /** Only for a sign-in without a username: the user types it on the desktop. */
  userCode: z.string().nullable(),
});

/** The sealed personal key (docs/format.md §19). */
export const SealedKey = z.strictObject({
  v: z.literal(1),
  alg: z.literal('RSA-OAEP-256'),
  /** hex SHA-256 of the transit key's SPKI DER. */
  kid: z.string().regex(/^[0-9a-f]{64}$/),
  /** The RSA-OAEP ciphertext, base64. */
  ct: z.string().min(200).max(1024).regex(/^[A-Za-z0-9+/]*={0,2}$/),
});
export type SealedKey = z.infer<typeof SealedKey>;

/** What the identity key signs: one request, one application, one decision. */
export const ApprovalChallenge = z.strictObject({
  type: z.literal('sealpost/connected-app/approval/v1'),
  /** The key service's app (the organisation). */
  service: z.string(),
  app: ConnectedAppId,
  request: ApprovalId,
  nonce: z.string(),
  kind: ApprovalKind,
  /** The user's did:key. */
  user: z.string(),
  username: z.string(),
  /** hex SHA-256 of the sealed key's canonical JSON, or null when no key is delivered. */
  key: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  /** ISO time of signing. */
  time: z.string(),
});
export type ApprovalChallenge = z.infer<typeof ApprovalChallenge>;

/** The exact bytes the identity key signs. */
export function challengeBytes(c: ApprovalChallenge): Uint8Array {
  return new TextEncoder().encode(canonicalJson(c));
}

export const RequestResult = z.object({
  userId: z.string(),
  username: z.string(),
  did: z.string(),
  challenge: ApprovalChallenge,
  /** Ed25519 over challengeBytes(challenge), base64url. */
  signature: z.string(),
  sealedKey: SealedKey.nullable(),
});
export type RequestResult = z.infer<typeof RequestResult>;

export const RequestStateResponse = z.object({
  id: ApprovalId,
  kind: ApprovalKind,
  state: ApprovalState,
  createdAt: z.string(),
  expiresAt: z.string(),
  decidedAt: z.string().nullable(),
  /** Present once, on the first read after approval; later reads get 410 request_used. */
  result: RequestResult.nullable(),
});
export type RequestStateResponse = z.infer<typeof RequestStateResponse>;

/** A pending request as the user's devices see it. */
export const PendingApproval = z.object({
  id: ApprovalId,
  kind: ApprovalKind,
  app: z.object({
    id: ConnectedAppId,
    name: z.string(),
    /** The transit key the device seals to (null for a sign-in that brings no key). */
    transitKeyPem: z.string().nullable(),
    transitKeyFingerprint: z.string().nullable(),
    keyBits: KeyBits,
  }),
  reason: z.string().nullable(),
  returnTo: z.string().nullable(),
  /** The address the application's back end asked from. */
  ip: z.string(),
  nonce: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
});
export type PendingApproval = z.infer<typeof PendingApproval>;
export const PendingApprovalsResponse = z.object({ requests: z.array(PendingApproval) });

export const ApproveBody = z.strictObject({
  signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/, 'an Ed25519 signature, base64url'),
  time: z.string().max(40),
  sealedKey: SealedKey.nullable(),
});
export const ClaimBody = z.strictObject({ code: UserCode });
export const DecisionResponse = z.object({ id: ApprovalId, state: ApprovalState });

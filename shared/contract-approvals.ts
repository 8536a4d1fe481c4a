import { z } from 'zod';
import { call, Pin } from './contract-fields.js';
import { ApprovalKind, UserCode } from './connected-wire.js';

/**
 * Contract channels for connected apps (spread into shared/contract.ts): the
 * requests other applications of the organisation make for this user's
 * personal key or a sign-in, decided here, and the applications that received
 * something. docs/connected-apps.md, docs/security.md "Connected apps".
 */
const RequestId = z.string().regex(/^[0-9a-f]{32}$/, 'a request id is 32 hex digits');
const AppRef = z.string().regex(/^ca_[0-9a-f]{16}$/, 'a connected-app id is "ca_" and 16 hex digits');

export const ApprovalValue = z.object({
  id: z.string(),
  /** key: the personal key; sign-in: a sign-in; sign-in+key: both. */
  kind: ApprovalKind,
  app: z.object({
    id: z.string(),
    name: z.string(),
    /** hex SHA-256 of the transit key's SPKI DER the key is sealed to; null when no key is asked. */
    transitKeyFingerprint: z.string().nullable(),
    keyBits: z.number().int(),
  }),
  reason: z.string().nullable(),
  returnTo: z.string().nullable(),
  /** The address the application's back end asked from. */
  ip: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  /** The user stopped approvals for this application (apps:block): it can only be denied. */
  blocked: z.boolean(),
});
export type ApprovalValue = z.infer<typeof ApprovalValue>;

export const ConnectedAppValue = z.object({
  id: z.string(),
  name: z.string(),
  firstAt: z.string(),
  lastKeyAt: z.string().nullable(),
  lastSignInAt: z.string().nullable(),
  keys: z.number().int(),
  signIns: z.number().int(),
  blockedAt: z.string().nullable(),
});

/** What blocking cannot do, said wherever blocking is offered. */
export const BLOCK_NOTE = 'Future requests from this application are refused. Keys it already received cannot be taken back: the application keeps them.';

export const approvalsChannels = {
  /** The pending requests for this user (from the key service; the stream or the timer tells when to ask again). */
  'approvals:list': call(z.object({}).strict(), z.object({ requests: z.array(ApprovalValue) })),
  /**
   * Approves: derives this application's personal key, seals it to the transit key and signs the
   * challenge with the identity key; only those go to the key service. `pin` when a PIN is set
   * (each approval is confirmed with it); InvalidState when the request expired or the app is blocked.
   */
  'approvals:approve': call(
    z.object({ id: RequestId, pin: Pin.optional() }).strict(),
    z.object({ id: z.string(), state: z.literal('approved'), key: z.boolean(), signIn: z.boolean() }),
  ),
  'approvals:deny': call(z.object({ id: RequestId }).strict(), z.object({ id: z.string(), state: z.literal('denied') })),
  /** A sign-in that named nobody: the code the application's page shows makes it this user's. */
  'approvals:claim': call(z.object({ code: UserCode }).strict(), ApprovalValue),
  /** Applications that received a key or a sign-in from this profile, and when. */
  'apps:list': call(z.object({}).strict(), z.object({ apps: z.array(ConnectedAppValue), note: z.string() })),
  /** Stops future approvals for an application (already delivered keys cannot be taken back: `note`). */
  'apps:block': call(z.object({ appId: AppRef }).strict(), z.object({ appId: z.string(), blockedAt: z.string(), note: z.string() })),
} as const;

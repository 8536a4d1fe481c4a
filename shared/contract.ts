import { z } from 'zod';
import { call, Pin } from './contract-fields.js';
import { EngineEvent, type EngineEventListener } from './contract-events.js';
import { DevicePackageSchema } from './device-package.js';
import type { Result } from './codes.js';
import { devicesChannels } from './contract-devices.js';
import { linkingChannels } from './contract-linking.js';
import { messagingChannels } from './contract-messaging.js';
import { recoveryChannels } from './contract-recovery.js';
import { rotationChannels } from './contract-rotation.js';
import { totpChannels } from './contract-totp.js';
import { policyChannels } from './contract-policy.js';
import { sharingChannels } from './contract-sharing.js';
import { approvalsChannels } from './contract-approvals.js';

/**
 * The one IPC contract. Every call the UI, the CLI or the browser bridge can
 * make is listed here once, with the schema of its input and of its value.
 * electron/preload builds window.sealpost from it, electron/main registers one
 * handler per channel from it, the webhost and the CLI dispatch through it.
 *
 * Inputs are validated on the engine side of every edge (IPC, WebSocket, CLI);
 * values are validated in tests, so the renderer can trust them.
 */

const Base64 = z.string().max(64 * 1024 * 1024).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const Identifier = z.string().min(1).max(200).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');
const UserId = z.string().min(1).max(200);

export const KeychainBackend = z.enum(['secret-service', 'file']);

export const StatusValue = z.object({
  hasIdentity: z.boolean(),
  unlocked: z.boolean(),
  pinDisabled: z.boolean(),
  keychainBackend: KeychainBackend,
  attemptsLeft: z.number().int(),
  retryAfterMs: z.number().int(),
  wiped: z.boolean(),
  registered: z.boolean(),
  did: z.string().optional(),
  fingerprint: z.string().optional(),
  autoLockMs: z.number().int(),
  /**
   * `npm start` runs a key service on this computer and offers it for the first
   * registration (device:registerLocal: a user name is all it takes); null elsewhere.
   */
  localKeyService: z.object({ url: z.string() }).nullable().optional(),
});

export const IdentityValue = z.object({
  did: z.string(),
  fingerprint: z.string(),
  safetyNumber: z.string(),
  publicKeyPem: z.string(),
  rsaBits: z.number().int(),
});

export const AuditEntryValue = z.object({
  id: z.number().int(),
  ts: z.string(),
  actor: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  result: z.string(),
  details: z.record(z.string(), z.unknown()).nullable(),
  hash: z.string(),
});

export const AuditVerifyValue = z.object({
  ok: z.boolean(),
  entries: z.number().int(),
  firstBadId: z.number().int().optional(),
  reason: z.string().optional(),
});

/** Vault items as the UI sees them (electron/engine/service/items.ts): notes and files, sealed per item. */
const ItemTitle = z.string().trim().min(1).max(200);
export const ItemContent = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('note'), title: ItemTitle, text: z.string().max(1024 * 1024) }).strict(),
  z.object({ kind: z.literal('file'), title: ItemTitle, fileName: z.string().min(1).max(255), mime: z.string().max(200), data: Base64 }).strict(),
  /** What IDENTOS encrypt stored without a title (read-only in the UI). */
  z.object({ kind: z.literal('data'), title: z.string().max(200), data: Base64 }).strict(),
]);
export const ItemSummaryValue = z.object({
  identifier: z.string(),
  version: z.number().int(),
  kind: z.enum(['note', 'file', 'data']),
  title: z.string(),
  updatedAt: z.string(),
  owner: z.string(),
  mine: z.boolean(),
  /** Changed here, not yet acknowledged by the key service. */
  dirty: z.boolean(),
  size: z.number().int(),
  /** Open conflicts: remote revisions kept beside the local one until the user chooses. */
  conflicts: z.number().int(),
  sharedWith: z.number().int(),
  /** Our role: 'owner', or what the owner granted us ('read', 'edit'). */
  role: z.enum(['owner', 'read', 'edit']),
  /** Items shared with us: who shared them (username when known) and when. */
  sharedBy: z.string().nullable(),
  sharedAt: z.string().nullable(),
  /** The owner revoked our access: we keep what we opened, newer versions do not arrive. */
  revoked: z.boolean(),
});
export const ItemRevisionValue = z.object({
  id: z.number().int(),
  version: z.number().int(),
  kind: z.enum(['superseded', 'conflict']),
  updatedAt: z.string(),
  deleted: z.boolean(),
  resolved: z.boolean(),
  /** Title when this device can still open the revision, else null. */
  title: z.string().nullable(),
});
export const ItemGranteeValue = z.object({ grantee: z.string(), label: z.string(), owner: z.boolean(), grantedAt: z.string() });
const ItemRef = z.object({ identifier: Identifier }).strict();

export const contract = {
  'engine:status': call(z.object({}).strict(), StatusValue),
  /** IDENTOS initialize: 0 when registered with this app, -50 when not, -1 on failure. */
  'engine:initialize': call(
    z.object({ appId: z.string().min(1).max(200), clientKey: z.string().min(1).max(500), version: z.string().max(20).optional() }).strict(),
    z.object({ registered: z.boolean() }),
  ),
  'identity:create': call(
    z.object({ pin: Pin, rsaBits: z.union([z.literal(2048), z.literal(3072), z.literal(4096)]).optional() }).strict(),
    IdentityValue,
  ),
  'identity:get': call(z.object({}).strict(), IdentityValue),
  /** IDENTOS devicePackage(pin): what registration sends to the key service. */
  'device:package': call(z.object({ pin: Pin }).strict(), DevicePackageSchema),
  /** IDENTOS authenticate(pin): unlocks the keys. */
  'session:authenticate': call(z.object({ pin: Pin }).strict(), z.object({ unlocked: z.literal(true) })),
  'session:lock': call(z.object({}).strict(), z.object({ unlocked: z.literal(false) })),
  'pin:change': call(z.object({ oldPin: Pin, newPin: Pin }).strict(), z.object({ pinDisabled: z.boolean() })),
  /** IDENTOS encrypt(data, identifier?) -> [ciphertext, identifier]; data and ciphertext are base64. */
  'vault:encrypt': call(z.object({ data: Base64, identifier: Identifier.optional() }).strict(), z.tuple([z.string(), z.string()])),
  /** IDENTOS decrypt(ciphertext) -> [plaintext, identifier]. */
  'vault:decrypt': call(z.object({ data: Base64 }).strict(), z.tuple([z.string(), z.string()])),
  /** IDENTOS grantAccess(identifier, userIds): wraps the item key for those contacts. */
  'vault:grantAccess': call(
    z.object({ identifier: Identifier, userIds: z.array(UserId).min(1).max(1000) }).strict(),
    z.object({ granted: z.array(z.string()) }),
  ),
  'keys:exportPublic': call(z.object({}).strict(), z.object({ pem: z.string(), fingerprint: z.string(), safetyNumber: z.string() })),
  'audit:list': call(
    z.object({ limit: z.number().int().min(1).max(10_000).optional(), action: z.string().max(64).optional(), result: z.string().max(32).optional() }).strict(),
    z.array(AuditEntryValue),
  ),
  'audit:verify': call(z.object({}).strict(), AuditVerifyValue),
  /** Idle time before the keys are locked again; 0 = never. */
  'session:setAutoLock': call(z.object({ ms: z.number().int().min(0).max(24 * 60 * 60_000) }).strict(), z.object({ autoLockMs: z.number().int() })),
  'items:list': call(z.object({}).strict(), z.array(ItemSummaryValue)),
  'items:create': call(z.object({ content: ItemContent }).strict(), ItemSummaryValue),
  'items:open': call(ItemRef, z.object({ item: ItemSummaryValue, content: ItemContent })),
  /** Saves a new version; `expectedVersion` is the one that was edited (Conflict if it moved on). */
  'items:update': call(z.object({ identifier: Identifier, expectedVersion: z.number().int().min(1), content: ItemContent }).strict(), ItemSummaryValue),
  'items:delete': call(z.object({ identifier: Identifier, expectedVersion: z.number().int().min(1) }).strict(), z.object({ deleted: z.literal(true) })),
  'items:history': call(ItemRef, z.array(ItemRevisionValue)),
  /** Keeps one side of a conflict: 'local' closes it, 'remote' saves the remote revision as the next version. */
  'items:resolve': call(z.object({ identifier: Identifier, revisionId: z.number().int().min(1), keep: z.enum(['local', 'remote']) }).strict(), ItemSummaryValue),
  'items:access': call(ItemRef, z.array(ItemGranteeValue)),
  /** Removes grantees and rotates the item key, so they cannot open any newer version. */
  'items:revoke': call(z.object({ identifier: Identifier, userIds: z.array(UserId).min(1).max(1000) }).strict(), z.object({ revoked: z.array(z.string()), version: z.number().int() })),
  ...messagingChannels,
  ...sharingChannels,
  ...recoveryChannels,
  ...devicesChannels,
  ...linkingChannels,
  ...rotationChannels,
  ...totpChannels,
  ...policyChannels,
  ...approvalsChannels,
} as const;

export type Contract = typeof contract;
export type Channel = keyof Contract;
export type Input<C extends Channel> = z.input<Contract[C]['input']>;
export type Output<C extends Channel> = z.output<Contract[C]['output']>;

/** All channel names, e.g. for the preload and the main handlers. */
export const channels = Object.keys(contract) as Channel[];

/** The engine side: one async handler per channel, each returning a Result. */
export type Handlers = { [C in Channel]: (input: z.output<Contract[C]['input']>) => Promise<Result<Output<C>>> };

/** Subscribes a listener to the engine's events; returns the unsubscribe function. */
export type SubscribeEvents = (listener: EngineEventListener) => () => void;

/**
 * What window.sealpost looks like: grouped by the part before the colon,
 * e.g. window.sealpost.vault.encrypt({ data }), plus onEvent for the engine's
 * events (shared/contract-events.ts).
 */
type Split<C extends string> = C extends `${infer G}:${infer N}` ? [G, N] : never;
export type SealpostApi = {
  [G in Split<Channel>[0]]: {
    [C in Channel as Split<C>[0] extends G ? Split<C>[1] : never]: (input: Input<C>) => Promise<Result<Output<C>>>;
  };
} & { onEvent: SubscribeEvents };

/** Splits "vault:encrypt" into ["vault", "encrypt"]. */
export function splitChannel(channel: Channel): [string, string] {
  const [group, name] = channel.split(':') as [string, string];
  return [group, name];
}

/**
 * Hands a transport's raw event to a listener only when it is an EngineEvent:
 * the receiving side does not trust what crossed the edge. A listener that
 * throws is reported without stopping the transport's other listeners.
 */
function checkedListener(listener: EngineEventListener): (raw: unknown) => void {
  return (raw) => {
    const parsed = EngineEvent.safeParse(raw);
    if (!parsed.success) return;
    try {
      listener(parsed.data);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  };
}

/**
 * Builds the grouped API object from one generic invoker and one event
 * subscription (raw, unvalidated events); used by the preload and the browser bridge.
 */
export function buildApi(invoke: (channel: Channel, input: unknown) => Promise<unknown>, subscribe: (listener: (raw: unknown) => void) => () => void): SealpostApi {
  const api: Record<string, unknown> = {};
  for (const channel of channels) {
    const [group, name] = splitChannel(channel);
    ((api[group] ??= {}) as Record<string, (input: unknown) => Promise<unknown>>)[name] = (input: unknown) => invoke(channel, input ?? {});
  }
  api.onEvent = (listener: EngineEventListener) => subscribe(checkedListener(listener));
  return api as unknown as SealpostApi;
}

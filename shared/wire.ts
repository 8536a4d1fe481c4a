import { z } from 'zod';
import { DevicePackageSchema } from './device-package.js';

/**
 * Key-service wire schemas (docs/api.md): what the server accepts and what it
 * returns, shared by server/ (request validation) and the desktop engine's
 * sync module (response validation). Field names follow the seed key service
 * (lowercase request fields; MessageId, Message, SentOn, IsFile, size in
 * message responses); Sealpost's own routes use camelCase.
 *
 * XML and form bodies carry text, so numeric and boolean request fields also
 * accept their decimal / "true"|"false" spelling.
 */

/** Current (and only) API version: `?v=1`, absent = latest. */
export const API_VERSION = 1;
export const SUPPORTED_VERSIONS: readonly string[] = ['1'];

/**
 * RFC 4648 base64 with padding: the alphabet, at most two "=" at the end, and
 * a length that is a multiple of four. Written as a character-class scan plus
 * a length check because a regex over groups of four costs about twice as much
 * on a 1.5 KiB ciphertext, and every send carries one.
 */
const BASE64_CHARS_RE = /^[A-Za-z0-9+/]*={0,2}$/;
export const isPaddedBase64 = (s: string): boolean => s.length % 4 === 0 && BASE64_CHARS_RE.test(s);

/** Standard base64 with padding, non-empty, at most `max` characters. */
export const base64 = (max: number) => z.string().min(1).max(max).refine(isPaddedBase64, 'must be base64 (RFC 4648, padded)');

/** A whole number; decimal strings accepted (XML/form bodies). */
export const intLike = (min: number, max: number) =>
  z.union([z.number(), z.string().regex(/^-?\d{1,16}$/, 'must be a whole number').transform(Number)]).pipe(z.number().int().min(min).max(max));

/** A boolean; "true"/"false"/"1"/"0" accepted (XML/form bodies and query strings). */
export const boolLike = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0']).transform((s) => s === 'true' || s === '1'),
]);

/** Key token: 32 random bytes, base64url without padding. A capability: treat it as a secret. */
export const KeyToken = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a key token (43 base64url characters)');
/** Client-chosen id a retried send carries, so the server stores it once (per key). */
export const ClientId = z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');
export const Passphrase = z.string().min(1).max(1024);
export const PrivateKeyHash = z.string().min(1).max(512);
export const AppId = z.string().min(3).max(64).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits and . _ - only');
export const ApiKey = z.string().min(8).max(256).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');
export const Username = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\p{L}\p{N}._@+-]+$/u, 'letters, digits and . _ @ + - only');
export const UserId = z.string().regex(/^u_[0-9a-f]{24}$/, 'must be a user id (u_ + 24 hex digits)');
export const DeviceId = z.string().regex(/^[0-9a-f]{32}$/, 'must be a device id (32 lowercase hex digits)');
export const Identifier = z.string().min(1).max(200).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');
export const Role = z.enum(['read', 'edit']);
const Pem = (max: number) => z.string().min(64).max(max).regex(/^-----BEGIN [A-Z ]+-----/, 'must be PEM');

/** Query parameters every route accepts. */
export const CommonQuery = {
  format: z.enum(['json', 'xml']).optional(),
  v: z.string().max(16).optional(),
};

// ---- keys (seed key service) ----

/** POST /v1/keys: online create `{passphrase}` or offline upload `{publickey, privatekey?, privatekeyhash}`. */
export const CreateKeyBody = z.strictObject({
  passphrase: Passphrase.optional(),
  publickey: Pem(16_384).optional(),
  privatekey: Pem(32_768).optional(),
  privatekeyhash: PrivateKeyHash.optional(),
  /** Device JWT callers only: list this key as the user's inbox in the directory. */
  publish: boolLike.optional(),
});
export const CreateKeyResponse = z.object({ token: KeyToken });

export const KeyInfoResponse = z.object({
  publickey: z.string(),
  fingerprint: z.string(),
  bits: z.number().int(),
  mode: z.enum(['online', 'offline']),
  createdAt: z.string(),
});

export const SecretQuery = z.strictObject({
  ...CommonQuery,
  passphrase: Passphrase.optional(),
  privatekeyhash: PrivateKeyHash.optional(),
});

export const DeleteKeyBody = z
  .strictObject({ passphrase: Passphrase.optional(), privatekeyhash: PrivateKeyHash.optional() })
  .optional();
export const DeleteKeyResponse = z.object({ deleted: z.literal(true) });

export const MessagesQuery = z.strictObject({
  ...CommonQuery,
  passphrase: Passphrase.optional(),
  privatekeyhash: PrivateKeyHash.optional(),
  /** Cursor: the last MessageId already seen; only later messages are returned. */
  after: intLike(0, Number.MAX_SAFE_INTEGER).optional(),
  limit: intLike(1, 1000).optional(),
});

/**
 * PUT /v1/keys/{token}/messages: online `{message}` (+ files as multipart form
 * data) or offline `{encryptedmessage, encryptionkey}`. Sizes are bounded again
 * by the server's configured body limit.
 */
export const SendMessageBody = z.strictObject({
  message: z.string().max(64 * 1024 * 1024).optional(),
  encryptedmessage: base64(96 * 1024 * 1024).optional(),
  encryptionkey: base64(4096).optional(),
  /** Offline only: the encrypted message is a file. */
  isfile: boolLike.optional(),
  clientId: ClientId.optional(),
});
export const SendMessageResponse = z.object({
  MessageId: z.number().int(),
  /** Every message the request stored (a text message and one per file, online). */
  MessageIds: z.array(z.number().int()),
  duplicate: z.boolean(),
});

/** POST /v1/messages/delivered: which of the caller's sent messages the recipient's device has fetched. */
export const MAX_DELIVERY_QUERY = 500;
export const DeliveredMessageRef = z.strictObject({ token: KeyToken, MessageId: intLike(1, Number.MAX_SAFE_INTEGER) });
export const DeliveredBody = z.strictObject({ messages: z.array(DeliveredMessageRef).min(1).max(MAX_DELIVERY_QUERY) });
export const DeliveredResponse = z.object({
  /** The asked messages this device sent whose recipient key's owner has fetched them (acknowledged by reading past them). */
  delivered: z.array(z.object({ token: z.string(), MessageId: z.number().int() })),
});

export const MessageOut = z.object({
  MessageId: z.number().int(),
  /** Plaintext (online, decrypted with the passphrase; base64 for files) or the stored encryptedmessage. */
  Message: z.string(),
  SentOn: z.string(),
  IsFile: z.boolean(),
  size: z.number().int(),
  /** Present when Message is ciphertext: the stored encryptionkey. */
  EncryptionKey: z.string().optional(),
  Encrypted: z.boolean(),
  FileName: z.string().optional(),
  ContentType: z.string().optional(),
  clientId: z.string().optional(),
});
export type MessageOut = z.infer<typeof MessageOut>;

export const MessagesResponse = z.object({
  Messages: z.array(MessageOut),
  /** The last MessageId in this page: pass it as `after` for the next page. */
  Cursor: z.number().int(),
  HasMore: z.boolean(),
});

// ---- apps, users, devices (IDENTOS), authorization (SenseCrypt) ----

/** A JSON object given as text (XML / form bodies) becomes the object; anything else passes through. */
function jsonTextToValue(value: unknown): unknown {
  if (typeof value !== 'string' || !value.trimStart().startsWith('{')) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

export const RegisterBody = z.strictObject({
  appid: AppId,
  /** May come in the X-Server-Key header instead. */
  serverkey: ApiKey.optional(),
  username: Username,
  /**
   * Without one, the user is registered (or found) and no device is added.
   * XML and form bodies send it as a JSON string.
   */
  devicePackage: z.preprocess(jsonTextToValue, DevicePackageSchema).optional(),
});
export const RegisterResponse = z.object({ userid: UserId });

export const GenJwtBody = z.strictObject({
  instance_id: DeviceId,
  appid: AppId.optional(),
  serverkey: ApiKey.optional(),
  /** Lifetime in seconds; the server caps it at its configured maximum. */
  expires_in: intLike(30, 86_400).optional(),
});
export const GenJwtResponse = z.object({ jwt: z.string(), expiresAt: z.string() });

export const DirectoryResponse = z.object({
  '@context': z.array(z.string()),
  id: z.string(),
  userid: UserId,
  username: z.string(),
  verificationMethod: z.array(
    z.object({ id: z.string(), type: z.string(), controller: z.string(), publicKeyMultibase: z.string() }),
  ),
  authentication: z.array(z.string()),
  encryptionKeys: z.array(
    z.object({
      publicKeyPem: z.string(),
      /** hex SHA-256 of the SPKI DER (what GET /v1/keys/{token} reports). */
      keyFingerprint: z.string(),
      /** The identity fingerprint (Ed25519 + RSA) of a device package naming this key, if any. */
      fingerprint: z.string().nullable(),
      /** A published inbox: the key token senders PUT messages to. */
      inbox: KeyToken.nullable(),
    }),
  ),
  /** The key senders should seal to now: the earliest device's key after its signed changes (absent from older services). */
  currentKey: z
    .object({ publicKeyPem: z.string(), keyFingerprint: z.string(), fingerprint: z.string(), inbox: KeyToken.nullable(), changedAt: z.string().nullable() })
    .nullable()
    .optional(),
  /** Signed encryption-key changes, oldest first (shared/key-change.ts); checked by the reader, not trusted. */
  keyChanges: z.array(z.record(z.string(), z.unknown())).max(256).optional(),
  devices: z.array(
    z.object({
      deviceId: z.string(),
      fingerprint: z.string(),
      createdAt: z.string(),
      revoked: z.boolean(),
      /** The signed device package, so a sender can check the delegation itself. */
      package: z.record(z.string(), z.unknown()),
      /** did:key of the device's own Ed25519 key, once the device published its delegation. */
      deviceDid: z.string().nullable().optional(),
      /** The delegation the identity key signed for the device key (shared/delegation.ts). */
      delegation: z.record(z.string(), z.unknown()).nullable().optional(),
    }),
  ),
});

// ---- items and grants ----

export const PutItemBody = z.strictObject({
  data: base64(64 * 1024 * 1024),
  /** The version this write is based on: 0 to create; a stale version is a 409. */
  version: intLike(0, Number.MAX_SAFE_INTEGER),
  /** The item key wrapped for the owner (kept from the last write when absent). */
  wrappedKey: base64(4096).optional(),
});
export const PutItemResponse = z.object({ identifier: Identifier, version: z.number().int() });

export const ItemOut = z.object({
  identifier: z.string(),
  version: z.number().int(),
  data: z.string(),
  /** Own-item lists: when a grant of the item last changed (added, replaced or removed). */
  grantsChangedAt: z.string().nullable().optional(),
  owner: UserId,
  role: z.enum(['owner', 'read', 'edit']),
  wrappedKey: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const ListItemsQuery = z.strictObject({
  ...CommonQuery,
  shared: boolLike.optional(),
  /** Leave out `data` (a sync checks versions first and fetches only what changed). */
  meta: boolLike.optional(),
  after: Identifier.optional(),
  limit: intLike(1, 500).optional(),
});
export const ItemMetaOut = ItemOut.omit({ data: true });
export const ListItemsResponse = z.object({ items: z.array(ItemOut), cursor: z.string().nullable(), hasMore: z.boolean() });
export const ListItemsMetaResponse = z.object({ items: z.array(ItemMetaOut), cursor: z.string().nullable(), hasMore: z.boolean() });

export const GrantIn = z.strictObject({ userid: UserId, role: Role, wrappedKey: base64(4096) });
export const PutGrantsBody = z.strictObject({ grants: z.array(GrantIn).min(1).max(100) });
export const DeleteGrantsBody = z.strictObject({ userids: z.array(UserId).min(1).max(100) }).optional();
export const GrantsQuery = z.strictObject({ ...CommonQuery, userid: UserId.optional() });
export const GrantOut = z.object({ userid: UserId, role: Role, wrappedKey: z.string(), grantedAt: z.string() });
export const GrantsResponse = z.object({ identifier: z.string(), grants: z.array(GrantOut) });

// ---- audit ----

export const AuditQuery = z.strictObject({
  ...CommonQuery,
  /** Entries about this item, whoever made them (device JWT of the item's owner only). */
  identifier: Identifier.optional(),
  after: intLike(0, Number.MAX_SAFE_INTEGER).optional(),
  limit: intLike(1, 1000).optional(),
});
export const AuditEntryOut = z.object({
  seq: z.number().int(),
  ts: z.string(),
  appId: z.string(),
  userId: z.string().nullable(),
  deviceId: z.string().nullable(),
  actor: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  result: z.string(),
  status: z.number().int(),
  ip: z.string(),
  hash: z.string(),
});
export const AuditResponse = z.object({ entries: z.array(AuditEntryOut), cursor: z.number().int(), hasMore: z.boolean() });
export const AuditVerifyResponse = z.object({ ok: z.boolean(), count: z.number().int(), firstBadSeq: z.number().int().nullable() });

// ---- errors and health ----

/** Every error: a machine code (docs/api.md) and a message a person can act on. */
export const ErrorBody = z.object({ code: z.string(), message: z.string() }).passthrough();
export type ErrorBody = z.infer<typeof ErrorBody>;

export const HealthResponse = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  uptimeSeconds: z.number(),
  store: z.object({ kind: z.enum(['sqlite', 'postgres']), ok: z.boolean(), latencyMs: z.number() }),
});

/**
 * What a Sealpost message envelope carries (its signed body, content type
 * {@link MESSAGE_CONTENT_TYPE}), and the local cache of opened content.
 *
 * The body names the sender's account (username, userid) next to the envelope's
 * signed fingerprint claim, so a recipient can check the claim against the
 * directory and its contacts; it lists every recipient and, per attachment, the
 * SHA-256 of its sealed file envelope, which is what binds the separately sent
 * attachment parts to this signed message (docs/sync.md).
 *
 * The cache: opened content sealed with AES-256-GCM under the profile's local
 * key (seed key "vault/local", docs/format.md §2), so listing and searching
 * read no plaintext from disk and do no RSA work per message.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { open as aeadOpen, seal as aeadSeal, NONCE_LENGTH } from '../crypto/aead.js';
import { deriveNamedKey, KEY_NAMES } from '../crypto/seed.js';

export const MESSAGE_CONTENT_TYPE = 'application/vnd.sealpost.message+json';
/** Limits the composer enforces and the opener re-checks. */
export const MAX_TEXT_CHARS = 1_000_000;
export const MAX_SUBJECT_CHARS = 500;
export const MAX_ATTACHMENTS = 20;

export const Party = z.object({ username: z.string().min(1).max(128), userid: z.string().min(1).max(200) }).strict();

export const AttachmentRef = z
  .object({
    id: z.string().regex(/^[0-9a-f]{32}$/),
    name: z.string().min(1).max(255),
    contentType: z.string().min(1).max(255),
    /** Plaintext size and SHA-256. */
    size: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** The sealed file envelope: its size, SHA-256 and how it is cut into parts. */
    sealedSize: z.number().int().positive(),
    sealedSha256: z.string().regex(/^[0-9a-f]{64}$/),
    parts: z.number().int().positive().max(1_000_000),
    partSize: z.number().int().positive().max(16 * 1024 * 1024),
  })
  .strict();
export type AttachmentRef = z.infer<typeof AttachmentRef>;

export const MessageContent = z
  .object({
    v: z.literal(1),
    from: Party,
    to: z.array(Party).min(1).max(1000),
    subject: z.string().max(MAX_SUBJECT_CHARS).optional(),
    text: z.string().max(MAX_TEXT_CHARS),
    attachments: z.array(AttachmentRef).max(MAX_ATTACHMENTS),
  })
  .strict();
export type MessageContent = z.infer<typeof MessageContent>;

/** An opened body as `schema` wants it: strict UTF-8 JSON. @returns null when it is not (the caller rejects it) */
export function parseJsonBody<T>(schema: z.ZodType<T>, body: Uint8Array): T | null {
  try {
    const parsed = schema.safeParse(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Parses an opened message body. @returns null when it is not our content (the caller rejects the message) */
export const parseContent = (body: Uint8Array): MessageContent | null => parseJsonBody(MessageContent, body);

const AAD = new TextEncoder().encode('sealpost/message-cache/v1');

/** The local cache key, derived from the unlocked seed. The caller wipes it. */
export function cacheKey(seed: Uint8Array): Uint8Array {
  return deriveNamedKey(seed, KEY_NAMES.vaultLocal);
}

/** nonce || AES-256-GCM(key, JSON(content)). */
export function sealCache(key: Uint8Array, content: MessageContent): Uint8Array {
  const nonce = new Uint8Array(randomBytes(NONCE_LENGTH));
  const sealed = aeadSeal(key, nonce, new TextEncoder().encode(JSON.stringify(content)), AAD);
  const out = new Uint8Array(nonce.length + sealed.length);
  out.set(nonce, 0);
  out.set(sealed, nonce.length);
  return out;
}

/** @returns null when the cache does not open (another profile's key, damage) */
export function openCache(key: Uint8Array, cache: Uint8Array): MessageContent | null {
  try {
    const plain = aeadOpen(key, cache.subarray(0, NONCE_LENGTH), cache.subarray(NONCE_LENGTH), AAD);
    return parseContent(plain);
  } catch {
    return null;
  }
}

import { z } from 'zod';
import { call, Fingerprint, Username } from './contract-fields.js';
import { StreamState } from './contract-events.js';

/**
 * The messaging and sync part of the IPC contract (electron/engine/sync,
 * docs/sync.md), spread into `contract` in contract.ts. Kept in its own file so
 * the channel groups can change without stepping on each other.
 */


const MessageId = z.number().int().positive();
const PeerId = z.string().min(1).max(200);

/**
 * Attachments from the UI (electron/engine/service/attachments.ts): the page reads
 * the user's file with the File API and uploads it in chunks to a staging area
 * under the profile; messages:send takes the staged ids, never a path. Saving
 * reads an opened, hash-checked attachment back in chunks.
 */
export const ATTACHMENT_LIMITS = {
  /** Bytes per chunk, both ways (base64 on the wire: 4/3 of it). */
  chunkBytes: 1024 * 1024,
  /** One file staged or read through the UI. */
  maxFileBytes: 100 * 1024 * 1024,
  /** Everything staged at once. */
  maxStagedBytes: 200 * 1024 * 1024,
  /** Files staged at once; attachments per message. */
  maxFiles: 20,
} as const;
const ChunkBase64 = z
  .string()
  .max(Math.ceil(ATTACHMENT_LIMITS.chunkBytes / 3) * 4)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const StageId = z.string().regex(/^[0-9a-f]{32}$/, 'must be a staging id');
const AttachmentId = z.string().regex(/^[0-9a-f]{32}$/, 'must be an attachment id');
/** A file name, not a path: no separators, no control characters, not . or .. */
const FileName = z
  .string()
  .min(1)
  .max(255)
  .refine((s) => s !== '.' && s !== '..' && ![...s].some((ch) => ch === '/' || ch === '\\' || ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f), 'must be a file name without path separators or control characters');
const ContentType = z.string().max(200).regex(/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i, 'must be a media type like text/plain');

export const ContactValue = z.object({
  userId: z.string(),
  username: z.string(),
  fingerprint: z.string(),
  /** Ours and theirs, 60 digits: compare it with them in person or on a call. */
  safetyNumber: z.string(),
  verified: z.boolean(),
  /** Their key changed since it was last seen or verified: show a loud warning until acknowledged. */
  keyChanged: z.boolean(),
  previousFingerprint: z.string().nullable(),
  did: z.string().nullable(),
  /** They have an inbox: messages can be written to them. */
  reachable: z.boolean(),
  /** When this device saw the contact's identity sign a change to their current key (ms), and the fingerprint it replaced; null: no signed rotation. */
  rotatedAt: z.number().int().nullable().optional(),
  rotatedFrom: z.string().nullable().optional(),
  /** When the contact's identity signed the change to their current key (ms). */
  keyChangedAt: z.number().int().nullable().optional(),
});

/** How an incoming message's sender checked out. Only 'verified' may be shown as verified. */
export const SenderState = z.enum(['self', 'verified', 'unverified', 'key-changed', 'unknown', 'rejected']);

export const AttachmentValue = z.object({
  id: z.string(),
  name: z.string(),
  size: z.number().int(),
  contentType: z.string(),
  sha256: z.string(),
  /** 'partial' while parts arrive, 'complete' when checked, 'failed' (see the message), 'missing'. */
  state: z.enum(['partial', 'complete', 'failed', 'missing']),
});

/** An outgoing message's progress (queued … read, or failed), or 'received' for an incoming one. */
export const MessageState = z.enum(['queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'received']);

export const MessageValue = z.object({
  id: z.number().int(),
  direction: z.enum(['in', 'out']),
  /** The other party's user id ('unknown' / 'unknown:<fp>' when the sender could not be identified). */
  peer: z.string(),
  peerName: z.string().nullable(),
  /**
   * queued / sending / sent / delivered / read / failed (outgoing), received (incoming).
   * delivered: the recipient's device has fetched it from the key service.
   * read: the recipient opened it and their device sent a read receipt (a sealed, signed
   * message: docs/sync.md "Read receipts"); shown only while our own read receipts are on.
   */
  state: MessageState,
  /** Outgoing, delivered: when this device learnt it (ms); else null. */
  deliveredAt: z.number().int().nullable(),
  /** Outgoing, read: when the recipient read it (the receipt's signed time, ms); else null. */
  readAt: z.number().int().nullable(),
  /** Why it failed (outgoing) or was rejected (incoming): tampered, wrong-key, bad-signature, replay, sender-mismatch, ... */
  reason: z.string().nullable(),
  attempts: z.number().int(),
  nextAttemptAt: z.number().int().nullable(),
  sender: SenderState,
  read: z.boolean(),
  createdAt: z.number().int(),
  sentAt: z.number().int().nullable(),
  subject: z.string().nullable(),
  /** null when the message was rejected: never show it as text. */
  text: z.string().nullable(),
  attachments: z.array(AttachmentValue),
  /** Outgoing with attachments: parts (and the message) the key service acknowledged so far, of total; else null. */
  upload: z.object({ done: z.number().int(), total: z.number().int() }).nullable(),
  /** The conversation it belongs to: the peer's user id for two people, 'group:…' for three or more. */
  conversation: z.string(),
  /**
   * Outgoing to several people, listed by conversation: each recipient's copy (its own id, state and
   * delivery; `state` above sums them up: failed if any failed, delivered when all are). Else null.
   */
  recipients: z
    .array(
      z.object({
        id: z.number().int(),
        peer: z.string(),
        peerName: z.string().nullable(),
        state: MessageState,
        deliveredAt: z.number().int().nullable(),
        readAt: z.number().int().nullable(),
        reason: z.string().nullable(),
      }),
    )
    .nullable(),
});

/** One person of a conversation (besides us). */
export const MemberValue = z.object({
  userId: z.string(),
  /** Their user name: the contact's, or as the message named them when they are not a contact. */
  name: z.string(),
  verified: z.boolean(),
  keyChanged: z.boolean(),
});

/**
 * One conversation, as the chat list shows it: everything exchanged with one peer, or among one
 * group of people (a message to several, and every reply to all of them).
 */
export const ConversationValue = z.object({
  /** The conversation's id (messages:list `conversation`): the peer's user id, or 'group:…'. */
  peer: z.string(),
  /** Three or more people (us included). */
  group: z.boolean(),
  /** Everyone in it besides us (one for a two-person conversation). */
  members: z.array(MemberValue),
  /** The contact's user name, or the members' names joined; null when the peer is not a contact (an unknown sender). */
  name: z.string().nullable(),
  /** Every member is verified. */
  verified: z.boolean(),
  /** A member's key changed and the user has not looked at it yet. */
  keyChanged: z.boolean(),
  /** The newest message's time in conversation order (ms): sent time for ours, the sender's signed time for theirs. */
  lastAt: z.number().int(),
  messages: z.number().int(),
  unread: z.number().int(),
  /** The newest message, opened from the local cache; `preview` is null when it was rejected. */
  last: z.object({
    id: z.number().int(),
    direction: z.enum(['in', 'out']),
    state: MessageValue.shape.state,
    sender: SenderState,
    /** Incoming: who wrote it (their user name), which a group's row shows before the preview. */
    from: z.string().nullable(),
    subject: z.string().nullable(),
    preview: z.string().nullable(),
    attachments: z.number().int(),
  }),
});

export const NotificationSettingsValue = z.object({
  /** Show sender and text in new-message notifications (off: only how many arrived). */
  showText: z.boolean(),
});

export const ReadReceiptsValue = z.object({
  /**
   * Send read receipts when we read a message, and show the ones others send us (as Signal
   * does: off means neither). On by default; the managed policy can turn it off.
   */
  enabled: z.boolean(),
});

export const SyncReportValue = z.object({
  sent: z.number().int(),
  failed: z.number().int(),
  pulled: z.number().int(),
  received: z.number().int(),
  rejected: z.number().int(),
  /** Pulled but not opened yet (the session is locked). */
  waiting: z.number().int(),
  /** Sent messages that became delivered in this sync. */
  delivered: z.number().int(),
  /** The vault items' sync after the messages (items:sync): null when it ran fine or did not run; it never fails the message sync. */
  itemsError: z.string().nullable(),
});

export const SyncStatusValue = z.object({
  registered: z.boolean(),
  username: z.string().nullable(),
  server: z.string().nullable(),
  /** null until the first attempt. */
  online: z.boolean().nullable(),
  syncing: z.boolean(),
  lastSyncAt: z.number().int().nullable(),
  lastError: z.string().nullable(),
  nextSyncAt: z.number().int().nullable(),
  pending: z.number().int(),
  failed: z.number().int(),
  unread: z.number().int(),
  /** How new messages are learnt of: 'live' (push stream), 'connecting', 'polling' (the timer: stream refused or unavailable), 'off' (scheduler stopped, locked, unregistered). */
  stream: StreamState,
});

/** A key the identity rotated to (by changes its identity key signed) that this device does not hold. */
export const NewerKeyValue = z.object({ fingerprint: Fingerprint, changedAt: z.string() });
export type NewerKey = z.infer<typeof NewerKeyValue>;

/** What registering this device gives back (device:register, device:registerLocal). */
export const RegisteredValue = z.object({
  userId: z.string(),
  username: z.string(),
  server: z.string(),
  newInbox: z.boolean(),
  /** The identity rotated to a key this desktop does not hold (set up from an older identity file): what is sealed to it cannot be read here. */
  newerKey: NewerKeyValue.nullable(),
});

export const messagingChannels = {
  /**
   * Registers this device with the app's key service: with a one-time
   * `enrollmentCode` from the organisation's admin (POST /v1/enroll; the desktop
   * never holds the server key), or with the app's `serverKey` (user/register,
   * gen-jwt: the organisation's own back end, development). Then the inbox upload
   * and the device-key delegation. `totp`: the account's current code when its
   * two-step verification is on. Needs the keys unlocked.
   */
  'device:register': call(
    z
      .object({
        server: z.string().url().max(500),
        appId: z.string().min(3).max(64),
        serverKey: z.string().min(8).max(256).optional(),
        enrollmentCode: z.string().min(16).max(64).optional(),
        totp: z.string().min(6).max(32).optional(),
        clientKey: z.string().min(8).max(256).optional(),
        username: Username,
      })
      .strict()
      .refine((v) => (v.serverKey === undefined) !== (v.enrollmentCode === undefined), 'give either an enrollmentCode or a serverKey'),
    RegisteredValue,
  ),
  /**
   * Registers this device with the key service `npm start` runs on this computer
   * (engine:status `localKeyService`): the launcher issues a one-time enrollment
   * code for `username` and device:register uses it, so the page never handles the
   * app's keys. InvalidState where no local key service is offered.
   */
  'device:registerLocal': call(z.object({ username: Username }).strict(), RegisteredValue),
  /** Looks a user up in the directory (checking their signed keys) and stores them as a contact. */
  'contacts:lookup': call(z.object({ username: Username }).strict(), ContactValue),
  'contacts:list': call(z.object({}).strict(), z.array(ContactValue)),
  /** The user compared the safety number: verified, if `fingerprint` is still the contact's key. */
  'contacts:verify': call(z.object({ userId: PeerId, fingerprint: Fingerprint }).strict(), ContactValue),
  /** The user saw the key-change warning (the contact stays unverified). */
  'contacts:acknowledgeKeyChange': call(z.object({ userId: PeerId }).strict(), ContactValue),
  /** Seals and queues a message, online or not; sync sends it. Attachments: ids from attachments:stageEnd (paths never come from the renderer). */
  'messages:send': call(
    z
      .object({
        to: z.array(Username).min(1).max(100),
        subject: z.string().max(500).optional(),
        text: z.string().max(1_000_000),
        attachments: z.array(StageId).max(ATTACHMENT_LIMITS.maxFiles).optional(),
      })
      .strict(),
    z.object({ messageIds: z.array(z.number().int()), clientIds: z.array(z.string()) }),
  ),
  /**
   * Newest first in conversation order (sent time for ours, the sender's signed time for theirs, ties by id);
   * `beforeId` pages on from that message. `query` searches subjects, texts and attachment names (decrypted in memory only).
   */
  'messages:list': call(
    z
      .object({
        /** Every message with one person, one row per copy (a group send counts once per recipient). */
        peer: PeerId.optional(),
        /** One conversation (ConversationValue.peer) as the chat shows it: one row per send, with `recipients`. */
        conversation: PeerId.optional(),
        query: z.string().min(1).max(200).optional(),
        beforeId: MessageId.optional(),
        limit: z.number().int().min(1).max(1000).optional(),
        unreadOnly: z.boolean().optional(),
      })
      .strict()
      .refine((v) => v.peer === undefined || v.conversation === undefined, 'give peer or conversation, not both'),
    z.array(MessageValue),
  ),
  /** Conversations by last activity, newest first, paged; computed in SQL, previews from the local cache (only the newest message of each is opened). */
  'messages:conversations': call(
    z.object({ limit: z.number().int().min(1).max(500).optional(), offset: z.number().int().min(0).max(1_000_000).optional() }).strict(),
    z.array(ConversationValue),
  ),
  'messages:read': call(z.object({ id: MessageId, markRead: z.boolean().optional() }).strict(), MessageValue),
  'messages:markRead': call(
    z.union([z.object({ ids: z.array(MessageId).min(1).max(10_000) }).strict(), z.object({ peer: PeerId }).strict(), z.object({ conversation: PeerId }).strict()]),
    z.object({ changed: z.number().int() }),
  ),
  /** "Retry" a failed message / "send now" one waiting message (or all without `id`): due now, then a sync. */
  'messages:retry': call(z.object({ id: MessageId.optional() }).strict(), z.object({ requeued: z.number().int() })),
  /** Sync now: send the outbox, pull and open the inbox. -200 when the key service cannot be reached. */
  'sync:now': call(z.object({}).strict(), SyncReportValue),
  'sync:status': call(z.object({}).strict(), SyncStatusValue),
  /** Starts staging one file the user picked (keys unlocked); `size` is what stageChunk must deliver. */
  'attachments:stageBegin': call(
    z.object({ name: FileName, size: z.number().int().min(0).max(ATTACHMENT_LIMITS.maxFileBytes), contentType: ContentType.optional() }).strict(),
    z.object({ stageId: z.string(), chunkBytes: z.number().int() }),
  ),
  /** Chunk `index` (0, 1, ... in order; a repeated index is acknowledged again, not written twice). */
  'attachments:stageChunk': call(
    z.object({ stageId: StageId, index: z.number().int().min(0).max(ATTACHMENT_LIMITS.maxFileBytes), data: ChunkBase64 }).strict(),
    z.object({ received: z.number().int(), size: z.number().int() }),
  ),
  /** All bytes are in: the staged file is ready for messages:send. */
  'attachments:stageEnd': call(
    z.object({ stageId: StageId }).strict(),
    z.object({ stageId: z.string(), name: z.string(), size: z.number().int(), sha256: z.string() }),
  ),
  /** Removes a staged file (the user took the attachment off, or left compose). */
  'attachments:stageCancel': call(z.object({ stageId: StageId }).strict(), z.object({ removed: z.boolean() })),
  /**
   * The opened, hash-checked bytes of one attachment from `offset` (at most chunkBytes).
   * The first call opens it; `done` when this chunk is the last.
   */
  'attachments:read': call(
    z.object({ messageId: MessageId, attachmentId: AttachmentId, offset: z.number().int().min(0).max(ATTACHMENT_LIMITS.maxFileBytes) }).strict(),
    z.object({ name: z.string(), contentType: z.string(), size: z.number().int(), sha256: z.string(), offset: z.number().int(), data: z.string(), done: z.boolean() }),
  ),
  /** Desktop notifications: message text only when the user opted in (off by default). */
  'notifications:get': call(z.object({}).strict(), NotificationSettingsValue),
  'notifications:set': call(z.object({ showText: z.boolean() }).strict(), NotificationSettingsValue),
  /** Read receipts (docs/sync.md "Read receipts"): on by default. */
  'readReceipts:get': call(z.object({}).strict(), ReadReceiptsValue),
  'readReceipts:set': call(z.object({ enabled: z.boolean() }).strict(), ReadReceiptsValue),
} as const;

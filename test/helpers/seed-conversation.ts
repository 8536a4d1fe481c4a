/**
 * A profile with a long conversation, fast: real envelopes sealed by a second
 * profile (bob) to this one's key, stored through the vault's own calls in one
 * transaction as a receive stores them (messages row with the envelope, its
 * message_info with the sender check, signed time, digest and the opened
 * content sealed under the local cache key, its conversation), instead of thousands of sends
 * through a key service. Used by the conversation tests and the ui_10k benchmark.
 */
import { createHash } from 'node:crypto';
import { sealEnvelope } from '../../electron/engine/crypto/envelope.js';
import type { MessagingContext } from '../../electron/engine/service/messaging.js';
import type { Service } from '../../electron/engine/service/index.js';
import { cacheKey, MESSAGE_CONTENT_TYPE, type MessageContent, sealCache } from '../../electron/engine/sync/content.js';
import { getContact, insertIncoming, markRead, markVerified, upsertContact } from '../../electron/engine/vault/index.js';
import { putMessageInfo } from '../../electron/engine/vault/sync-store.js';
import { setThread } from '../../electron/engine/vault/threads.js';
import { readRegistration } from '../../electron/engine/sync/registration.js';

/** The engine's context behind a Service (unlocked keys, vault), for test set-up only. */
export const engineOf = (service: Service): MessagingContext => (service.messaging as unknown as { c: MessagingContext }).c;

export interface SeedOptions {
  /** bob's account as it appears in the content and the contact list. */
  username: string;
  userId: string;
  count: number;
  /** The signed time of message i (ms). */
  sentAt: (i: number) => number;
  text: (i: number) => string;
  /** Store bob as a verified contact. */
  verified?: boolean;
  /** Mark them read (else all are unread). */
  read?: boolean;
  /** Server ids start here (several calls into one profile). */
  firstServerId?: number;
}

/** Seals `count` messages from `bob` (an unlocked profile) to `alice` (unlocked) and stores them in alice's vault. Returns the row ids in the order given. */
export function seedConversation(alice: Service, bob: Service, o: SeedOptions): number[] {
  const a = engineOf(alice);
  const b = engineOf(bob);
  const aliceId = a.identity();
  const bobId = b.identity();
  const bobKeys = b.unlocked();
  const now = Date.now();
  if (!getContact(a.db, o.userId)) {
    upsertContact(a.db, { userId: o.userId, username: o.username, fingerprint: bobId.fingerprint, did: bobId.did, encryptionKey: bobId.rsaPublicPem }, now);
    if (o.verified) markVerified(a.db, o.userId, bobId.fingerprint, now);
  }
  const reg = readRegistration(a.db);
  const me = { username: reg?.username ?? 'me', userid: reg?.userId ?? 'me' };
  const sealed = Array.from({ length: o.count }, (_, i) => {
    const content: MessageContent = { v: 1, from: { username: o.username, userid: o.userId }, to: [me], text: o.text(i), attachments: [] };
    const sentAt = o.sentAt(i);
    const envelope = sealEnvelope({ body: JSON.stringify(content), contentType: MESSAGE_CONTENT_TYPE, sender: bobKeys.sender, recipients: [aliceId.rsaPublicPem], sentAt });
    return { content, sentAt, envelope };
  });
  const key = cacheKey(a.unlocked().seed);
  try {
    return a.db.transaction(() =>
      sealed.map(({ content, sentAt, envelope }, i) => {
        const serverId = `seed:${o.userId}:${(o.firstServerId ?? 1) + i}`;
        // The key service's SentOn is a little after the signed time.
        const { id } = insertIncoming(a.db, { peer: o.userId, envelope, serverId, createdAt: sentAt + 40, receivedAt: now });
        // A two-person conversation, filed as a receive files it.
        setThread(a.db, id, o.userId, []);
        putMessageInfo(a.db, {
          messageId: id,
          sender: o.verified ? 'verified' : 'unverified',
          senderFingerprint: bobId.fingerprint,
          digest: createHash('sha256').update(envelope).digest('hex'),
          cache: sealCache(key, content),
          sentAt,
          attachments: 0,
        });
        if (o.read) markRead(a.db, { ids: [id] });
        return id;
      }),
    )();
  } finally {
    key.fill(0);
  }
}

/** Marks messages unread again (a benchmark round reads them; the next one starts as the first did). */
export function markUnread(service: Service, ids: readonly number[]): void {
  const db = engineOf(service).db;
  const unmark = db.prepare(`UPDATE messages SET read = 0 WHERE id = ? AND direction = 'in'`);
  db.transaction(() => ids.forEach((id) => unmark.run(id)))();
}

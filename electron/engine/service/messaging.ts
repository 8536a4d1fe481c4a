/**
 * Messaging and sync handlers of the contract (shared/contract-messaging.ts):
 * registration, compose/list/read, outbox state, retry, sync. The work is in
 * ../sync; this file maps it to results, checks state (registered, unlocked)
 * and records audit entries (never content, never secrets). The contacts,
 * attachments and notifications handlers are their own parts
 * (messaging-contacts.ts, messaging-attachments.ts, messaging-notifications.ts).
 *
 * Also the CLI's path-taking calls (attachments to send, a folder to save them
 * in): they are not contract channels, because paths never come from the renderer.
 * The UI stages attachments through attachments.ts instead and reads them back
 * in checked chunks.
 * @module
 */
import { createPublicKey } from 'node:crypto';
import { ResultCode, resultCodeName } from '../../../shared/codes.js';
import type { Handlers, Output } from '../../../shared/contract.js';
import type { ProgressCallback } from '../crypto/file-envelope.js';
import { privateKeyHash } from '../crypto/rsa.js';
import type { AuditAction, JsonValue } from '../vault/audit.js';
import type { Contact } from '../vault/contacts.js';
import { countUnread, getMessage } from '../vault/messages.js';
import { countOutbox, retryNow } from '../vault/outbox.js';
import { composeMessage } from '../sync/compose.js';
import { SyncEngine, type SyncReport } from '../sync/engine.js';
import { readRegistration, registerDevice } from '../sync/registration.js';
import { Attachments } from './attachments.js';
import { messageValue, type MessageValue } from './message-value.js';
import { withMessageKey } from './message-key.js';
import { backfillConversations, conversationValues, listMessageValues, type ListInput } from './message-lists.js';
import { MessageAttachments } from './messaging-attachments.js';
import { MessagingContacts } from './messaging-contacts.js';
import type { MessagingContext } from './messaging-context.js';
import { notificationHandlers, notificationPreview, type NotificationPreview } from './messaging-notifications.js';
import { audited, mapError, run } from './messaging-results.js';
import { markReadWithReceipts, readReceiptHandlers, type ReadTargetInput, receiptsEnabled } from './read-receipts.js';
import { ServiceError } from './results.js';

// Importers reach these through messaging.ts; they live in the parts now.
export type { MessagingContext } from './messaging-context.js';
export type { NotificationPreview } from './messaging-notifications.js';
export { syncFailure } from './messaging-results.js';

type MessagingChannels =
  | 'device:register'
  | 'contacts:lookup'
  | 'contacts:list'
  | 'contacts:verify'
  | 'contacts:acknowledgeKeyChange'
  | 'messages:send'
  | 'messages:list'
  | 'messages:conversations'
  | 'messages:read'
  | 'messages:markRead'
  | 'messages:retry'
  | 'sync:now'
  | 'sync:status'
  | 'attachments:stageBegin'
  | 'attachments:stageChunk'
  | 'attachments:stageEnd'
  | 'attachments:stageCancel'
  | 'attachments:read'
  | 'notifications:get'
  | 'notifications:set'
  | 'readReceipts:get'
  | 'readReceipts:set';

type SendInput = { to: string[]; subject?: string; text: string; files?: { path: string; name?: string }[]; onProgress?: ProgressCallback };

/** True when a sync report (counts by kind) counts anything. */
function changedSomething(report: unknown): boolean {
  return typeof report === 'object' && report !== null && Object.values(report).some((n) => typeof n === 'number' && n > 0);
}

export class Messaging {
  readonly sync: SyncEngine;
  /** Staged uploads and opened downloads of the UI's attachments. */
  readonly attachments: Attachments;
  private readonly contacts: MessagingContacts;
  private readonly messageAttachments: MessageAttachments;

  constructor(private readonly c: MessagingContext) {
    this.attachments = new Attachments({
      profileDir: c.profileDir,
      now: () => c.now(),
      unlocked: () => c.unlocked(),
      isUnlocked: () => c.keysIfUnlocked() !== null,
    });
    this.contacts = new MessagingContacts(c, () => this.sync.connection());
    this.messageAttachments = new MessageAttachments(c, this.attachments);
    this.sync = new SyncEngine({
      db: c.db,
      keychain: c.keychain,
      profileDir: c.profileDir,
      now: () => c.now(),
      deviceId: () => c.identity().deviceId,
      keys: () => c.keysIfUnlocked(),
      ...(c.backoff && { backoff: c.backoff }),
      ...(c.syncItems && {
        syncItems: async () => {
          const r = await c.syncItems!();
          if (r.code !== 0) throw new Error(r.message);
          if (changedSomething(r.value)) c.emit?.({ type: 'items' });
        },
      }),
      ...(c.emit && { emit: c.emit }),
      refreshContact: (userId) => this.contacts.refresh(userId),
      receiptsOn: () => receiptsEnabled(c),
    });
  }

  private registration() {
    const reg = readRegistration(this.c.db);
    if (!reg) throw new ServiceError(ResultCode.DeviceUnregistered, 'This device is not registered with a key service yet: register it first.');
    return reg;
  }

  private audited<T>(action: AuditAction, target: string | null, op: () => Promise<T> | T, details?: (v: T) => Record<string, JsonValue> | null) {
    return audited(this.c, action, target, op, details);
  }

  /**
   * For the desktop notification: the newest unread incoming messages' sender,
   * subject and text, only when the user opted in and the keys are unlocked.
   * Otherwise null (messaging-notifications.ts).
   */
  notificationPreview(limit = 3): NotificationPreview[] | null {
    return notificationPreview(this.c, limit);
  }

  private withKey<T>(op: (key: Uint8Array) => T): T {
    return withMessageKey(this.c.unlocked(), op);
  }

  private list(input: ListInput): MessageValue[] {
    return this.withKey((key) => {
      backfillConversations(this.c.db, key);
      const showRead = receiptsEnabled(this.c);
      return listMessageValues(this.c.db, input, (m, opened) => messageValue(this.c.db, m, key, { opened, asConversation: input.conversation !== undefined, showRead }), key);
    });
  }

  private conversations(input: { limit?: number; offset?: number }): Output<'messages:conversations'> {
    return this.withKey((key) => {
      backfillConversations(this.c.db, key);
      const showRead = receiptsEnabled(this.c);
      return conversationValues(this.c.db, input, (m) => messageValue(this.c.db, m, key, { showRead }));
    });
  }


  /** Streams a message's attachments, opened and checked, into `dir`. */
  saveAttachments(id: number, dir: string, onProgress?: ProgressCallback): Promise<{ saved: { name: string; path: string; bytes: number; sha256: string }[] }> {
    return this.messageAttachments.save(id, dir, onProgress);
  }

  /** Compose (with attachments from paths: CLI) and queue; audited with its outcome. */
  async send(input: SendInput): Promise<Output<'messages:send'>> {
    try {
      const result = await this.compose(input);
      await this.c.record('message.send', null, 'ok', { recipients: result.clientIds.length, attachments: input.files?.length ?? 0 });
      return result;
    } catch (e) {
      await this.c.record('message.send', null, resultCodeName(mapError(e).code)).catch(() => undefined);
      throw e;
    }
  }

  private async compose(input: SendInput): Promise<Output<'messages:send'>> {
    const registration = this.registration();
    const keys = this.c.unlocked();
    const contacts: Contact[] = [];
    for (const u of [...new Set(input.to)]) contacts.push(await this.contacts.resolve(u));
    const result = await composeMessage(
      { db: this.c.db, profileDir: this.c.profileDir, now: this.c.now(), keys, ownPublicPem: this.c.identity().rsaPublicPem, registration },
      { to: contacts, text: input.text, files: input.files ?? [], ...(input.subject !== undefined && { subject: input.subject }), ...(input.onProgress && { onProgress: input.onProgress }) },
    );
    this.c.emit?.({ type: 'messages', received: 0, changed: result.messageIds.length });
    // Flushed at once while the scheduler runs (the app); the CLI's send flushes itself.
    if (this.sync.started) this.sync.kick();
    return result;
  }

  /** Marks read, queueing read receipts and a read sync (read-receipts.ts), and sends them at once while the scheduler runs. */
  private markRead(target: ReadTargetInput): { changed: number; receipts: number } {
    const r = markReadWithReceipts(this.c, target);
    if (r.receipts + r.readSyncs > 0 && this.sync.started) this.sync.kick();
    return r;
  }

  async syncNow(): Promise<SyncReport> {
    return this.sync.sync();
  }

  handlers(): Pick<Handlers, MessagingChannels> {
    const c = this.c;
    return {
      'device:register': (input) =>
        this.audited(
          'device.register',
          input.username,
          async () => {
            const keys = c.unlocked();
            const identity = c.identity();
            const { registration, newInbox, newerKey } = await registerDevice(
              c.db,
              c.keychain,
              {
                server: input.server,
                appId: input.appId,
                serverKey: input.serverKey,
                enrollmentCode: input.enrollmentCode,
                totp: input.totp,
                ...(input.clientKey && { clientKey: input.clientKey }),
                username: input.username,
                devicePackage: c.devicePackage(),
                publicKeyPem: identity.rsaPublicPem,
                privateKeyHash: privateKeyHash(keys.rsaPrivateKeyDer),
                identitySecretKey: keys.identity.secretKey,
                previousKeys: keys.previousKeys.map((k) => ({
                  publicKeyPem: createPublicKey(k.rsaPrivateKey).export({ type: 'spki', format: 'pem' }).toString(),
                  privateKeyHash: privateKeyHash(k.rsaPrivateKeyDer),
                })),
              },
              c.now(),
            );
            this.sync.reset();
            return { userId: registration.userId, username: registration.username, server: registration.server, newInbox, newerKey };
          },
          (v) => ({ newInbox: v.newInbox, newerKey: v.newerKey !== null, via: input.enrollmentCode !== undefined ? 'enrollment-code' : 'server-key' }),
        ),
      ...this.contacts.handlers(),
      'messages:send': (input) =>
        run(async () => {
          const staged = input.attachments ?? [];
          const files = this.attachments.files(staged);
          const result = await this.send({ to: input.to, text: input.text, files, ...(input.subject !== undefined && { subject: input.subject }) });
          // Sealed into the outbox: the staged plaintext is not needed any more.
          await this.attachments.release(staged);
          return result;
        }),
      ...this.messageAttachments.handlers(),
      ...notificationHandlers(c),
      ...readReceiptHandlers(c),
      'messages:list': (input) => run(() => this.list(input)),
      'messages:conversations': (input) => run(() => this.conversations(input)),
      'messages:read': (input) =>
        this.audited('message.open', String(input.id), () => {
          const m = getMessage(c.db, input.id);
          if (!m) throw new ServiceError(ResultCode.NotFound, `No message ${input.id}.`);
          const v = this.withKey((key) => messageValue(this.c.db, m, key, { showRead: receiptsEnabled(c) }));
          if (input.markRead !== false && m.direction === 'in' && !m.read) {
            this.markRead({ ids: [m.id] });
            v.read = true;
          }
          return v;
        }),
      'messages:markRead': (input) =>
        run(() => {
          const { changed } = this.markRead('ids' in input ? { ids: input.ids } : 'peer' in input ? { peer: input.peer } : { thread: input.conversation });
          if (changed > 0) c.emit?.({ type: 'messages', received: 0, changed });
          return { changed };
        }),
      'messages:retry': (input) =>
        run(() => {
          let clientId: string | undefined;
          if (input.id !== undefined) {
            const m = getMessage(c.db, input.id);
            if (!m || m.direction !== 'out' || !m.clientId) throw new ServiceError(ResultCode.NotFound, `No outgoing message ${input.id}.`);
            clientId = m.clientId;
          }
          const requeued = retryNow(c.db, c.now(), clientId);
          if (this.sync.started) this.sync.kick();
          return { requeued };
        }),
      'sync:now': () => run(() => this.syncNow()),
      'sync:status': () =>
        run(() => {
          const reg = readRegistration(c.db);
          const counts = countOutbox(c.db);
          const s = this.sync.state;
          return {
            registered: reg !== null,
            username: reg?.username ?? null,
            server: reg?.server ?? null,
            online: s.online,
            syncing: s.syncing,
            lastSyncAt: s.lastSyncAt,
            lastError: s.lastError,
            nextSyncAt: s.nextSyncAt,
            pending: counts.pending + counts.sending,
            failed: counts.failed,
            unread: countUnread(c.db),
            stream: s.stream,
          };
        }),
    };
  }
}

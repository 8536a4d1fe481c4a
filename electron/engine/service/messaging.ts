/**
 * Messaging and sync handlers of the contract (shared/contract-messaging.ts):
 * registration, contacts, compose/list/read, outbox state, retry, sync. The
 * work is in ../sync; this file maps it to results, checks state (registered,
 * unlocked) and records audit entries (never content, never secrets).
 *
 * Also the CLI's path-taking calls (attachments to send, a folder to save them
 * in): they are not contract channels, because paths never come from the renderer.
 * The UI stages attachments through attachments.ts instead and reads them back
 * in checked chunks.
 * @module
 */
import { createPublicKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ResultCode, resultCodeName, type Result } from '../../../shared/codes.js';
import type { Handlers, Output } from '../../../shared/contract.js';
import type { EngineEvent } from '../../../shared/contract-events.js';
import type { DevicePackage } from '../../../shared/device-package.js';
import { safetyNumber } from '../crypto/fingerprint.js';
import { openFile, type ProgressCallback } from '../crypto/file-envelope.js';
import { privateKeyHash } from '../crypto/rsa.js';
import type { Keychain } from '../keychain/types.js';
import type { AuditAction, JsonValue } from '../vault/audit.js';
import type { Db } from '../vault/_sql.js';
import { acknowledgeKeyChange, type Contact, getContact, getContactByUsername, listContacts, markVerified } from '../vault/contacts.js';
import { countUnread, getMessage, listMessages, markRead } from '../vault/messages.js';
import { countOutbox, retryNow } from '../vault/outbox.js';
import { getSetting, setSetting } from '../vault/settings.js';
import { getMessageInfo, listContactKeys, markPeerMessagesVerified } from '../vault/sync-store.js';
import { sealedPath } from '../sync/attachments.js';
import { composeMessage } from '../sync/compose.js';
import { cacheKey } from '../sync/content.js';
import { lookupContact } from '../sync/directory.js';
import { SyncEngine, type SyncReport } from '../sync/engine.js';
import { isSyncError, type SyncError } from '../sync/errors.js';
import { readRegistration, registerDevice } from '../sync/registration.js';
import type { BackoffPolicy } from '../sync/backoff.js';
import { Attachments, type AttachmentToOpen } from './attachments.js';
import { messageValue, type MessageValue } from './message-value.js';
import type { PublicIdentity } from './profile.js';
import { failureOf, ok, ServiceError } from './results.js';
import type { UnlockedKeys } from './unlocked-keys.js';
import { withOwnKey } from './own-keys.js';
import { rotationOf } from './contact-rotation-value.js';
import { backfillConversations, conversationValues, listMessageValues, type ListInput } from './message-lists.js';

export interface MessagingContext {
  /** False when the managed policy turns message text in notifications off. */
  previewsAllowed?: () => boolean;
  db: Db;
  keychain: Keychain;
  profileDir: string;
  now(): number;
  identity(): PublicIdentity;
  /** @throws SessionLockedError */
  unlocked(): UnlockedKeys;
  /** The keys when unlocked, else null (no throw, no idle-timer touch). */
  keysIfUnlocked(): UnlockedKeys | null;
  /** The signed device package (keys unlocked). */
  devicePackage(): DevicePackage;
  record(action: AuditAction, target: string | null, result: string, details?: Record<string, JsonValue> | null): Promise<void>;
  backoff?: BackoffPolicy;
  /** items:sync (joins a running one), run by the sync scheduler after the messages. */
  syncItems?: () => Promise<Result<unknown>>;
  /** The engine's events for the UI (events.ts). */
  emit?: (event: EngineEvent) => void;
}

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
  | 'notifications:set';

const NOTIFY_TEXT_KEY = 'notifyShowText';

/** What a notification may show about one new message (only with the opt-in). */
export interface NotificationPreview {
  from: string;
  subject: string | null;
  text: string;
}

type SendInput = { to: string[]; subject?: string; text: string; files?: { path: string; name?: string }[]; onProgress?: ProgressCallback };
type ContactValue = Output<'contacts:list'>[number];


/** A SyncError as a service failure: offline -> NoInternetAccess, unregistered -> DeviceUnregistered. */
export function syncFailure(e: SyncError): ServiceError {
  const details = { ...(e.extra.status !== undefined && { status: e.extra.status }), ...(e.extra.code && { server: e.extra.code }), kind: e.kind };
  switch (e.kind) {
    case 'offline':
      return new ServiceError(ResultCode.NoInternetAccess, e.message, details);
    case 'unregistered':
      return new ServiceError(ResultCode.DeviceUnregistered, e.message, details);
    case 'rejected':
      return new ServiceError(e.extra.status === 404 ? ResultCode.NotFound : e.extra.status === 409 ? ResultCode.Conflict : ResultCode.Failed, e.message, details);
    default:
      return new ServiceError(ResultCode.Failed, e.message, details);
  }
}

/** True when a sync report (counts by kind) counts anything. */
function changedSomething(report: unknown): boolean {
  return typeof report === 'object' && report !== null && Object.values(report).some((n) => typeof n === 'number' && n > 0);
}

const mapError = (e: unknown): Result<never> => failureOf(isSyncError(e) ? syncFailure(e) : e);

async function run<T>(op: () => Promise<T> | T): Promise<Result<T>> {
  try {
    return ok(await op());
  } catch (e) {
    return mapError(e);
  }
}

export class Messaging {
  readonly sync: SyncEngine;
  /** Staged uploads and opened downloads of the UI's attachments. */
  readonly attachments: Attachments;

  constructor(private readonly c: MessagingContext) {
    this.attachments = new Attachments({
      profileDir: c.profileDir,
      now: () => c.now(),
      unlocked: () => c.unlocked(),
      isUnlocked: () => c.keysIfUnlocked() !== null,
    });
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
      refreshContact: (userId) => this.refreshContact(userId),
    });
  }

  /** A contact's keys again from the directory (a key-change event); false when it is not a contact. */
  private async refreshContact(userId: string): Promise<boolean> {
    const known = getContact(this.c.db, userId);
    const conn = this.sync.connection();
    if (!known || !conn) return false;
    await lookupContact(conn, this.c.db, known.username, this.c.now());
    return true;
  }

  private registration() {
    const reg = readRegistration(this.c.db);
    if (!reg) throw new ServiceError(ResultCode.DeviceUnregistered, 'This device is not registered with a key service yet: register it first.');
    return reg;
  }

  private async audited<T>(action: AuditAction, target: string | null, op: () => Promise<T> | T, details: (v: T) => Record<string, JsonValue> | null = () => null): Promise<Result<T>> {
    const result = await run(op);
    await this.c.record(action, target, result.code === 0 ? 'ok' : resultCodeName(result.code), result.code === 0 ? details(result.value) : null).catch(() => undefined);
    return result;
  }

  private contactValue(contact: Contact): ContactValue {
    const own = this.c.identity().fingerprint;
    return {
      userId: contact.userId,
      username: contact.username,
      fingerprint: contact.fingerprint,
      safetyNumber: safetyNumber(own, contact.fingerprint),
      verified: contact.verified,
      keyChanged: contact.keyChanged,
      previousFingerprint: contact.previousFingerprint,
      did: contact.did,
      reachable: listContactKeys(this.c.db, contact.userId).some((k) => k.inbox !== null),
      ...rotationOf(this.c.db, contact),
    };
  }

  private contactOr404(userId: string): Contact {
    const c = getContact(this.c.db, userId) ?? getContactByUsername(this.c.db, userId);
    if (!c) throw new ServiceError(ResultCode.NotFound, 'No such contact.');
    return c;
  }

  /** A contact by username; looked up in the directory when not known yet. */
  private async resolve(username: string): Promise<Contact> {
    const known = getContactByUsername(this.c.db, username);
    if (known) return known;
    const conn = this.sync.connection();
    if (!conn) throw new ServiceError(ResultCode.DeviceUnregistered, 'This device is not registered with a key service yet.');
    return (await lookupContact(conn, this.c.db, username, this.c.now())).contact;
  }

  /** The attachment a UI read asks for, checked like saveAttachments does. */
  private attachmentToOpen(messageId: number, attachmentId: string): AttachmentToOpen {
    const m = getMessage(this.c.db, messageId);
    if (!m) throw new ServiceError(ResultCode.NotFound, `No message ${messageId}.`);
    const value = this.withKey((key) => messageValue(this.c.db, m, key));
    if (value.sender === 'rejected') throw new ServiceError(ResultCode.Tampered, `Message ${messageId} was rejected (${value.reason ?? 'unreadable'}): its attachments are not opened.`);
    const a = value.attachments.find((x) => x.id === attachmentId);
    if (!a) throw new ServiceError(ResultCode.NotFound, `Message ${messageId} has no such attachment.`);
    if (a.state !== 'complete') throw new ServiceError(ResultCode.InvalidState, `Attachment ${a.name} is ${a.state}: sync again first.`);
    const info = getMessageInfo(this.c.db, messageId);
    const expected = m.direction === 'out' ? this.c.identity().fingerprint : (info?.senderFingerprint ?? undefined);
    return { id: a.id, name: a.name, contentType: a.contentType, size: a.size, sha256: a.sha256, expectedSender: expected };
  }

  private get showText(): boolean {
    // The managed policy can force message text out of notifications (notificationPreviews: off).
    return (getSetting(this.c.db, NOTIFY_TEXT_KEY, z.boolean()) ?? false) && (this.c.previewsAllowed?.() ?? true);
  }

  /**
   * For the desktop notification: the newest unread incoming messages' sender,
   * subject and text, only when the user opted in and the keys are unlocked
   * (read without touching the idle timer, so notifications never keep the app
   * unlocked). Otherwise null: the notification then says only how many arrived.
   */
  notificationPreview(limit = 3): NotificationPreview[] | null {
    if (!this.showText) return null;
    const keys = this.c.keysIfUnlocked();
    if (!keys) return null;
    const key = cacheKey(keys.seed);
    try {
      const out: NotificationPreview[] = [];
      for (const m of listMessages(this.c.db, { limit: 200 })) {
        if (m.direction !== 'in' || m.read) continue;
        const v = messageValue(this.c.db, m, key);
        if (v.text === null || v.sender === 'rejected') continue;
        out.push({ from: `${v.peerName ?? v.peer}${v.sender === 'verified' ? '' : ' (not verified)'}`, subject: v.subject, text: v.text });
        if (out.length >= limit) break;
      }
      return out;
    } finally {
      key.fill(0);
    }
  }

  private withKey<T>(op: (key: Uint8Array) => T): T {
    const key = cacheKey(this.c.unlocked().seed);
    try {
      return op(key);
    } finally {
      key.fill(0);
    }
  }

  private list(input: ListInput): MessageValue[] {
    return this.withKey((key) => {
      backfillConversations(this.c.db, key);
      return listMessageValues(this.c.db, input, (m, opened) => messageValue(this.c.db, m, key, opened, input.conversation !== undefined), key);
    });
  }

  private conversations(input: { limit?: number; offset?: number }): Output<'messages:conversations'> {
    return this.withKey((key) => {
      backfillConversations(this.c.db, key);
      return conversationValues(this.c.db, input, (m) => messageValue(this.c.db, m, key));
    });
  }

  /** Streams a message's attachments, opened and checked, into `dir`. */
  async saveAttachments(id: number, dir: string, onProgress?: ProgressCallback): Promise<{ saved: { name: string; path: string; bytes: number; sha256: string }[] }> {
    const keys = this.c.unlocked();
    const m = getMessage(this.c.db, id);
    if (!m) throw new ServiceError(ResultCode.NotFound, `No message ${id}.`);
    const value = this.withKey((key) => messageValue(this.c.db, m, key));
    if (value.sender === 'rejected') throw new ServiceError(ResultCode.Tampered, `Message ${id} was rejected (${value.reason ?? 'unreadable'}): its attachments are not opened.`);
    const info = getMessageInfo(this.c.db, id);
    const saved = [];
    for (const a of value.attachments) {
      if (a.state !== 'complete') throw new ServiceError(ResultCode.InvalidState, `Attachment ${a.name} is ${a.state}: sync again first.`);
      const name = path.basename(a.name);
      if (name === '.' || name === '..' || name !== a.name) throw new ServiceError(ResultCode.InvalidParameter, 'An attachment has an unsafe file name.');
      const out = path.join(dir, name);
      if (existsSync(out)) throw new ServiceError(ResultCode.Conflict, `${out} exists already.`);
      const expected = m.direction === 'out' ? this.c.identity().fingerprint : info?.senderFingerprint;
      const opened = await withOwnKey(keys, (k) => openFile(sealedPath(this.c.profileDir, a.id), out, {
        privateKey: k.rsaPrivateKey,
        keyId: k.keyId,
        ...(expected && { expectedSender: { fingerprint: expected } }),
        ...(onProgress && { onProgress }),
      }));
      if (opened.sha256 !== a.sha256) throw new ServiceError(ResultCode.Tampered, `Attachment ${a.name} does not match its message.`);
      saved.push({ name, path: out, bytes: opened.bytes, sha256: opened.sha256 });
    }
    await this.c.record('message.open', String(id), 'ok', { attachments: saved.length });
    return { saved };
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
    for (const u of [...new Set(input.to)]) contacts.push(await this.resolve(u));
    const result = await composeMessage(
      { db: this.c.db, profileDir: this.c.profileDir, now: this.c.now(), keys, ownPublicPem: this.c.identity().rsaPublicPem, registration },
      { to: contacts, text: input.text, files: input.files ?? [], ...(input.subject !== undefined && { subject: input.subject }), ...(input.onProgress && { onProgress: input.onProgress }) },
    );
    this.c.emit?.({ type: 'messages', received: 0, changed: result.messageIds.length });
    // Flushed at once while the scheduler runs (the app); the CLI's send flushes itself.
    if (this.sync.started) this.sync.kick();
    return result;
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
      'contacts:lookup': (input) =>
        run(async () => {
          c.identity();
          const conn = this.sync.connection();
          if (!conn) throw new ServiceError(ResultCode.DeviceUnregistered, 'This device is not registered with a key service yet.');
          const { contact } = await lookupContact(conn, c.db, input.username, c.now());
          return this.contactValue(contact);
        }),
      'contacts:list': () => run(() => listContacts(c.db).map((x) => this.contactValue(x))),
      'contacts:verify': (input) =>
        this.audited('contact.verify', input.userId, () => {
          const contact = this.contactOr404(input.userId);
          if (!markVerified(c.db, contact.userId, input.fingerprint, c.now())) {
            throw new ServiceError(ResultCode.Conflict, "That is not the contact's current fingerprint: compare the safety number again.");
          }
          markPeerMessagesVerified(c.db, contact.userId, input.fingerprint);
          return this.contactValue(this.contactOr404(contact.userId));
        }),
      'contacts:acknowledgeKeyChange': (input) =>
        run(() => {
          const contact = this.contactOr404(input.userId);
          acknowledgeKeyChange(c.db, contact.userId, c.now());
          return this.contactValue(this.contactOr404(contact.userId));
        }),
      'messages:send': (input) =>
        run(async () => {
          const staged = input.attachments ?? [];
          const files = this.attachments.files(staged);
          const result = await this.send({ to: input.to, text: input.text, files, ...(input.subject !== undefined && { subject: input.subject }) });
          // Sealed into the outbox: the staged plaintext is not needed any more.
          await this.attachments.release(staged);
          return result;
        }),
      'attachments:stageBegin': (input) => run(() => this.attachments.stageBegin({ name: input.name, size: input.size, ...(input.contentType && { contentType: input.contentType }) })),
      'attachments:stageChunk': (input) => run(() => this.attachments.stageChunk(input)),
      'attachments:stageEnd': (input) => run(() => this.attachments.stageEnd(input)),
      'attachments:stageCancel': (input) => run(() => this.attachments.stageCancel(input)),
      'attachments:read': (input) =>
        run(async () => {
          let first = false;
          const value = await this.attachments.read(input, () => {
            first = true;
            return this.attachmentToOpen(input.messageId, input.attachmentId);
          });
          if (first) await c.record('message.open', String(input.messageId), 'ok', { attachments: 1, bytes: value.size });
          return value;
        }),
      'notifications:get': () => run(() => ({ showText: this.showText })),
      'notifications:set': (input) =>
        run(() => {
          setSetting(c.db, NOTIFY_TEXT_KEY, input.showText, c.now());
          return { showText: this.showText };
        }),
      'messages:list': (input) => run(() => this.list(input)),
      'messages:conversations': (input) => run(() => this.conversations(input)),
      'messages:read': (input) =>
        this.audited('message.open', String(input.id), () => {
          const m = getMessage(c.db, input.id);
          if (!m) throw new ServiceError(ResultCode.NotFound, `No message ${input.id}.`);
          const v = this.withKey((key) => messageValue(this.c.db, m, key));
          if (input.markRead !== false && m.direction === 'in' && !m.read) {
            markRead(c.db, { ids: [m.id] });
            v.read = true;
          }
          return v;
        }),
      'messages:markRead': (input) =>
        run(() => {
          const changed = markRead(c.db, 'ids' in input ? { ids: input.ids } : 'peer' in input ? { peer: input.peer } : { thread: input.conversation });
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

/**
 * Opening pulled messages: every envelope is authenticated, its signature
 * checked, its sender matched against contacts and the directory, and then
 * stored in the vault inbox with its opened content sealed under the local key.
 * A message that fails any check is stored as 'rejected' with the reason
 * (tampered, wrong-key, bad-signature, replay, sender-mismatch, ...): it is
 * listed, never shown as verified text, and the next message is processed.
 *
 * Sender checks, in order: the envelope's signature (crypto); the signed
 * fingerprint claim and signing key must belong to the account the content
 * names (contact keys, else a fresh directory lookup); a key that changed
 * since the user verified the contact shows as 'key-changed', never 'verified'.
 * A copy of an envelope already stored (replayed into our inbox) is 'replay'.
 * @module
 */
import { createHash } from 'node:crypto';
import { envelopeRecipients, fromWire, openEnvelope, type OpenedEnvelope, wireDigest } from '../crypto/envelope.js';
import { type CryptoError, isCryptoError } from '../crypto/errors.js';
import { publicKeyFromDid } from '../crypto/identity.js';
import { OpenPool, type OpenOutcome } from '../crypto/open-pool.js';
import type { PreviousKey, UnlockedKeys } from '../service/unlocked-keys.js';
import type { Db } from '../vault/_sql.js';
import { rotatedFingerprints } from '../vault/contact-rotations.js';
import { type Contact, getContact } from '../vault/contacts.js';
import { insertIncoming } from '../vault/messages.js';
import { markReadFromSync } from '../vault/read-sync.js';
import { backfillSentDigests, markReadBy } from '../vault/receipts.js';
import { setThread, threadOf } from '../vault/threads.js';
import {
  addPart,
  countParts,
  deleteRaw,
  getAttachment,
  listContactKeys,
  listRaw,
  messageByDigest,
  putAttachment,
  putMessageInfo,
  type RawMessage,
  type SenderState,
  setAttachmentState,
} from '../vault/sync-store.js';
import { completeIncoming, parsePart, writePart } from './attachments.js';
import type { Connection } from './connection.js';
import { cacheKey, MESSAGE_CONTENT_TYPE, type MessageContent, parseContent, sealCache } from './content.js';
import { judgeReadSync, READ_SYNC_CONTENT_TYPE } from './read-sync.js';
import { parseReceipt, RECEIPT_CONTENT_TYPE, type ReceiptContent } from './receipts.js';
import { lookupContact } from './directory.js';
import { readRegistration } from './registration.js';

export interface OpenDeps {
  db: Db;
  profileDir: string;
  keys: UnlockedKeys;
  /** For directory lookups of unknown senders; null offline. */
  conn: Connection | null;
  /** When given, directory lookups are made only while this says the service is reachable. */
  online?: () => boolean;
  /** A pull running at the same time: opening follows it page by page until it ends. */
  feed?: PullFeed;
  now: () => number;
  onProgress?: (e: { phase: 'open'; opened: number; rejected: number }) => void;
}

/**
 * Pages stored by a pull running alongside the opening: `wait()` resolves at the
 * next stored page or at the end of the pull (`ended`).
 */
export class PullFeed {
  private waiters: (() => void)[] = [];
  ended = false;

  /** A page was stored. */
  notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** The pull finished (or failed). */
  end(): void {
    this.ended = true;
    this.notify();
  }

  wait(): Promise<void> {
    return this.ended ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

export interface OpenReport {
  received: number;
  rejected: number;
  parts: number;
  /** Messages whose read state changed: our sent copies a read receipt marked, our incoming ones a read sync from our other device marked (neither is a message: not counted in `received`). */
  read: number;
}

const BATCH = 512;
/** Below this many pending envelopes, opening in-thread beats starting workers. */
const POOL_THRESHOLD = 64;

type Verdict =
  | { ok: true; kind: 'message'; opened: OpenedEnvelope; content: MessageContent; sender: SenderState; peer: string; envelope: Uint8Array; digest: string }
  | { ok: true; kind: 'receipt'; opened: OpenedEnvelope; receipt: ReceiptContent; sender: SenderState; peer: string }
  | { ok: true; kind: 'read-sync'; read: string[] }
  | { ok: false; reason: string; peer: string; envelope: Uint8Array; digest: string | null; fp: string | null };

type Rebuilt = { ok: true; env: Uint8Array } | { ok: false; reason: string };

/** One batch of pulled rows, its envelopes being opened (by the pool while the previous batch is stored). */
interface Batch {
  raws: RawMessage[];
  rebuilt: Rebuilt[];
  outcomes: Promise<OpenOutcome[]>;
}

/** What a sync learns once and reuses for every message: directory answers, each contact's signing key and fingerprints. */
interface SenderCache {
  lookedUp: Map<string, Contact | null>;
  keys: Map<string, { spk: Uint8Array | null; fps: Set<string> }>;
  /** Contacts as read at the start of the current batch (verified / key-changed state is re-read every batch). */
  contacts: Map<string, Contact | null>;
}

function reasonOf(e: CryptoError | Error): string {
  if (!isCryptoError(e)) return 'unreadable';
  return e.kind === 'truncated' ? 'tampered' : e.kind === 'invalid-input' ? 'invalid' : e.kind;
}

/**
 * Opens and stores what was pulled, batch by batch, oldest first. The next
 * batch is opened by the worker pool while the current one is checked and
 * stored (one transaction per batch), and with a `feed`, pages are opened as
 * the pull running alongside stores them. A crash at any point loses nothing:
 * a row leaves inbox_raw in the transaction that stores its message.
 */
export async function openPulled(d: OpenDeps): Promise<OpenReport> {
  const report: OpenReport = { received: 0, rejected: 0, parts: 0, read: 0 };
  const first = await nextRows(d);
  if (first.length === 0) return report;
  const pool = first.length >= POOL_THRESHOLD ? await OpenPool.create({ privateKeyDer: d.keys.rsaPrivateKeyDer }).catch(() => null) : null;
  const key = cacheKey(d.keys.seed);
  const senders: SenderCache = { lookedUp: new Map(), keys: new Map(), contacts: new Map() };
  let current: Batch | null = startBatch(d, first, pool);
  try {
    for (let guard = 0; current && guard < 10_000_000; guard++) {
      // Prefetch while this batch's rows are still there (they anchor the next page of rows).
      const after = listRaw(d.db, BATCH, current.raws.at(-1)!.serverId);
      let next: Batch | null = after.length > 0 ? startBatch(d, after, pool) : null;
      await storeBatch(d, current, key, senders, report);
      d.onProgress?.({ phase: 'open', opened: report.received, rejected: report.rejected });
      if (!next) {
        const rows = await nextRows(d);
        next = rows.length > 0 ? startBatch(d, rows, pool) : null;
      }
      current = next;
    }
  } finally {
    key.fill(0);
    await pool?.close();
  }
  return report;
}

/** The oldest pulled rows; with a pull running alongside, waits for its next page while there are none (bounded by the pull). */
async function nextRows(d: OpenDeps): Promise<RawMessage[]> {
  for (;;) {
    const rows = listRaw(d.db, BATCH);
    if (rows.length > 0 || !d.feed || d.feed.ended) return rows;
    await d.feed.wait();
  }
}

/** The rotated-out key an envelope is addressed to, when it is not addressed to the current one. */
function previousKeyFor(keys: UnlockedKeys, env: Uint8Array): PreviousKey | null {
  if (keys.previousKeys.length === 0) return null;
  let ids: string[];
  try {
    ids = envelopeRecipients(env);
  } catch {
    return null; // opening reports what is wrong with it
  }
  if (ids.includes(keys.keyId)) return null;
  return keys.previousKeys.find((k) => ids.includes(k.keyId)) ?? null;
}

function startBatch(d: OpenDeps, raws: RawMessage[], pool: OpenPool | null): Batch {
  const rebuilt: Rebuilt[] = raws.map((r) => {
    if (r.isFile) return { ok: false, reason: 'part' };
    try {
      return { ok: true, env: fromWire({ encryptedmessage: Buffer.from(r.body).toString('base64'), encryptionkey: Buffer.from(r.encKey).toString('base64') }) };
    } catch (e) {
      return { ok: false, reason: reasonOf(e as Error) };
    }
  });
  const toOpen = rebuilt.flatMap((r) => (r.ok ? [r.env] : []));
  // Envelopes sealed to a key we rotated out (sent before the rotation, or by a
  // sender who has not seen it yet) open in-thread with that key; the rest go the usual way.
  const oldKey = toOpen.map((env) => previousKeyFor(d.keys, env));
  const inline = (env: Uint8Array, key: { rsaPrivateKey: UnlockedKeys['rsaPrivateKey']; keyId: string }): OpenOutcome => {
    try {
      return { ok: true as const, value: openEnvelope(env, { privateKey: key.rsaPrivateKey, keyId: key.keyId }) };
    } catch (e) {
      return { ok: false as const, error: e as Error };
    }
  };
  const current = toOpen.filter((_, i) => oldKey[i] === null);
  const opened: Promise<OpenOutcome[]> = pool ? pool.openMany(current) : Promise.resolve(current.map((env) => inline(env, d.keys)));
  const outcomes = opened.then((main) => {
    let m = 0;
    return toOpen.map((env, i) => {
      const key = oldKey[i];
      return key ? inline(env, key) : main[m++]!;
    });
  });
  // Awaited in storeBatch; a batch abandoned by an error must not become an unhandled rejection.
  outcomes.catch(() => undefined);
  return { raws, rebuilt, outcomes };
}

async function storeBatch(d: OpenDeps, batch: Batch, key: Uint8Array, senders: SenderCache, report: OpenReport): Promise<void> {
  senders.contacts.clear();
  const idx = batch.raws.flatMap((r, i) => (r.isFile ? [] : [i]));
  await storeEnvelopes(
    d,
    idx.map((i) => batch.raws[i]!),
    idx.map((i) => batch.rebuilt[i]!),
    await batch.outcomes,
    key,
    senders,
    report,
  );
  for (const p of batch.raws) if (p.isFile) await storePart(d, p, report);
}

async function storeEnvelopes(d: OpenDeps, raws: RawMessage[], rebuilt: Rebuilt[], outcomes: OpenOutcome[], key: Uint8Array, senders: SenderCache, report: OpenReport): Promise<void> {
  if (raws.length === 0) return;
  let k = 0;
  const verdicts: Verdict[] = [];
  const self = readRegistration(d.db)?.userId ?? null;
  for (let i = 0; i < raws.length; i++) {
    const raw = raws[i]!;
    const rb = rebuilt[i]!;
    if (!rb.ok) {
      verdicts.push({ ok: false, reason: rb.reason, peer: 'unknown', envelope: raw.body, digest: null, fp: null });
      continue;
    }
    const outcome = outcomes[k++]!;
    if (!outcome.ok) {
      verdicts.push({ ok: false, reason: reasonOf(outcome.error), peer: 'unknown', envelope: rb.env, digest: null, fp: null });
      continue;
    }
    const digest = createHash('sha256').update(raw.body).digest('hex');
    verdicts.push(await judge(d, outcome.value, rb.env, digest, senders, self));
  }
  // Rows sent before read receipts existed get their digest the first time a receipt may name them.
  if (verdicts.some((v) => v.ok && v.kind === 'receipt')) backfillSentDigests(d.db, wireDigest);
  const seen = new Set<string>();
  d.db.transaction(() => {
    for (let i = 0; i < raws.length; i++) {
      const raw = raws[i]!;
      let v = verdicts[i]!;
      if (v.ok && v.kind === 'receipt') {
        // A receipt is applied, not stored: only from a sender the directory checked, and only to copies sent to them.
        if (v.sender !== 'unknown') report.read += markReadBy(d.db, { reader: v.peer, digests: v.receipt.read, at: v.opened.sentAt, now: d.now() }).length;
        deleteRaw(d.db, raw.serverId);
        continue;
      }
      if (v.ok && v.kind === 'read-sync') {
        // Read on our other device (which sent the receipts): marked here too, not stored; on that device a no-op.
        report.read += markReadFromSync(d.db, v.read).length;
        deleteRaw(d.db, raw.serverId);
        continue;
      }
      if (v.ok && (seen.has(v.digest) || messageByDigest(d.db, v.digest) !== null)) {
        v = { ok: false, reason: 'replay', peer: v.peer, envelope: v.envelope, digest: null, fp: v.opened.senderFingerprint };
      }
      const { id, inserted } = insertIncoming(d.db, { peer: v.peer, envelope: v.envelope, serverId: raw.serverId, createdAt: raw.sentOn, receivedAt: raw.receivedAt });
      if (inserted) {
        if (v.ok) {
          seen.add(v.digest);
          putMessageInfo(d.db, {
            messageId: id,
            sender: v.sender,
            senderFingerprint: v.opened.senderFingerprint,
            digest: v.digest,
            cache: sealCache(key, v.content),
            sentAt: v.opened.sentAt,
            attachments: v.content.attachments.length,
          });
          // Filed among everyone it was addressed to; an unknown sender's claim of who else was addressed is not trusted for that.
          if (self !== null && v.sender !== 'unknown') {
            const { thread, members } = threadOf(self, v.content);
            setThread(d.db, id, thread, members);
          } else setThread(d.db, id, v.peer, []);
          for (const a of v.content.attachments) {
            putAttachment(d.db, { id: a.id, messageId: id, direction: 'in', sealedSize: a.sealedSize, sealedHash: a.sealedSha256, parts: a.parts, partSize: a.partSize, state: 'partial', createdAt: d.now() });
          }
          report.received++;
        } else {
          putMessageInfo(d.db, { messageId: id, sender: 'rejected', reason: v.reason, senderFingerprint: v.fp });
          setThread(d.db, id, v.peer, []);
          report.rejected++;
        }
      }
      deleteRaw(d.db, raw.serverId);
    }
  })();
  // Parts may have arrived before their message (several inboxes, retries).
  for (const v of verdicts) if (v.ok && v.kind === 'message') for (const a of v.content.attachments) await maybeComplete(d, a.id);
}

async function judge(d: OpenDeps, opened: OpenedEnvelope, envelope: Uint8Array, digest: string, senders: SenderCache, self: string | null): Promise<Verdict> {
  const fail = (reason: string, peer = 'unknown'): Verdict => ({ ok: false, reason, peer, envelope, digest: null, fp: opened.senderFingerprint });
  if (opened.contentType === READ_SYNC_CONTENT_TYPE) {
    const r = judgeReadSync(opened, d.keys, self);
    return r.ok ? { ok: true, kind: 'read-sync', read: r.read } : fail(r.reason, r.peer);
  }
  let parsed: { kind: 'message'; content: MessageContent } | { kind: 'receipt'; receipt: ReceiptContent };
  if (opened.contentType === MESSAGE_CONTENT_TYPE) {
    const content = parseContent(opened.body);
    if (!content) return fail('invalid-content');
    parsed = { kind: 'message', content };
  } else if (opened.contentType === RECEIPT_CONTENT_TYPE) {
    const receipt = parseReceipt(opened.body);
    if (!receipt) return fail('invalid-content');
    parsed = { kind: 'receipt', receipt };
  } else return fail('not-a-message');
  const claimed = parsed.kind === 'message' ? parsed.content.from.userid : parsed.receipt.from.userid;
  const ok = (sender: SenderState, peer: string): Verdict =>
    parsed.kind === 'message' ? { ok: true, kind: 'message', opened, content: parsed.content, sender, peer, envelope, digest } : { ok: true, kind: 'receipt', opened, receipt: parsed.receipt, sender, peer };
  const matches = (c: Contact): boolean => {
    let known = senders.keys.get(c.userId);
    if (!known) {
      let spk: Uint8Array | null = null;
      try {
        spk = c.did ? publicKeyFromDid(c.did) : null;
      } catch {
        spk = null;
      }
      const fps = new Set(listContactKeys(d.db, c.userId).map((k) => k.fingerprint).filter((f): f is string => f !== null));
      fps.add(c.fingerprint);
      // Keys the contact's identity signed away from: what they sealed before rotating is still theirs.
      for (const old of rotatedFingerprints(d.db, c.userId)) fps.add(old);
      known = { spk, fps };
      senders.keys.set(c.userId, known);
    }
    return known.spk !== null && Buffer.from(known.spk).equals(Buffer.from(opened.senderPublicKey)) && known.fps.has(opened.senderFingerprint);
  };
  const contactOf = (userId: string): Contact | null => {
    if (!senders.contacts.has(userId)) senders.contacts.set(userId, getContact(d.db, userId));
    return senders.contacts.get(userId) ?? null;
  };
  let contact = contactOf(claimed);
  if (!contact || !matches(contact)) {
    // Unknown sender, or the key differs from what we have: ask the directory once per sync.
    const online = d.online ? d.online() : true;
    if (d.conn && online && !senders.lookedUp.has(claimed)) {
      const fresh = await lookupContact(d.conn, d.db, claimed, d.now()).then((r) => r.contact, () => null);
      senders.lookedUp.set(claimed, fresh);
      // The lookup may have changed the contact and its keys.
      senders.keys.delete(claimed);
      senders.contacts.delete(claimed);
    }
    contact = contactOf(claimed);
    if (!contact) return ok('unknown', `unknown:${opened.senderFingerprint.slice(0, 16)}`);
    if (!matches(contact)) return fail('sender-mismatch', contact.userId);
  }
  const sender: SenderState = contact.keyChanged ? 'key-changed' : contact.verified ? 'verified' : 'unverified';
  return ok(sender, contact.userId);
}

async function storePart(d: OpenDeps, raw: RawMessage, report: OpenReport): Promise<void> {
  const part = parsePart(raw.body);
  const att = part ? getAttachment(d.db, part.header.attachmentId) : null;
  const consistent = part && (!att || (att.parts === part.header.count && att.partSize === part.header.partSize && att.state === 'partial'));
  if (part && consistent) {
    await writePart(d.profileDir, part.header, part.data);
    d.db.transaction(() => {
      addPart(d.db, part.header.attachmentId, part.header.index);
      deleteRaw(d.db, raw.serverId);
    })();
    report.parts++;
    await maybeComplete(d, part.header.attachmentId);
  } else {
    // Not a part of ours (or of an attachment already complete): nothing to keep.
    deleteRaw(d.db, raw.serverId);
  }
}

async function maybeComplete(d: OpenDeps, id: string): Promise<void> {
  const att = getAttachment(d.db, id);
  if (!att || att.state !== 'partial' || countParts(d.db, id) < att.parts) return;
  const problem = await completeIncoming(d.profileDir, id, { sealedSize: att.sealedSize, sealedSha256: att.sealedHash });
  setAttachmentState(d.db, id, problem ? 'failed' : 'complete', problem);
}

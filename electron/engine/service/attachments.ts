/**
 * Attachments from and to the UI, without a path ever coming from the page.
 *
 * Sending: the page reads the file the user picked (File API) and uploads it in
 * chunks (`attachments:stageBegin/stageChunk/stageEnd`). Staged files live in
 * `<profile>/attachments/staging/<pid>/<stageId>.stage` (folders 0700, files
 * 0600), size-capped per file and in total. They hold plaintext, so they are
 * removed as soon as the message is sealed (messages:send), on cancel, when the
 * keys lock, after {@link STAGE_IDLE_MS} without a chunk, and, left over from a
 * crash, when the next engine opens the profile.
 *
 * Saving: `attachments:read` opens the sealed attachment (streamed file envelope:
 * every record authenticated, the sender's signature checked, the plaintext's
 * SHA-256 compared with the signed message) and hands it out in chunks. The
 * plaintext is held in memory only: openFile writes it to a 0600 file in the
 * staging folder, which is read and removed at once. An opened attachment is
 * dropped after its last chunk, when the keys lock, or after idle time.
 * @module
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { mkdir, open as openFh, readFile, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ATTACHMENT_LIMITS } from '../../../shared/contract-messaging.js';
import { ResultCode } from '../../../shared/codes.js';
import { openFile } from '../crypto/file-envelope.js';
import { attachmentsDir, sealedPath } from '../sync/attachments.js';
import { ServiceError } from './results.js';
import type { UnlockedKeys } from './unlocked-keys.js';
import { withOwnKey } from './own-keys.js';

/** A staged file not touched for this long is removed. */
export const STAGE_IDLE_MS = 10 * 60_000;
/** An opened attachment not read for this long is dropped from memory. */
export const OPENED_IDLE_MS = 2 * 60_000;
/** Opened attachments held at once (bytes): more waits for one to finish or expire. */
const MAX_OPENED_BYTES = 2 * ATTACHMENT_LIMITS.maxFileBytes;
const SWEEP_MS = 15_000;

interface Staged {
  id: string;
  name: string;
  contentType?: string;
  size: number;
  received: number;
  nextIndex: number;
  hash: Hash;
  sha256: string | null;
  file: string;
  fh: FileHandle | null;
  touchedAt: number;
  /** Serialises chunk writes of one file. */
  queue: Promise<unknown>;
}

interface Opened {
  key: string;
  name: string;
  contentType: string;
  sha256: string;
  bytes: Buffer;
  touchedAt: number;
}

export interface StagedFile {
  path: string;
  name: string;
  contentType?: string;
}

export interface AttachmentToOpen {
  id: string;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  /** The sender's fingerprint the signature must carry. */
  expectedSender: string | undefined;
}

export interface AttachmentDeps {
  profileDir: string;
  now(): number;
  /** The keys (touching the idle timer), or Locked. */
  unlocked(): UnlockedKeys;
  /** True while the keys are unlocked (no touch). */
  isUnlocked(): boolean;
}

const stagingRoot = (profileDir: string): string => path.join(attachmentsDir(profileDir), 'staging');

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/**
 * Removes what earlier engines staged and did not clean up (a crash, a kill).
 * Folders of other live processes (the CLI and the app on one profile) stay.
 */
export function removeLeftoverStaging(profileDir: string): void {
  const root = stagingRoot(profileDir);
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return;
  }
  for (const name of entries) {
    const pid = /^\d+$/.test(name) ? Number(name) : NaN;
    if (Number.isInteger(pid) && pid !== process.pid && pidAlive(pid)) continue;
    rmSync(path.join(root, name), { recursive: true, force: true });
  }
}

export class Attachments {
  private readonly staged = new Map<string, Staged>();
  private readonly opened = new Map<string, Opened>();
  private readonly opening = new Map<string, Promise<Opened>>();
  private timer: NodeJS.Timeout | null = null;
  private readonly dir: string;

  constructor(private readonly d: AttachmentDeps) {
    this.dir = path.join(stagingRoot(d.profileDir), String(process.pid));
    removeLeftoverStaging(d.profileDir);
  }

  private async ensureDir(): Promise<void> {
    await mkdir(stagingRoot(this.d.profileDir), { recursive: true, mode: 0o700 });
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  /** A sweep every few seconds while anything is staged or opened; none otherwise. */
  private schedule(): void {
    if (this.timer || (this.staged.size === 0 && this.opened.size === 0)) return;
    this.timer = setInterval(() => void this.sweep().catch(() => undefined), SWEEP_MS);
    this.timer.unref();
  }

  /** Drops everything when the keys are locked, and what sat idle too long. */
  async sweep(): Promise<void> {
    let locked: boolean;
    try {
      locked = !this.d.isUnlocked();
    } catch {
      locked = true; // the engine closed
    }
    const now = this.d.now();
    for (const s of [...this.staged.values()]) {
      if (locked || now - s.touchedAt > STAGE_IDLE_MS) await this.remove(s.id);
    }
    for (const o of [...this.opened.values()]) {
      if (locked || now - o.touchedAt > OPENED_IDLE_MS) this.drop(o.key);
    }
    if (this.staged.size === 0 && this.opened.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private get stagedBytes(): number {
    let n = 0;
    for (const s of this.staged.values()) n += s.size;
    return n;
  }

  async stageBegin(input: { name: string; size: number; contentType?: string }): Promise<{ stageId: string; chunkBytes: number }> {
    this.d.unlocked();
    await this.sweep();
    if (this.staged.size >= ATTACHMENT_LIMITS.maxFiles) {
      throw new ServiceError(ResultCode.InvalidState, `At most ${ATTACHMENT_LIMITS.maxFiles} files can be attached at once.`);
    }
    if (this.stagedBytes + input.size > ATTACHMENT_LIMITS.maxStagedBytes) {
      throw new ServiceError(ResultCode.InvalidParameter, `Attachments are limited to ${ATTACHMENT_LIMITS.maxStagedBytes / 1024 / 1024} MiB together.`);
    }
    await this.ensureDir();
    const id = randomBytes(16).toString('hex');
    const file = path.join(this.dir, `${id}.stage`);
    const fh = await openFh(file, 'wx', 0o600);
    this.staged.set(id, {
      id,
      name: input.name,
      ...(input.contentType && { contentType: input.contentType }),
      size: input.size,
      received: 0,
      nextIndex: 0,
      hash: createHash('sha256'),
      sha256: null,
      file,
      fh,
      touchedAt: this.d.now(),
      queue: Promise.resolve(),
    });
    this.schedule();
    return { stageId: id, chunkBytes: ATTACHMENT_LIMITS.chunkBytes };
  }

  private stagedOr404(id: string): Staged {
    const s = this.staged.get(id);
    if (!s) throw new ServiceError(ResultCode.NotFound, 'That attachment is no longer staged (sent, removed, or the app locked): add it again.');
    return s;
  }

  async stageChunk(input: { stageId: string; index: number; data: string }): Promise<{ received: number; size: number }> {
    this.d.unlocked();
    const s = this.stagedOr404(input.stageId);
    const run = s.queue.then(async () => {
      if (input.index < s.nextIndex) return { received: s.received, size: s.size };
      if (input.index > s.nextIndex || !s.fh) throw new ServiceError(ResultCode.InvalidState, `Chunk ${input.index} out of order (expected ${s.nextIndex}).`);
      const bytes = Buffer.from(input.data, 'base64');
      if (bytes.length === 0 || bytes.length > ATTACHMENT_LIMITS.chunkBytes) throw new ServiceError(ResultCode.InvalidParameter, `A chunk is 1 to ${ATTACHMENT_LIMITS.chunkBytes} bytes.`);
      if (s.received + bytes.length > s.size) throw new ServiceError(ResultCode.InvalidParameter, 'More bytes than the file was said to have.');
      await s.fh.write(bytes, 0, bytes.length, s.received);
      s.hash.update(bytes);
      bytes.fill(0);
      s.received += bytes.length;
      s.nextIndex++;
      s.touchedAt = this.d.now();
      return { received: s.received, size: s.size };
    });
    s.queue = run.catch(() => undefined);
    return run;
  }

  async stageEnd(input: { stageId: string }): Promise<{ stageId: string; name: string; size: number; sha256: string }> {
    this.d.unlocked();
    const s = this.stagedOr404(input.stageId);
    await s.queue;
    if (s.sha256 === null) {
      if (s.received !== s.size) throw new ServiceError(ResultCode.InvalidState, `${s.received} of ${s.size} bytes arrived: send the rest first.`);
      await s.fh?.sync();
      await s.fh?.close();
      s.fh = null;
      s.sha256 = s.hash.digest('hex');
    }
    s.touchedAt = this.d.now();
    return { stageId: s.id, name: s.name, size: s.size, sha256: s.sha256 };
  }

  async stageCancel(input: { stageId: string }): Promise<{ removed: boolean }> {
    return { removed: await this.remove(input.stageId) };
  }

  private async remove(id: string): Promise<boolean> {
    const s = this.staged.get(id);
    if (!s) return false;
    this.staged.delete(id);
    await s.queue;
    await s.fh?.close().catch(() => undefined);
    s.fh = null;
    await rm(s.file, { force: true });
    return true;
  }

  /** The staged, complete files for messages:send (each once). @throws NotFound, InvalidState */
  files(ids: string[]): StagedFile[] {
    if (new Set(ids).size !== ids.length) throw new ServiceError(ResultCode.InvalidParameter, 'The same attachment is listed twice.');
    return ids.map((id) => {
      const s = this.stagedOr404(id);
      if (s.sha256 === null) throw new ServiceError(ResultCode.InvalidState, `${s.name} is still uploading.`);
      return { path: s.file, name: s.name, ...(s.contentType && { contentType: s.contentType }) };
    });
  }

  /** After the message is sealed: the staged plaintext goes. */
  async release(ids: string[]): Promise<void> {
    for (const id of ids) await this.remove(id);
  }

  private drop(key: string): void {
    const o = this.opened.get(key);
    if (!o) return;
    o.bytes.fill(0);
    this.opened.delete(key);
  }

  private async open(key: string, a: AttachmentToOpen, keys: UnlockedKeys): Promise<Opened> {
    if (a.size > ATTACHMENT_LIMITS.maxFileBytes) {
      throw new ServiceError(ResultCode.InvalidParameter, `${a.name} is larger than ${ATTACHMENT_LIMITS.maxFileBytes / 1024 / 1024} MiB: save it with \`sealpost read --save-attachments\`.`);
    }
    await this.sweep();
    let held = 0;
    for (const o of this.opened.values()) held += o.bytes.length;
    if (held + a.size > MAX_OPENED_BYTES) throw new ServiceError(ResultCode.InvalidState, 'Other attachments are being saved: try again when they are done.');
    await this.ensureDir();
    const out = path.join(this.dir, `${randomBytes(16).toString('hex')}.open`);
    let bytes: Buffer;
    try {
      const opened = await withOwnKey(keys, (k) => openFile(sealedPath(this.d.profileDir, a.id), out, {
        privateKey: k.rsaPrivateKey,
        keyId: k.keyId,
        maxOutputBytes: ATTACHMENT_LIMITS.maxFileBytes,
        ...(a.expectedSender && { expectedSender: { fingerprint: a.expectedSender } }),
      }));
      bytes = await readFile(out);
      if (opened.sha256 !== a.sha256 || opened.bytes !== a.size || createHash('sha256').update(bytes).digest('hex') !== a.sha256) {
        bytes.fill(0);
        throw new ServiceError(ResultCode.Tampered, `Attachment ${a.name} does not match its message.`);
      }
    } finally {
      await rm(out, { force: true });
    }
    const o: Opened = { key, name: a.name, contentType: a.contentType, sha256: a.sha256, bytes, touchedAt: this.d.now() };
    this.opened.set(key, o);
    this.schedule();
    return o;
  }

  /**
   * One chunk of an attachment's checked plaintext. `resolve` finds the
   * attachment (and checks the message may be opened) on the first call.
   */
  async read(
    input: { messageId: number; attachmentId: string; offset: number },
    resolve: () => AttachmentToOpen,
  ): Promise<{ name: string; contentType: string; size: number; sha256: string; offset: number; data: string; done: boolean }> {
    const keys = this.d.unlocked();
    const key = `${input.messageId}:${input.attachmentId}`;
    let o = this.opened.get(key);
    if (!o || input.offset === 0) {
      // A read from the start checks the message again (it may have been rejected or changed since).
      const a = resolve();
      if (o) this.drop(key);
      let pending = this.opening.get(key);
      if (!pending) {
        pending = this.open(key, a, keys).finally(() => this.opening.delete(key));
        this.opening.set(key, pending);
      }
      o = await pending;
    }
    if (input.offset > o.bytes.length) throw new ServiceError(ResultCode.InvalidParameter, `Offset ${input.offset} is past the end (${o.bytes.length} bytes).`);
    o.touchedAt = this.d.now();
    const end = Math.min(o.bytes.length, input.offset + ATTACHMENT_LIMITS.chunkBytes);
    const data = o.bytes.subarray(input.offset, end).toString('base64');
    const done = end === o.bytes.length;
    const value = { name: o.name, contentType: o.contentType, size: o.bytes.length, sha256: o.sha256, offset: input.offset, data, done };
    if (done) this.drop(key);
    return value;
  }
}

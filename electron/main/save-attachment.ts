/**
 * "Save" and "Open folder" for an attachment in Electron, main's side. Plain
 * Node: electron/main/desktop.ts binds the system's save dialog and file
 * manager to it, so this part runs (and is tested) without Electron.
 *
 * The user picks the place in the save dialog; the page only names the
 * attachment (ids, and its name to suggest). The bytes come from the engine in
 * this process through attachments:read — the call the page uses, so the same
 * checks hold (not a rejected message, complete, the sender's signature and
 * the signed SHA-256, the size limit) — and are checked again here (offsets,
 * size, SHA-256) while they go to a temporary file beside the target (created
 * exclusively, 0600). Only when everything matched is it renamed onto the
 * target: a failed, cancelled or tampered save never leaves a partial file
 * under the chosen name. The saved file is remembered under a random id, which
 * is all the page gets back to ask for "Open folder" with.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import { ResultCode, type Result } from '../../shared/codes.js';
import type { Handlers } from '../../shared/contract.js';
import type { DesktopContract, DesktopHandlers, DesktopOutput } from '../../shared/contract-desktop.js';
import { ATTACHMENT_LIMITS } from '../../shared/contract-messaging.js';

type SaveInput = z.output<DesktopContract['desktop:saveAttachment']['input']>;
type ShowInput = z.output<DesktopContract['desktop:showSaved']['input']>;

/** Files saved in this run, by the random id the page got back. Bounded: the oldest are forgotten (Open folder then says to save again). */
export class SavedFiles {
  private readonly files = new Map<string, string>();

  constructor(private readonly max = 200) {}

  remember(file: string): string {
    const id = randomBytes(16).toString('hex');
    this.files.set(id, file);
    for (const oldest of this.files.keys()) {
      if (this.files.size <= this.max) break;
      this.files.delete(oldest);
    }
    return id;
  }

  pathOf(id: string): string | null {
    return this.files.get(id) ?? null;
  }
}

/**
 * What the save dialog returned, checked before anything is written: an
 * absolute path naming a file (not ending in a separator, not '.' or '..'),
 * without NUL; else null.
 */
export function checkSavePath(chosen: unknown, paths: Pick<typeof path, 'isAbsolute' | 'basename' | 'normalize' | 'sep'> = path): string | null {
  if (typeof chosen !== 'string' || chosen.length === 0 || chosen.length > 4096 || chosen.includes('\0')) return null;
  if (!paths.isAbsolute(chosen) || /[\\/]$/.test(chosen)) return null;
  const name = paths.basename(chosen);
  if (name === '' || name === '.' || name === '..') return null;
  return paths.normalize(chosen);
}

const FS_REASONS: Record<string, string> = {
  ENOENT: 'the folder does not exist (any more)',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the disk is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EISDIR: 'a folder has that name',
  ENOTDIR: 'part of the path is not a folder',
  ENAMETOOLONG: 'the name is too long',
};

/** A file-system error as a result naming the folder and the reason (details.kind 'fs' for the page's words). */
export function fsFailure(error: unknown, folder: string): Result<never> {
  const code = (error as NodeJS.ErrnoException)?.code;
  const reason = (typeof code === 'string' && FS_REASONS[code]) || `the file system refused (${typeof code === 'string' ? code : error instanceof Error ? error.name : 'error'})`;
  return { code: ResultCode.Failed, message: `Cannot save in ${folder}: ${reason}.`, details: { kind: 'fs', reason } };
}

const tampered = (why: string): Result<never> => ({ code: ResultCode.Tampered, message: `The attachment's bytes do not match its message (${why}); nothing was saved.` });

async function writeAll(file: FileHandle, bytes: Buffer): Promise<void> {
  for (let at = 0; at < bytes.length; ) at += (await file.write(bytes, at, bytes.length - at)).bytesWritten;
}

/** Copies the attachment's checked bytes from the engine into `file`; the number of bytes, or why not. */
async function copyChecked(read: Handlers['attachments:read'], input: SaveInput, file: FileHandle): Promise<Result<number>> {
  const hash = createHash('sha256');
  for (let offset = 0; ; ) {
    const r = await read({ messageId: input.messageId, attachmentId: input.attachmentId, offset });
    if (r.code !== 0) return r;
    const c = r.value;
    // The suggestion in the dialog was the page's: it must have been this attachment's own name.
    if (c.name !== input.name) return { code: ResultCode.InvalidParameter, message: 'That is not the name of this attachment.' };
    const bytes = Buffer.from(c.data, 'base64');
    if (c.offset !== offset || bytes.length > ATTACHMENT_LIMITS.chunkBytes || offset + bytes.length > c.size) return tampered('a chunk out of place');
    if (bytes.length === 0 && !c.done) return tampered('an empty chunk before the end');
    hash.update(bytes);
    await writeAll(file, bytes);
    offset += bytes.length;
    if (c.done) {
      if (offset !== c.size) return tampered('size');
      if (hash.digest('hex') !== c.sha256) return tampered('SHA-256');
      return { code: 0, value: offset };
    }
  }
}

export interface SaveDeps {
  /** The engine's attachments:read handler (in this process). */
  read: Handlers['attachments:read'];
  /** The system's save dialog with `suggestedName`: the chosen path, or null when the user cancelled. */
  choosePath: (suggestedName: string) => Promise<string | null>;
  saved: SavedFiles;
}

/** desktop:saveAttachment: dialog, checked copy beside the target, rename onto it. */
export async function saveAttachment(deps: SaveDeps, input: SaveInput): Promise<Result<DesktopOutput<'desktop:saveAttachment'>>> {
  const chosen = await deps.choosePath(input.name);
  if (chosen === null) return { code: 0, value: { saved: false } };
  const target = checkSavePath(chosen);
  if (!target) return { code: ResultCode.InvalidParameter, message: 'The save dialog gave a place that is not a file path; nothing was saved.' };
  const folder = path.dirname(target);
  // A fixed-length name: the target's own name may already be as long as the file system allows.
  const temp = path.join(folder, `.sealpost-${randomBytes(8).toString('hex')}.part`);
  let file: FileHandle | null = null;
  let done = false;
  try {
    file = await open(temp, 'wx', 0o600);
    const copied = await copyChecked(deps.read, input, file);
    if (copied.code !== 0) return copied;
    await file.sync();
    await file.close();
    file = null;
    // The dialog asked before replacing an existing file.
    await rename(temp, target);
    done = true;
    return { code: 0, value: { saved: true, saveId: deps.saved.remember(target), name: path.basename(target), bytes: copied.value } };
  } catch (error) {
    return fsFailure(error, folder);
  } finally {
    await file?.close().catch(() => undefined);
    if (!done) await rm(temp, { force: true }).catch(() => undefined);
  }
}

export interface ShowDeps {
  saved: SavedFiles;
  /** The file manager, with the file selected (shell.showItemInFolder). */
  reveal: (file: string) => void;
}

/** desktop:showSaved: only files this process saved, and only while they are still there. */
export async function showSaved(deps: ShowDeps, input: ShowInput): Promise<Result<DesktopOutput<'desktop:showSaved'>>> {
  const file = deps.saved.pathOf(input.saveId);
  if (file === null) return { code: ResultCode.NotFound, message: 'Sealpost does not know that saved file (any more): save it again.' };
  if (!existsSync(file)) return { code: ResultCode.NotFound, message: `${path.basename(file)} is no longer in ${path.dirname(file)}: it was moved or deleted.` };
  deps.reveal(file);
  return { code: 0, value: { shown: true } };
}

/** What the shell lends: the engine's read, and the system's save dialog and file manager (desktop.ts passes Electron's). */
export interface ShellParts {
  read: SaveDeps['read'];
  choosePath: SaveDeps['choosePath'];
  reveal: ShowDeps['reveal'];
}

/** Main's handlers for the desktop channels, sharing one record of saved files. */
export function desktopCalls(shell: ShellParts): DesktopHandlers {
  const saved = new SavedFiles();
  return {
    'desktop:saveAttachment': (input) => saveAttachment({ read: shell.read, choosePath: shell.choosePath, saved }, input),
    'desktop:showSaved': (input) => showSaved({ saved, reveal: shell.reveal }, input),
  };
}

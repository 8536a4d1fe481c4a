/**
 * Sealing and opening for the CLI (`sealpost seal` / `open`): files are streamed
 * through the file envelope (docs/format.md §11), so a 1 GiB file never sits in
 * memory; bytes from a pipe use the message envelope (§9, 64 MiB cap). Opening
 * tells the two apart by their magic. Paths come from the command line only; the
 * renderer has no path-taking call.
 * @module
 */
import { open as openFh } from 'node:fs/promises';
import { sealEnvelope, openEnvelope, DEFAULT_MAX_MESSAGE_BYTES } from '../crypto/envelope.js';
import { InvalidInputError } from '../crypto/errors.js';
import { sealFile, openFile, type ProgressCallback, type SealedFileInfo } from '../crypto/file-envelope.js';
import type { AuditAction, JsonValue } from '../vault/audit.js';
import type { PublicIdentity } from './profile.js';
import type { UnlockedKeys } from './unlocked-keys.js';
import { withOwnKey } from './own-keys.js';

export interface FileCryptoDeps {
  identity(): PublicIdentity;
  unlocked(): UnlockedKeys;
  record(action: AuditAction, target: string | null, result: string, details?: Record<string, JsonValue> | null): Promise<void>;
}

export interface OpenedInfo {
  senderFingerprint: string;
  sentAt: number;
  contentType: string;
  fileName?: string;
  bytes: number;
  /** True when the sender is this identity. */
  fromSelf: boolean;
}

const textDecoder = new TextDecoder();

/** 'file' (§11), 'message' (§9) or null, from the first four bytes. */
export function sealedKind(head: Uint8Array): 'file' | 'message' | null {
  const magic = textDecoder.decode(head.subarray(0, 4));
  return magic === 'SPFL' ? 'file' : magic === 'SPEN' ? 'message' : null;
}

export class FileCrypto {
  constructor(private readonly deps: FileCryptoDeps) {}

  /** Seals a file to the recipients' RSA public keys (PEM); we are added so we can read our copy. */
  async sealFile(inPath: string, outPath: string, recipientPems: readonly string[], onProgress?: ProgressCallback): Promise<SealedFileInfo> {
    const keys = this.deps.unlocked();
    const recipients = this.withSelf(recipientPems);
    const info = await sealFile(inPath, outPath, { sender: keys.sender, recipients, ...(onProgress && { onProgress }) });
    await this.deps.record('encrypt', null, 'ok', { kind: 'file', recipients: recipients.length, bytes: info.bytes });
    return info;
  }

  /** Seals bytes (at most 64 MiB) as a message envelope. */
  async sealBytes(body: Uint8Array, recipientPems: readonly string[]): Promise<Uint8Array> {
    const keys = this.deps.unlocked();
    if (body.length > DEFAULT_MAX_MESSAGE_BYTES) throw new InvalidInputError('input over 64 MiB: give a file path to stream it');
    const recipients = this.withSelf(recipientPems);
    const sealed = sealEnvelope({ body, sender: keys.sender, recipients });
    await this.deps.record('encrypt', null, 'ok', { kind: 'message', recipients: recipients.length, bytes: body.length });
    return sealed;
  }

  /** Opens a sealed file into `outPath` (written only once everything checked out). */
  async openFile(inPath: string, outPath: string, onProgress?: ProgressCallback): Promise<OpenedInfo> {
    const keys = this.deps.unlocked();
    const head = Buffer.alloc(4);
    const fh = await openFh(inPath, 'r');
    try {
      await fh.read(head, 0, 4, 0);
    } finally {
      await fh.close();
    }
    if (sealedKind(head) !== 'file') throw new InvalidInputError('not a sealed file (a piped message opens from standard input)');
    try {
      const opened = await withOwnKey(keys, (k) => openFile(inPath, outPath, { privateKey: k.rsaPrivateKey, keyId: k.keyId, ...(onProgress && { onProgress }) }));
      await this.deps.record('decrypt', null, 'ok', { kind: 'file', bytes: opened.bytes });
      return {
        senderFingerprint: opened.senderFingerprint,
        sentAt: opened.sentAt,
        contentType: opened.contentType,
        ...(opened.fileName !== undefined && { fileName: opened.fileName }),
        bytes: opened.bytes,
        fromSelf: opened.senderFingerprint === this.deps.identity().fingerprint,
      };
    } catch (e) {
      await this.deps.record('decrypt', null, 'failed', { kind: 'file' }).catch(() => undefined);
      throw e;
    }
  }

  /** Opens a message envelope held in memory. */
  async openBytes(sealed: Uint8Array): Promise<{ body: Uint8Array; info: OpenedInfo }> {
    const keys = this.deps.unlocked();
    if (sealedKind(sealed) !== 'message') throw new InvalidInputError('not a sealed message (sealed files open with a path and -o)');
    try {
      const opened = await withOwnKey(keys, (k) => openEnvelope(sealed, { privateKey: k.rsaPrivateKey, keyId: k.keyId }));
      await this.deps.record('decrypt', null, 'ok', { kind: 'message', bytes: opened.body.length });
      return {
        body: opened.body,
        info: {
          senderFingerprint: opened.senderFingerprint,
          sentAt: opened.sentAt,
          contentType: opened.contentType,
          ...(opened.fileName !== undefined && { fileName: opened.fileName }),
          bytes: opened.body.length,
          fromSelf: opened.senderFingerprint === this.deps.identity().fingerprint,
        },
      };
    } catch (e) {
      await this.deps.record('decrypt', null, 'failed', { kind: 'message' }).catch(() => undefined);
      throw e;
    }
  }

  private withSelf(recipientPems: readonly string[]): string[] {
    const own = this.deps.identity().rsaPublicPem;
    const norm = (p: string) => p.replace(/\s+/g, '');
    return recipientPems.some((p) => norm(p) === norm(own)) ? [...recipientPems] : [...recipientPems, own];
  }
}

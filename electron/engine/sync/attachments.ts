/**
 * Attachments travel as a streamed file envelope (docs/format.md §11) cut into
 * parts, because the key service takes bodies of a few MiB at most (16 MiB JSON
 * by default) and pages of up to 1000 messages: parts of {@link PART_SIZE} keep
 * any page of a pull a bounded size.
 *
 * One part on the wire (`encryptedmessage`, with `isfile: true`):
 *
 *     "SPPT" || 0x01 || attachmentId(16) || u32be(index) || u32be(count) || u32be(partSize) || bytes
 *
 * and `encryptionkey` = the 16-byte attachment id (the field is mandatory; the
 * part itself needs no key: it is a slice of an envelope that is already
 * encrypted and signed). A part proves nothing by itself: the signed message
 * names the SHA-256 of the whole sealed file, checked before the file is
 * kept, and opening the file checks every record and the sender's signature.
 *
 * Files live under `<profile>/attachments/`: `<id>.spfl` complete sealed
 * envelopes (ours to send, or received and checked), `<id>.partial` while parts
 * arrive. Neither holds plaintext; `read --save-attachments` opens them.
 * @module
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open as openFh, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

export const PART_MAGIC = 'SPPT';
export const PART_VERSION = 1;
export const PART_HEADER = 4 + 1 + 16 + 4 + 4 + 4;
/** 256 KiB: a 100 MiB file is 400 parts; a page of 100 parts is 25 MiB. */
export const PART_SIZE = 256 * 1024;

export const attachmentsDir = (profileDir: string): string => path.join(profileDir, 'attachments');
export const sealedPath = (profileDir: string, id: string): string => path.join(attachmentsDir(profileDir), `${id}.spfl`);
const partialPath = (profileDir: string, id: string): string => path.join(attachmentsDir(profileDir), `${id}.partial`);

export async function ensureAttachmentsDir(profileDir: string): Promise<void> {
  await mkdir(attachmentsDir(profileDir), { recursive: true, mode: 0o700 });
}

/** SHA-256 (hex) and size of a file, streamed. */
export async function hashFile(file: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

export interface PartHeader {
  attachmentId: string;
  index: number;
  count: number;
  partSize: number;
}

/** Reads part `index` of a sealed file and frames it for the wire. */
export async function readPart(file: string, id: string, index: number, count: number, partSize: number): Promise<Uint8Array> {
  const fh = await openFh(file, 'r');
  try {
    const out = Buffer.alloc(PART_HEADER + partSize);
    const n = (await fh.read(out, PART_HEADER, partSize, index * partSize)).bytesRead;
    out.write(PART_MAGIC, 0, 'latin1');
    out[4] = PART_VERSION;
    Buffer.from(id, 'hex').copy(out, 5);
    out.writeUInt32BE(index, 21);
    out.writeUInt32BE(count, 25);
    out.writeUInt32BE(partSize, 29);
    return out.subarray(0, PART_HEADER + n);
  } finally {
    await fh.close();
  }
}

/** Parses a part's header. @returns null when the bytes are not a part of this version */
export function parsePart(bytes: Uint8Array): { header: PartHeader; data: Uint8Array } | null {
  if (bytes.length < PART_HEADER) return null;
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.toString('latin1', 0, 4) !== PART_MAGIC || b[4] !== PART_VERSION) return null;
  const header = { attachmentId: b.toString('hex', 5, 21), index: b.readUInt32BE(21), count: b.readUInt32BE(25), partSize: b.readUInt32BE(29) };
  const data = bytes.subarray(PART_HEADER);
  const last = header.index === header.count - 1;
  const sizeOk = last ? data.length >= 1 && data.length <= header.partSize : data.length === header.partSize;
  if (header.count < 1 || header.index >= header.count || header.partSize < 1 || header.partSize > 16 * 1024 * 1024 || !sizeOk) return null;
  return { header, data };
}

/** Writes a received part at its offset and flushes it to disk before the caller records it. */
export async function writePart(profileDir: string, h: PartHeader, data: Uint8Array): Promise<void> {
  await ensureAttachmentsDir(profileDir);
  const fh = await openFh(partialPath(profileDir, h.attachmentId), 'a+', 0o600).then(async (f) => {
    await f.close();
    return openFh(partialPath(profileDir, h.attachmentId), 'r+');
  });
  try {
    await fh.write(data, 0, data.length, h.index * h.partSize);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * All parts are in: checks size and SHA-256 against the signed message and
 * moves the file into place. @returns null on success, else the reason (the partial file is deleted)
 */
export async function completeIncoming(profileDir: string, id: string, expect: { sealedSize: number; sealedSha256: string }): Promise<string | null> {
  const partial = partialPath(profileDir, id);
  const st = await stat(partial).catch(() => null);
  if (!st) return 'missing';
  const { sha256, size } = await hashFile(partial);
  if (size !== expect.sealedSize || sha256 !== expect.sealedSha256) {
    await rm(partial, { force: true });
    return 'tampered';
  }
  await rename(partial, sealedPath(profileDir, id));
  return null;
}

/**
 * The file envelope: a file sealed as a stream, memory bounded by the chunk size
 * (docs/format.md §File envelope). Chunked AEAD in the style of the STREAM
 * construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015, as in age/Tink):
 *
 *   file = header || keyTable || record_0 || ... || record_last
 *   header = "SPFL" || 0x01 || e || baseNonce(12) || u16be(n) || n × (keyId(16) || wrapDigest(16))
 *   S = gzip(plaintext) || meta || signature(64) || u32be(len(meta))   (the sealed stream)
 *   S is cut into chunks of C = 2^e bytes; the last chunk holds 1..C bytes.
 *   record_i = AES-256-GCM(K, nonce_i, AAD_i, chunk_i)
 *   nonce_i = baseNonce XOR (0x00000000 || u64be(i))
 *   AAD_i   = SHA-256(header) || (0x01 if last else 0x00)
 *
 * Reordering breaks nonce_i, truncation breaks the final flag, and the Ed25519
 * signature over the meta (which carries SHA-256 of the plaintext and of the header)
 * sits in the last chunk. Output goes to `outPath + ".partial"` and is renamed only
 * after everything has been authenticated and verified; on any failure it is deleted.
 * @module
 */
import { createHash, createCipheriv, createDecipheriv, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open as openFileHandle, rename, stat, unlink } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { concat, equalBytes, Reader, toHex, u32be, utf8, view, wipe } from './_bytes.js';
import { checkExpectedSender, type ExpectedSender, MAX_META_BYTES, type Sender, signMeta, SIGNATURE_LENGTH, verifyMeta } from './_meta.js';
import {
  encodeIndex,
  encodeKeyTable,
  MAX_RECIPIENTS,
  prepareOpenKey,
  readIndex,
  readKeyTable,
  unwrapFor,
  wrapForRecipients,
} from './_recipients.js';
import { newKey, newNonce, TAG_LENGTH } from './aead.js';
import {
  BadSignatureError,
  CryptoError,
  InvalidInputError,
  TamperedError,
  TruncatedError,
  UnsupportedVersionError,
} from './errors.js';
import type { PrivateKeyInput, PublicKeyInput } from './rsa.js';

export const FILE_MAGIC = 'SPFL';
export const FILE_VERSION = 1;
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
export const MIN_CHUNK_EXP = 12;
export const MAX_CHUNK_EXP = 22;
/** Default cap on the opened file's size (decompression-bomb guard). */
export const DEFAULT_MAX_FILE_BYTES = 8 * 1024 ** 3;
export const FILE_GZIP_LEVEL = 6;

const MAGIC = utf8(FILE_MAGIC);
const MAX_TRAILER = MAX_META_BYTES + SIGNATURE_LENGTH + 4;
const MAX_CHUNKS = 2 ** 32;

export type ProgressCallback = (processedBytes: number, totalBytes: number) => void;

export interface SealFileOptions {
  sender: Sender;
  recipients: readonly PublicKeyInput[];
  contentType?: string;
  /** Default: the input's base name. */
  fileName?: string;
  sentAt?: number;
  /** Power of two, 4 KiB .. 4 MiB. Default 64 KiB. */
  chunkSize?: number;
  /** Called with plaintext bytes read so far and the input's size. */
  onProgress?: ProgressCallback;
}

export interface OpenFileOptions {
  privateKey: PrivateKeyInput;
  keyId?: string | Uint8Array;
  publicKeyPem?: string;
  /** Cap on the plaintext written. Default {@link DEFAULT_MAX_FILE_BYTES}. */
  maxOutputBytes?: number;
  expectedSender?: ExpectedSender;
  /** Called with sealed bytes read so far and the sealed file's size. */
  onProgress?: ProgressCallback;
}

export interface SealedFileInfo {
  /** Plaintext bytes and their SHA-256 (hex). */
  bytes: number;
  sha256: string;
  /** Size of the sealed file. */
  sealedBytes: number;
}

export interface OpenedFile {
  contentType: string;
  fileName?: string;
  senderFingerprint: string;
  senderPublicKey: Uint8Array;
  sentAt: number;
  recipients: string[];
  bytes: number;
  sha256: string;
}

/** FIFO of byte chunks with exact-size takes (copies only when a take spans chunks). */
class ByteQueue {
  private parts: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    if (b.length) {
      this.parts.push(b);
      this.length += b.length;
    }
  }
  take(n: number): Buffer {
    const first = this.parts[0];
    let out: Buffer;
    if (first && first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.parts.shift();
      else this.parts[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let o = 0;
      while (o < n) {
        const p = this.parts[0]!;
        const k = Math.min(p.length, n - o);
        p.copy(out, o, 0, k);
        o += k;
        if (k === p.length) this.parts.shift();
        else this.parts[0] = p.subarray(k);
      }
    }
    this.length -= n;
    return out;
  }
}

function chunkNonce(base: Uint8Array, i: number): Buffer {
  const n = Buffer.from(base);
  n.writeBigUInt64BE(n.readBigUInt64BE(4) ^ BigInt(i), 4);
  return n;
}

function chunkAad(headerDigest: Uint8Array, final: boolean): Buffer {
  const a = Buffer.alloc(33);
  a.set(headerDigest);
  a[32] = final ? 1 : 0;
  return a;
}

function chunkExponent(size: number | undefined): number {
  const s = size ?? DEFAULT_CHUNK_SIZE;
  const e = Math.log2(s);
  if (!Number.isInteger(e) || e < MIN_CHUNK_EXP || e > MAX_CHUNK_EXP) {
    throw new InvalidInputError('chunkSize must be a power of two from 4 KiB to 4 MiB');
  }
  return e;
}

async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

/**
 * Seals the file at `inPath` into `outPath` (via `outPath.partial`, renamed at the end).
 * @throws {InvalidInputError} bad options, sender or recipients; inPath === outPath
 * @throws filesystem errors (ENOENT, EACCES, ...) as node:fs reports them
 */
export async function sealFile(inPath: string, outPath: string, opts: SealFileOptions): Promise<SealedFileInfo> {
  if (typeof inPath !== 'string' || typeof outPath !== 'string' || inPath === outPath) {
    throw new InvalidInputError('inPath and outPath must be different paths');
  }
  const e = chunkExponent(opts.chunkSize);
  const C = 2 ** e;
  const total = (await stat(inPath)).size;
  const sentAt = opts.sentAt ?? Date.now();
  const contentType = opts.contentType ?? 'application/octet-stream';
  const fileName = opts.fileName ?? basename(inPath);
  const key = newKey();
  const partial = `${outPath}.partial`;
  try {
    const entries = wrapForRecipients(opts.recipients, key);
    // Validate what the signature will carry before any byte is written.
    signMeta('file', opts.sender, {
      contentType,
      fileName,
      sentAt,
      recipients: [],
      bodyHash: new Uint8Array(32),
      bodyLength: 0,
    });
    const baseNonce = newNonce();
    const header = concat(MAGIC, Uint8Array.of(FILE_VERSION, e), baseNonce, encodeIndex(entries));
    const headerDigest = view(createHash('sha256').update(header).digest());
    const prefix = Buffer.from(concat(header, encodeKeyTable(entries)));

    const hash = createHash('sha256');
    let read = 0;
    let written = 0;
    async function* tap(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
      for await (const c of source) {
        hash.update(c);
        read += c.length;
        opts.onProgress?.(read, total);
        yield c;
      }
    }
    let plainHash = '';
    async function* encrypt(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
      yield prefix;
      written += prefix.length;
      const q = new ByteQueue();
      let i = 0;
      const seal = (chunk: Buffer, final: boolean): Buffer => {
        if (i >= MAX_CHUNKS) throw new InvalidInputError('file too large for this chunk size');
        const c = createCipheriv('aes-256-gcm', key, chunkNonce(baseNonce, i++), { authTagLength: TAG_LENGTH });
        c.setAAD(chunkAad(headerDigest, final));
        const out = Buffer.concat([c.update(chunk), c.final(), c.getAuthTag()]);
        written += out.length;
        return out;
      };
      for await (const c of source) {
        q.push(c);
        // Whatever follows (at least the trailer) keeps these chunks non-final.
        while (q.length >= C) yield seal(q.take(C), false);
      }
      const digest = hash.digest();
      plainHash = digest.toString('hex');
      const { meta, signature } = signMeta('file', opts.sender, {
        contentType,
        fileName,
        sentAt,
        recipients: entries.map((x) => x.keyId),
        bodyHash: digest,
        bodyLength: read,
        headerDigest,
      });
      q.push(Buffer.from(concat(meta, signature, u32be(meta.length))));
      while (q.length > C) yield seal(q.take(C), false);
      yield seal(q.take(q.length), true);
    }
    await pipeline(
      createReadStream(inPath, { highWaterMark: 64 * 1024 }),
      tap,
      createGzip({ level: FILE_GZIP_LEVEL }),
      encrypt,
      createWriteStream(partial, { mode: 0o600 }),
    );
    await rename(partial, outPath);
    return { bytes: read, sha256: plainHash, sealedBytes: written };
  } catch (err) {
    await removeQuietly(partial);
    throw err;
  } finally {
    wipe(key);
  }
}

/** Reads and parses the header and key table at the start of a sealed file. */
async function readHead(path: string): Promise<{
  header: Uint8Array;
  e: number;
  baseNonce: Uint8Array;
  entries: ReturnType<typeof readIndex>;
  recordsStart: number;
  size: number;
}> {
  const fh = await openFileHandle(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const readAt = async (pos: number, len: number): Promise<Uint8Array> => {
      const b = Buffer.alloc(Math.max(0, Math.min(len, size - pos)));
      if (b.length) await fh.read(b, 0, b.length, pos);
      return view(b);
    };
    const fixed = await readAt(0, 20);
    const r0 = new Reader(fixed, 'file header');
    if (fixed.length < 4 || !equalBytes(fixed.subarray(0, 4), MAGIC)) {
      if (fixed.length < 4) throw new TruncatedError('file header is truncated');
      throw new InvalidInputError('not a Sealpost file envelope');
    }
    r0.bytesN(4);
    const version = r0.u8();
    if (version !== FILE_VERSION) throw new UnsupportedVersionError(`file envelope version ${version} is not supported`);
    const e = r0.u8();
    if (e < MIN_CHUNK_EXP || e > MAX_CHUNK_EXP) throw new TamperedError('chunk size out of range');
    r0.bytesN(12);
    const n = r0.u16();
    if (n === 0 || n > MAX_RECIPIENTS) throw new TamperedError('recipient count out of range');
    // Index plus the largest possible key table.
    const head = await readAt(0, 20 + n * 32 + n * (2 + 2048));
    const r = new Reader(head, 'file header');
    r.bytesN(6);
    const baseNonce = r.bytesN(12);
    const entries = readIndex(r);
    const header = head.subarray(0, r.pos);
    readKeyTable(r, entries);
    return { header, e, baseNonce, entries, recordsStart: r.pos, size };
  } finally {
    await fh.close();
  }
}

/**
 * Opens a sealed file into `outPath` (via `outPath.partial`; renamed only after the
 * last chunk authenticated and the signature verified; deleted on any failure).
 * @throws {InvalidInputError} not a file envelope, bad key, output over the cap
 * @throws {UnsupportedVersionError} a newer version
 * @throws {TruncatedError} ends early (e.g. before its final chunk)
 * @throws {WrongKeyError} not addressed to this key
 * @throws {TamperedError} any modified, reordered or appended byte
 * @throws {BadSignatureError} signature wrong or not covering this file/header/recipients/sender
 * @throws filesystem errors as node:fs reports them
 */
export async function openFile(inPath: string, outPath: string, opts: OpenFileOptions): Promise<OpenedFile> {
  if (typeof inPath !== 'string' || typeof outPath !== 'string' || inPath === outPath) {
    throw new InvalidInputError('inPath and outPath must be different paths');
  }
  const cap = opts.maxOutputBytes ?? DEFAULT_MAX_FILE_BYTES;
  if (!Number.isSafeInteger(cap) || cap < 0) throw new InvalidInputError('maxOutputBytes must be a non-negative integer');
  const head = await readHead(inPath);
  const openKey = prepareOpenKey(opts);
  const key = unwrapFor(head.entries, openKey);
  const partial = `${outPath}.partial`;
  const C = 2 ** head.e;
  const R = C + TAG_LENGTH;
  const headerDigest = view(createHash('sha256').update(head.header).digest());
  let trailer: Buffer | undefined;
  let read = head.recordsStart;
  const hash: Hash = createHash('sha256');
  let outBytes = 0;
  try {
    async function* decrypt(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
      const records = new ByteQueue();
      const held = new ByteQueue(); // the last MAX_TRAILER plaintext bytes may be the trailer
      let i = 0;
      const openRecord = (rec: Buffer, final: boolean): Buffer | undefined => {
        const d = createDecipheriv('aes-256-gcm', key, chunkNonce(head.baseNonce, i), { authTagLength: TAG_LENGTH });
        d.setAuthTag(rec.subarray(rec.length - TAG_LENGTH));
        d.setAAD(chunkAad(headerDigest, final));
        const pt = d.update(rec.subarray(0, rec.length - TAG_LENGTH));
        try {
          d.final();
          return pt;
        } catch {
          return undefined;
        }
      };
      function* release(): Generator<Buffer> {
        if (held.length > MAX_TRAILER) yield held.take(held.length - MAX_TRAILER);
      }
      for await (const c of source) {
        read += c.length;
        opts.onProgress?.(read, head.size);
        records.push(c);
        while (records.length > R) {
          if (i >= MAX_CHUNKS) throw new TamperedError('too many chunks');
          const pt = openRecord(records.take(R), false);
          if (!pt) throw new TamperedError('file chunk failed authentication');
          i++;
          held.push(pt);
          yield* release();
        }
      }
      if (records.length < TAG_LENGTH + 1) throw new TruncatedError('file ends before its final chunk');
      const last = records.take(records.length);
      const pt = openRecord(last, true);
      if (!pt) {
        if (last.length === R && openRecord(last, false)) throw new TruncatedError('file ends before its final chunk');
        throw new TamperedError('file chunk failed authentication');
      }
      held.push(pt);
      // Split the tail: gzip bytes || meta || signature || u32be(len(meta)).
      const tail = held.take(held.length);
      if (tail.length < 4 + SIGNATURE_LENGTH) throw new BadSignatureError('signed metadata is malformed');
      const metaLen = tail.readUInt32BE(tail.length - 4);
      const tlen = metaLen + SIGNATURE_LENGTH + 4;
      if (metaLen > MAX_META_BYTES || tlen > tail.length) throw new BadSignatureError('signed metadata is malformed');
      trailer = tail.subarray(tail.length - tlen);
      if (tail.length > tlen) yield tail.subarray(0, tail.length - tlen);
    }
    async function* sink(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
      for await (const c of source) {
        outBytes += c.length;
        if (outBytes > cap) throw new InvalidInputError(`file inflates beyond ${cap} bytes`);
        hash.update(c);
        yield c;
      }
    }
    const gunzip = createGunzip();
    try {
      await pipeline(
        createReadStream(inPath, { start: head.recordsStart, highWaterMark: 64 * 1024 }),
        decrypt,
        gunzip,
        sink,
        createWriteStream(partial, { mode: 0o600 }),
      );
    } catch (err) {
      if (err instanceof CryptoError) throw err;
      if ((err as { code?: string }).code?.startsWith('Z_')) throw new TamperedError('payload is not valid gzip');
      throw err;
    }
    if (!trailer) throw new TruncatedError('file ends before its final chunk');
    const t: Buffer = trailer;
    const metaLen = t.readUInt32BE(t.length - 4);
    const m = verifyMeta('file', t.subarray(0, metaLen), t.subarray(metaLen, metaLen + SIGNATURE_LENGTH), {
      recipients: head.entries.map((x) => x.keyId),
      headerDigest,
    });
    const digest = hash.digest();
    if (m.bodyLength !== outBytes || !equalBytes(digest, m.bodyHash)) {
      throw new BadSignatureError('the file does not match the signed digest');
    }
    checkExpectedSender(m, opts.expectedSender);
    await rename(partial, outPath);
    return {
      contentType: m.contentType,
      ...(m.fileName !== undefined ? { fileName: m.fileName } : {}),
      senderFingerprint: m.senderFingerprint,
      senderPublicKey: m.senderPublicKey,
      sentAt: m.sentAt,
      recipients: m.recipients,
      bytes: outBytes,
      sha256: toHex(digest),
    };
  } catch (err) {
    await removeQuietly(partial);
    throw err;
  } finally {
    wipe(key);
  }
}

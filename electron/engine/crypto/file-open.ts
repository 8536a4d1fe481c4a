/**
 * Opening a file envelope as a stream (file-envelope.ts has the construction):
 * every record authenticated in order, the final flag checked, the output
 * size capped, and the signed meta verified before the output is renamed into
 * place. Memory is bounded by the chunk size.
 * @module
 */
import { createDecipheriv, createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open as openFileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { equalBytes, Reader, toHex, view, wipe } from './_bytes.js';
import { ByteQueue, chunkAad, chunkNonce, DEFAULT_MAX_FILE_BYTES, FILE_VERSION, MAGIC, MAX_CHUNK_EXP, MAX_CHUNKS, MAX_TRAILER, MIN_CHUNK_EXP, openPartialOutput, type PartialOutput, removeQuietly } from './_file-format.js';
import { checkExpectedSender, MAX_META_BYTES, SIGNATURE_LENGTH, signedSender, verifyMeta } from './_meta.js';
import { MAX_RECIPIENTS, prepareOpenKey, readIndex, readKeyTable, unwrapFor } from './_recipients.js';
import { TAG_LENGTH } from './aead.js';
import { BadSignatureError, CryptoError, InvalidInputError, TamperedError, TruncatedError, UnsupportedVersionError } from './errors.js';
import type { OpenedFile, OpenFileOptions } from './file-envelope-types.js';

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
  let output: PartialOutput | undefined;
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
    output = await openPartialOutput(partial);
    try {
      await pipeline(
        createReadStream(inPath, { start: head.recordsStart, highWaterMark: 64 * 1024 }),
        decrypt,
        gunzip,
        sink,
        output.stream,
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
    await output.commit(outPath);
    return { ...signedSender(m), bytes: outBytes, sha256: toHex(digest) };
  } catch (err) {
    // Not opened yet: a file left by an earlier crash may still be there.
    await (output ? output.discard() : removeQuietly(partial));
    throw err;
  } finally {
    wipe(key);
  }
}

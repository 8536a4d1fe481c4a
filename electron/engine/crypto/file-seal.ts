/**
 * Sealing a file into a file envelope as a stream (file-envelope.ts has the
 * construction): gzip, then chunked AES-256-GCM records, the signed meta in
 * the last chunk. Memory is bounded by the chunk size.
 * @module
 */
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { concat, u32be, view, wipe } from './_bytes.js';
import { ByteQueue, chunkAad, chunkExponent, chunkNonce, FILE_GZIP_LEVEL, FILE_VERSION, MAGIC, MAX_CHUNKS, openPartialOutput, type PartialOutput, removeQuietly } from './_file-format.js';
import { signMeta } from './_meta.js';
import { encodeIndex, encodeKeyTable, wrapForRecipients } from './_recipients.js';
import { newKey, newNonce, TAG_LENGTH } from './aead.js';
import { InvalidInputError } from './errors.js';
import type { SealedFileInfo, SealFileOptions } from './file-envelope-types.js';

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
  let output: PartialOutput | undefined;
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
    output = await openPartialOutput(partial);
    await pipeline(
      createReadStream(inPath, { highWaterMark: 64 * 1024 }),
      tap,
      createGzip({ level: FILE_GZIP_LEVEL }),
      encrypt,
      output.stream,
    );
    await output.commit(outPath);
    return { bytes: read, sha256: plainHash, sealedBytes: written };
  } catch (err) {
    // Not opened yet: a file left by an earlier crash may still be there.
    await (output ? output.discard() : removeQuietly(partial));
    throw err;
  } finally {
    wipe(key);
  }
}

/**
 * The file envelope's layout (docs/format.md §File envelope) as sealing and
 * opening both use it: format constants, per-chunk nonce and AAD, the chunk
 * size check, and an exact-size byte queue for cutting streams into records.
 * Internal to file-seal.ts and file-open.ts.
 * @module
 */
import type { WriteStream } from 'node:fs';
import { open as openFileHandle, rename, unlink } from 'node:fs/promises';
import { utf8 } from './_bytes.js';
import { MAX_META_BYTES, SIGNATURE_LENGTH } from './_meta.js';
import { InvalidInputError } from './errors.js';

export const FILE_MAGIC = 'SPFL';
export const FILE_VERSION = 1;
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
export const MIN_CHUNK_EXP = 12;
export const MAX_CHUNK_EXP = 22;
/** Default cap on the opened file's size (decompression-bomb guard). */
export const DEFAULT_MAX_FILE_BYTES = 8 * 1024 ** 3;
export const FILE_GZIP_LEVEL = 6;

export const MAGIC = utf8(FILE_MAGIC);
export const MAX_TRAILER = MAX_META_BYTES + SIGNATURE_LENGTH + 4;
export const MAX_CHUNKS = 2 ** 32;

/** FIFO of byte chunks with exact-size takes (copies only when a take spans chunks). */
export class ByteQueue {
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

/** nonce_i = baseNonce XOR (0x00000000 || u64be(i)). */
export function chunkNonce(base: Uint8Array, i: number): Buffer {
  const n = Buffer.from(base);
  n.writeBigUInt64BE(n.readBigUInt64BE(4) ^ BigInt(i), 4);
  return n;
}

/** AAD_i = SHA-256(header) || (0x01 if last else 0x00). */
export function chunkAad(headerDigest: Uint8Array, final: boolean): Buffer {
  const a = Buffer.alloc(33);
  a.set(headerDigest);
  a[32] = final ? 1 : 0;
  return a;
}

/** e of a chunk size C = 2^e. @throws {InvalidInputError} not a power of two from 4 KiB to 4 MiB */
export function chunkExponent(size: number | undefined): number {
  const s = size ?? DEFAULT_CHUNK_SIZE;
  const e = Math.log2(s);
  if (!Number.isInteger(e) || e < MIN_CHUNK_EXP || e > MAX_CHUNK_EXP) {
    throw new InvalidInputError('chunkSize must be a power of two from 4 KiB to 4 MiB');
  }
  return e;
}

/** Deletes a partial output; a file already gone is fine. */
export async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

/** A streamed output file that exists before the pipeline writing it starts. */
export interface PartialOutput {
  readonly stream: WriteStream;
  /** Waits for the written file to be closed, then moves it to `to`. */
  commit(to: string): Promise<void>;
  /** Stops writing, waits for the descriptor to close, and deletes the file. */
  discard(): Promise<void>;
}

/**
 * Opens `path` (mode 0600) before any byte flows. `createWriteStream(path)`
 * opens lazily, so a pipeline failing at its first chunk could reject before
 * the open completed: the removal then ran first and the late open left the
 * file behind. Here the file exists when the pipeline starts, and a failure
 * waits for the descriptor to close before the file is deleted.
 */
export async function openPartialOutput(path: string): Promise<PartialOutput> {
  const handle = await openFileHandle(path, 'w', 0o600);
  const stream = handle.createWriteStream();
  const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
  const settled = async () => {
    if (!stream.closed) await closed;
  };
  return {
    stream,
    async commit(to) {
      await settled();
      await rename(path, to);
    },
    async discard() {
      stream.destroy();
      await settled();
      await removeQuietly(path);
    },
  };
}

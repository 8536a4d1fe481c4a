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
 *
 * The parts: file-seal.ts (sealFile), file-open.ts (openFile), _file-format.ts
 * (constants, nonces, AAD, chunking) and file-envelope-types.ts (options, results).
 * @module
 */
export {
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MAX_FILE_BYTES,
  FILE_GZIP_LEVEL,
  FILE_MAGIC,
  FILE_VERSION,
  MAX_CHUNK_EXP,
  MIN_CHUNK_EXP,
} from './_file-format.js';
export type { OpenedFile, OpenFileOptions, ProgressCallback, SealedFileInfo, SealFileOptions } from './file-envelope-types.js';
export { openFile } from './file-open.js';
export { sealFile } from './file-seal.js';

/**
 * The file envelope's options and results (file-envelope.ts), in their own
 * module so sealing and opening share them without importing each other.
 * @module
 */
import type { ExpectedSender, Sender, SignedSender } from './_meta.js';
import type { PrivateKeyInput, PublicKeyInput } from './rsa.js';

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

export interface OpenedFile extends SignedSender {
  bytes: number;
  sha256: string;
}

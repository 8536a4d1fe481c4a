/**
 * Opening a batch of envelopes with one prepared key; shared by the worker
 * (open-worker.ts) and the pool's in-thread fallback. Results are plain data so
 * they cross postMessage: errors travel as { kind, message }.
 * @module
 */
import type { OpenKey } from './_recipients.js';
import { openEnvelope, type OpenedEnvelope } from './envelope.js';
import { type CryptoErrorKind, isCryptoError } from './errors.js';

export type BatchResult =
  | { ok: true; value: OpenedEnvelope }
  | { ok: false; kind: CryptoErrorKind | null; message: string };

export function openBatch(key: OpenKey, envelopes: readonly Uint8Array[], maxBodyBytes?: number): BatchResult[] {
  return envelopes.map((env) => {
    try {
      return {
        ok: true as const,
        value: openEnvelope(env, { privateKey: key.privateKey, keyId: key.keyId, ...(maxBodyBytes ? { maxBodyBytes } : {}) }),
      };
    } catch (e) {
      return isCryptoError(e)
        ? { ok: false as const, kind: e.kind, message: e.message }
        : { ok: false as const, kind: null, message: e instanceof Error ? e.message : String(e) };
    }
  });
}

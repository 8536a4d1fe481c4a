/** Shared fixtures for the crypto tests: paths, Wycheproof loading, cached keys. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fingerprint } from '../../../electron/engine/crypto/fingerprint.js';
import { identityFromSeed } from '../../../electron/engine/crypto/identity.js';
import { type EncryptionKeyPair, generateEncryptionKeyPair, publicKeySpkiDer } from '../../../electron/engine/crypto/rsa.js';
import type { Sender } from '../../../electron/engine/crypto/envelope.js';
import { isCryptoError } from '../../../electron/engine/crypto/errors.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** ../shared/vectors beside the checkout. */
export const vectorsDir = path.resolve(repoRoot, '../shared/vectors');

export function loadVectors<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(vectorsDir, name), 'utf8')) as T;
}

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** RSA key pairs generated once per test file (size does not matter for most tests). */
export async function rsaKeys(n: number, bits: 2048 | 3072 = 2048): Promise<EncryptionKeyPair[]> {
  return Promise.all(Array.from({ length: n }, () => generateEncryptionKeyPair(bits)));
}

/** A deterministic sender: seed filled with `byte`, fingerprint over `rsa`'s public key. */
export function senderFor(rsa: EncryptionKeyPair, byte = 1): Sender & { did: string } {
  const id = identityFromSeed(new Uint8Array(32).fill(byte));
  return { ...id, fingerprint: fingerprint(id.publicKey, publicKeySpkiDer(rsa.publicKeyPem)) };
}

export interface WycheproofFile<G> {
  algorithm: string;
  numberOfTests: number;
  testGroups: G[];
}

/** What a call throws, as the CryptoError kind ('no error' when it returns): for asserting refusals by kind. */
export function errorKind(fn: () => unknown): string {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return isCryptoError(e) ? e.kind : String(e);
  }
}

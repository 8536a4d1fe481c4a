/**
 * Server-side check of a signed encryption-key change (shared/key-change.ts,
 * docs/format.md §18), with @noble/curves: the server does not import electron/.
 *
 *   signature      = Ed25519(identity key, UTF-8(canonicalJson(statement without "signature")))
 *   newFingerprint = hex(SHA-256("sealpost-fp-v1" || 0x00 || ed25519Pub(32) || SPKI DER of newPublicKey))
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { canonicalJson } from '../../shared/canonical-json.js';
import { KeyChangeSchema, type KeyChange } from '../../shared/key-change.js';
import { ed25519KeyOfDid } from './delegation.js';
import { identityFingerprint } from './device-package.js';
import { KeyFormatError, parseRsaPublicKey } from './online.js';

/** Why a key change was refused: 'malformed' is the statement's own fault (400), 'not_signed' the signer's (403). */
export type KeyChangeCheck = { ok: true; change: KeyChange; publicKeyPem: string } | { ok: false; failure: 'malformed' | 'not_signed'; reason: string };

/** Shape, fingerprint and signature by the identity key given (base64url), which `did` must name. */
export function checkKeyChange(value: unknown, identityKey: string): KeyChangeCheck {
  const parsed = KeyChangeSchema.safeParse(value);
  if (!parsed.success) return { ok: false, failure: 'malformed', reason: 'malformed key change' };
  const change = parsed.data;
  const key = ed25519KeyOfDid(change.did);
  if (!key) return { ok: false, failure: 'malformed', reason: 'did names no Ed25519 key' };
  if (Buffer.from(key).toString('base64url') !== identityKey) return { ok: false, failure: 'not_signed', reason: "the key change names another identity than this user's" };
  let rsa;
  try {
    rsa = parseRsaPublicKey(change.newPublicKey);
  } catch (error) {
    if (error instanceof KeyFormatError) return { ok: false, failure: 'malformed', reason: `newPublicKey: ${error.message.replace('publickey ', '')}` };
    throw error;
  }
  if (identityFingerprint(key, rsa.spkiDer) !== change.newFingerprint) return { ok: false, failure: 'malformed', reason: 'newFingerprint does not match the identity key and newPublicKey' };
  if (change.oldFingerprint === change.newFingerprint) return { ok: false, failure: 'malformed', reason: 'the new key is the old key' };
  const { signature, ...unsigned } = change;
  let valid = false;
  try {
    valid = ed25519.verify(Buffer.from(signature, 'base64url'), new TextEncoder().encode(canonicalJson(unsigned)), key);
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, failure: 'not_signed', reason: "the key change is not signed by this user's identity key" };
  return { ok: true, change, publicKeyPem: rsa.pem };
}

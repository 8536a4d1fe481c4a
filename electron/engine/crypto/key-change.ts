/**
 * Signed encryption-key changes (shared/key-change.ts, docs/format.md §18): the
 * identity key links the old encryption key's fingerprint to the new key, so a
 * contact can tell a rotation by the same person from a key swapped in by
 * someone else.
 * @module
 */
import { canonicalJson } from '../../../shared/canonical-json.js';
import { KEY_CHANGE_TYPE, KeyChangeSchema, type KeyChange } from '../../../shared/key-change.js';
import { utf8 } from './_bytes.js';
import { BadSignatureError, InvalidInputError } from './errors.js';
import { fingerprintOf } from './fingerprint.js';
import { didFromPublicKey, publicKeyFromDid, publicKeyOf, sign, verify } from './identity.js';
import { exportPublicKeyPem, importPublicKey } from './rsa.js';

export interface KeyChangeFields {
  oldFingerprint: string;
  /** The new RSA public key (SPKI PEM). */
  newPublicKey: string;
  /** ms since the epoch. */
  changedAt: number;
}

/**
 * The identity signs the change from `oldFingerprint` to `newPublicKey`.
 * @throws {InvalidInputError} secret key not 32 bytes, not an RSA public key, bad fingerprint
 */
export function signKeyChange(identitySecretKey: Uint8Array, fields: KeyChangeFields): KeyChange {
  const publicKey = publicKeyOf(identitySecretKey);
  const pem = exportPublicKeyPem(importPublicKey(fields.newPublicKey));
  const unsigned = {
    type: KEY_CHANGE_TYPE,
    version: 1 as const,
    did: didFromPublicKey(publicKey),
    oldFingerprint: fields.oldFingerprint,
    newFingerprint: fingerprintOf(publicKey, pem),
    newPublicKey: pem,
    changedAt: new Date(fields.changedAt).toISOString(),
  };
  if (unsigned.oldFingerprint === unsigned.newFingerprint) throw new InvalidInputError('the new key is the old key');
  const signature = Buffer.from(sign(utf8(canonicalJson(unsigned)), identitySecretKey)).toString('base64url');
  const parsed = KeyChangeSchema.safeParse({ ...unsigned, signature });
  if (!parsed.success) throw new InvalidInputError('key change: a field is malformed');
  return parsed.data;
}

/**
 * Checks a key change's shape, that `newFingerprint` is the fingerprint of the
 * identity and `newPublicKey`, and the signature by the identity its `did`
 * names (and, when given, that this is `expectedDid`).
 * @throws {InvalidInputError} malformed; {BadSignatureError} another identity, wrong fingerprint or signature
 */
export function verifyKeyChange(value: unknown, expectedDid?: string): KeyChange {
  const parsed = KeyChangeSchema.safeParse(value);
  if (!parsed.success) throw new InvalidInputError('malformed key change');
  const change = parsed.data;
  if (expectedDid !== undefined && change.did !== expectedDid) throw new BadSignatureError('the key change is by another identity');
  const identityKey = publicKeyFromDid(change.did);
  let newFingerprint: string;
  try {
    newFingerprint = fingerprintOf(identityKey, change.newPublicKey);
  } catch {
    throw new InvalidInputError('key change: newPublicKey is not an RSA public key');
  }
  if (newFingerprint !== change.newFingerprint) throw new BadSignatureError('key change: newFingerprint does not match the keys');
  const { signature, ...unsigned } = change;
  if (!verify(Buffer.from(signature, 'base64url'), utf8(canonicalJson(unsigned)), identityKey)) {
    throw new BadSignatureError('the key change is not signed by the identity it names');
  }
  return change;
}

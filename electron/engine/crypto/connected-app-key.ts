/**
 * Personal encryption keys for connected apps (docs/format.md §19): one key per
 * (identity, application), derived from the recovery seed, so every device of
 * the user and every restore of the identity yields the same key (the UNLOQ
 * promise), and sealed on the device to the application's transit key, so the
 * key service only relays ciphertext.
 *
 *   key    = HKDF-SHA256(seed, salt "sealpost/seed/v1", info "connected-app/v1/" || appId || "/" || bits, bits/8)
 *   sealed = {v:1, alg:"RSA-OAEP-256", kid: hex SHA-256(transit SPKI DER), ct: base64 RSA-OAEP(SHA-256, MGF1-SHA-256, no label)(key)}
 *
 * The bit size is part of the name, so the 128-bit key of one app is not the
 * prefix of a 256-bit key (HKDF output of different lengths would share a prefix).
 * @module
 */
import { createHash, publicEncrypt, constants } from 'node:crypto';
import { challengeBytes, ConnectedAppId, type ApprovalChallenge, type KeyBits, type SealedKey } from '../../../shared/connected-wire.js';
import { canonicalJson } from '../../../shared/canonical-json.js';
import { InvalidInputError } from './errors.js';
import { sign } from './identity.js';
import { importPublicKey, publicKeySpkiDer } from './rsa.js';
import { deriveNamedKey } from './seed.js';

/** The seed key name of a connected app's personal key (never reuse for anything else). */
export function connectedAppKeyName(appId: string, bits: KeyBits): string {
  if (!ConnectedAppId.safeParse(appId).success) throw new InvalidInputError('not a connected-app id');
  return `connected-app/v1/${appId}/${bits}`;
}

/** The personal key for (this seed's identity, this application). The caller wipes it. */
export function deriveConnectedAppKey(seed: Uint8Array, appId: string, bits: KeyBits): Uint8Array {
  if (bits !== 128 && bits !== 192 && bits !== 256) throw new InvalidInputError('key bits must be 128, 192 or 256');
  return deriveNamedKey(seed, connectedAppKeyName(appId, bits), bits / 8);
}

/** hex SHA-256 of a transit key's SPKI DER: what the approval card shows and `kid` names. */
export function transitKeyId(pem: string): string {
  return createHash('sha256').update(publicKeySpkiDer(pem)).digest('hex');
}

/** Seals `key` to the application's RSA transit key (2048-4096 bits). @throws {InvalidInputError} */
export function sealForApp(key: Uint8Array, transitPem: string): SealedKey {
  const publicKey = importPublicKey(transitPem);
  const bits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (publicKey.asymmetricKeyType !== 'rsa' || bits < 2048 || bits > 4096) throw new InvalidInputError('the transit key must be RSA, 2048 to 4096 bits');
  const ct = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, key);
  return { v: 1, alg: 'RSA-OAEP-256', kid: transitKeyId(transitPem), ct: ct.toString('base64') };
}

/** hex SHA-256 of the sealed key's canonical JSON (the challenge's `key`). */
export function sealedKeyHash(sealed: SealedKey): string {
  return createHash('sha256').update(canonicalJson(sealed)).digest('hex');
}

/** The identity key's signature over the challenge, base64url. */
export function signChallenge(challenge: ApprovalChallenge, identitySecretKey: Uint8Array): string {
  return Buffer.from(sign(challengeBytes(challenge), identitySecretKey)).toString('base64url');
}

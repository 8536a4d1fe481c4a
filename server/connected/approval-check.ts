/**
 * What the key service checks before it records an approval, so that only the
 * user's own decision for this very request gets through (docs/security.md
 * "Connected apps"):
 *   - a key is delivered exactly when the request asks for one, sealed to the
 *     request's transit key (kid = SHA-256 of its SPKI) with a ciphertext of that
 *     key's size; the service cannot open it and never sees the key
 *   - the signature verifies with the user's identity key over the challenge the
 *     service rebuilds from the request (app, request id, nonce, kind, user, the
 *     sealed key's hash, the time), so a signature over another request, another
 *     key or by anyone else fails
 *   - the time lies within the request's life (clock skew allowed)
 * @module
 */
import { createHash } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { canonicalJson } from '../../shared/canonical-json.js';
import { challengeBytes, type ApprovalChallenge, type SealedKey } from '../../shared/connected-wire.js';
import { badRequest } from '../http/errors.js';
import { parseRsaPublicKey } from '../crypto/online.js';
import type { UserRow } from '../store/types.js';
import type { ApprovalRow } from './store.js';

/** Clock difference between a device and the service that is tolerated. */
export const CLOCK_SKEW_MS = 60_000;

export const wantsKey = (row: Pick<ApprovalRow, 'kind'>): boolean => row.kind !== 'sign-in';

/** hex SHA-256 of the sealed key's canonical JSON: what the challenge names. */
export function sealedKeyHash(sealed: SealedKey): string {
  return createHash('sha256').update(canonicalJson(sealed)).digest('hex');
}

export function challengeFor(row: ApprovalRow, user: UserRow, time: string, sealed: SealedKey | null): ApprovalChallenge {
  return {
    type: 'sealpost/connected-app/approval/v1',
    service: row.appId,
    app: row.connectedAppId,
    request: row.id,
    nonce: row.nonce,
    kind: row.kind,
    user: user.did ?? '',
    username: user.username,
    key: sealed ? sealedKeyHash(sealed) : null,
    time,
  };
}

/** @returns the challenge the signature covers. @throws {ApiError} 400 with the reason's code */
export function checkApproval(row: ApprovalRow, user: UserRow, body: { signature: string; time: string; sealedKey: SealedKey | null }, now: number): ApprovalChallenge {
  if (user.did === null || user.signingKey === null) throw badRequest('this user has no identity key', 'no_identity');
  const sealed = body.sealedKey;
  if (wantsKey(row)) {
    if (!sealed) throw badRequest('this request asks for the key: send it sealed to the transit key', 'sealed_key_required');
    const transit = parseRsaPublicKey(row.transitKey!);
    if (sealed.kid !== transit.fingerprint) throw badRequest("the key is sealed to another key than this request's transit key", 'wrong_transit_key');
    if (Buffer.from(sealed.ct, 'base64').length !== transit.bits / 8) throw badRequest('the sealed key is not an RSA-OAEP ciphertext for the transit key', 'bad_sealed_key');
  } else if (sealed) {
    throw badRequest('this request asks for a sign-in only: no key may be sent', 'unexpected_key');
  }
  const t = Date.parse(body.time);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/.test(body.time) || !Number.isFinite(t)) throw badRequest('time must be an ISO time in UTC', 'bad_time');
  if (t < row.createdAt - CLOCK_SKEW_MS || t > now + CLOCK_SKEW_MS) throw badRequest("the approval's time is outside the request's life: check the device's clock", 'bad_time');
  const challenge = challengeFor(row, user, body.time, sealed);
  let valid = false;
  try {
    valid = ed25519.verify(Buffer.from(body.signature, 'base64url'), challengeBytes(challenge), Buffer.from(user.signingKey, 'base64url'));
  } catch {
    valid = false;
  }
  if (!valid) throw badRequest("the signature does not verify: it must be this user's identity key over this request's challenge", 'bad_signature');
  return challenge;
}

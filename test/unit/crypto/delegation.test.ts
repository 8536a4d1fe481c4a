/**
 * Device delegations and agent tokens (IOTICS-style): signed by the right keys,
 * refused when edited, forged, expired or too long-lived. Tokens made by the
 * engine are checked by the key service's verifier (the one that admits
 * requests) and by @noble/curves directly.
 */
import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519.js';
import { identityFromSeed } from '../../../electron/engine/crypto/identity.js';
import { newSeed } from '../../../electron/engine/crypto/seed.js';
import { makeAgentToken, newDeviceKey, signDelegation, verifyDelegation } from '../../../electron/engine/crypto/delegation.js';
import { verifyAgentTokenSignature } from '../../../server/crypto/delegation.js';
import { errorKind as kind } from './helpers.js';

describe('device delegation', () => {
  const identity = identityFromSeed(newSeed());
  const device = newDeviceKey();
  const delegation = signDelegation(identity.secretKey, { did: identity.did, deviceId: 'ab'.repeat(16), deviceDid: device.did, issuedAt: new Date().toISOString() });

  it('verifies, and names the device key and the identity', () => {
    expect(verifyDelegation(delegation)).toMatchObject({ did: identity.did, deviceDid: device.did, scope: 'authenticate' });
  });

  it('refuses an edited delegation, one signed by another identity, and junk', () => {
    const other = newDeviceKey();
    expect(kind(() => verifyDelegation({ ...delegation, deviceDid: other.did }))).toBe('bad-signature');
    const mallory = identityFromSeed(newSeed());
    const forged = signDelegation(mallory.secretKey, { did: identity.did, deviceId: 'cd'.repeat(16), deviceDid: other.did, issuedAt: new Date().toISOString() });
    expect(kind(() => verifyDelegation(forged))).toBe('bad-signature');
    expect(kind(() => verifyDelegation({ ...delegation, extra: 1 }))).toBe('invalid-input');
    expect(kind(() => verifyDelegation('nope'))).toBe('invalid-input');
  });
});

describe('agent token', () => {
  const identity = identityFromSeed(newSeed());
  const device = newDeviceKey();
  const now = Date.UTC(2026, 10, 23, 12);

  it('is a compact EdDSA JWS that another Ed25519 implementation verifies', () => {
    const token = makeAgentToken(device, { sub: identity.did, aud: 'app_1', now });
    const [h, p, s] = token.split('.') as [string, string, string];
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'EdDSA', typ: 'JWT' });
    expect(ed25519.verify(Buffer.from(s, 'base64url'), new TextEncoder().encode(`${h}.${p}`), device.publicKey)).toBe(true);
    expect(verifyAgentTokenSignature(token, now + 1000)).toMatchObject({ ok: true, claims: { iss: device.did, sub: identity.did, aud: 'app_1', exp: now / 1000 + 300 } });
  });

  it('refuses expired, future, over-long, re-signed and edited tokens', () => {
    const reason = (t: string, at = now) => {
      const r = verifyAgentTokenSignature(t, at);
      return r.ok ? 'ok' : r.reason;
    };
    const token = makeAgentToken(device, { sub: identity.did, aud: 'app_1', ttlSeconds: 60, now });
    expect(reason(token, now + 59_000)).toBe('ok');
    expect(reason(token, now + 61_000)).toBe('expired');
    expect(reason(token, now - 120_000)).toBe('not_yet_valid');
    expect(kind(() => makeAgentToken(device, { sub: identity.did, aud: 'a', ttlSeconds: 3600 }))).toBe('invalid-input');
    const [h, p] = token.split('.') as [string, string, string];
    const otherSig = makeAgentToken(newDeviceKey(), { sub: identity.did, aud: 'app_1', now }).split('.')[2];
    expect(reason(`${h}.${p}.${otherSig}`)).toBe('bad_signature');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const edited = Buffer.from(JSON.stringify({ ...claims, aud: 'app_2' })).toString('base64url');
    expect(reason(`${h}.${edited}.${token.split('.')[2]}`)).toBe('bad_signature');
    // Signed properly by the device key, but living longer than the limit: the engine never makes one.
    const long = Buffer.from(JSON.stringify({ ...claims, exp: Number(claims.iat) + 3600 })).toString('base64url');
    const longSig = Buffer.from(ed25519.sign(new TextEncoder().encode(`${h}.${long}`), device.secretKey)).toString('base64url');
    expect(reason(`${h}.${long}.${longSig}`)).toBe('too_long');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expect(reason(`${none}.${p}.${token.split('.')[2]}`)).toBe('malformed');
    expect(reason('a.b')).toBe('malformed');
  });
});

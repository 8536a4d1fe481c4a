/**
 * Connected-app personal keys (docs/format.md §19): the derivation against a
 * second HKDF implementation (@noble/hashes) and the vector in the document;
 * sealing against node's RSA-OAEP decryption; the challenge signature against
 * @noble/curves.
 */
import { generateKeyPairSync, privateDecrypt, constants } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { challengeBytes, type ApprovalChallenge } from '../../../shared/connected-wire.js';
import { connectedAppKeyName, deriveConnectedAppKey, sealForApp, signChallenge, transitKeyId } from '../../../electron/engine/crypto/connected-app-key.js';
import { identityFromSeed } from '../../../electron/engine/crypto/identity.js';
import { repoRoot, toHex } from './helpers.js';

const seed = Uint8Array.from({ length: 32 }, (_, i) => i);
const APP = 'ca_0123456789abcdef';
const enc = new TextEncoder();

describe('connected-app personal key', () => {
  it('is HKDF-SHA256(seed, "sealpost/seed/v1", "connected-app/v1/<app>/<bits>") (second implementation)', () => {
    for (const bits of [128, 192, 256] as const) {
      const ours = deriveConnectedAppKey(seed, APP, bits);
      const theirs = hkdf(sha256, seed, enc.encode('sealpost/seed/v1'), enc.encode(`connected-app/v1/${APP}/${bits}`), bits / 8);
      expect(toHex(ours)).toBe(toHex(theirs));
    }
    expect(connectedAppKeyName(APP, 256)).toBe('connected-app/v1/ca_0123456789abcdef/256');
  });

  it('matches the vector in docs/format.md §19', () => {
    const doc = readFileSync(path.join(repoRoot, 'docs/format.md'), 'utf8');
    const m = /```text example:connected-app-key\n([\s\S]*?)```/.exec(doc);
    expect(m).not.toBeNull();
    const lines = Object.fromEntries(m![1]!.trim().split('\n').map((l) => l.split(/\s+=\s+/) as [string, string]));
    expect(toHex(deriveConnectedAppKey(seed, APP, 256))).toBe(lines['key256']);
    expect(toHex(deriveConnectedAppKey(seed, APP, 128))).toBe(lines['key128']);
  });

  it('differs per application and per size (the smaller key is not a prefix of the larger)', () => {
    const a = deriveConnectedAppKey(seed, APP, 256);
    expect(toHex(deriveConnectedAppKey(seed, 'ca_fedcba9876543210', 256))).not.toBe(toHex(a));
    expect(toHex(a).startsWith(toHex(deriveConnectedAppKey(seed, APP, 128)))).toBe(false);
    expect(() => deriveConnectedAppKey(seed, 'not an app', 256)).toThrow(/connected-app id/);
    expect(() => deriveConnectedAppKey(seed, APP, 64 as 128)).toThrow(/128, 192 or 256/);
  });

  it('is sealed with RSA-OAEP-SHA256 to the transit key and names it', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const key = deriveConnectedAppKey(seed, APP, 256);
    const sealed = sealForApp(key, pem);
    expect(sealed).toMatchObject({ v: 1, alg: 'RSA-OAEP-256', kid: transitKeyId(pem) });
    const opened = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(sealed.ct, 'base64'));
    expect(toHex(opened)).toBe(toHex(key));
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => sealForApp(key, ec)).toThrow(/RSA/);
  });

  it('the challenge signature verifies with the identity key (@noble/curves)', () => {
    const id = identityFromSeed(seed);
    const c: ApprovalChallenge = {
      type: 'sealpost/connected-app/approval/v1',
      service: 'app_x',
      app: APP,
      request: '0'.repeat(32),
      nonce: 'n',
      kind: 'sign-in',
      user: id.did,
      username: 'alice',
      key: null,
      time: '2026-01-01T00:00:00.000Z',
    };
    const sig = Buffer.from(signChallenge(c, id.secretKey), 'base64url');
    expect(ed25519.verify(sig, challengeBytes(c), id.publicKey)).toBe(true);
    expect(ed25519.verify(sig, challengeBytes({ ...c, request: '1'.repeat(32) }), id.publicKey)).toBe(false);
  });
});

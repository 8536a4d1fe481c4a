/**
 * Signed encryption-key changes (docs/format.md §18): sign/verify, any edit
 * refused, a wrong signer refused; the client's and the key service's checks
 * agree (node:crypto vs @noble/curves); the chain a contact follows; and the
 * key bundle that keeps rotated-out keys in the secrets and backups.
 */
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../shared/canonical-json.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { fingerprintOf } from '../../../electron/engine/crypto/fingerprint.js';
import { identityFromSeed } from '../../../electron/engine/crypto/identity.js';
import { signKeyChange, verifyKeyChange } from '../../../electron/engine/crypto/key-change.js';
import { decodeKeyBundle, encodeKeyBundle } from '../../../electron/engine/crypto/key-bundle.js';
import { openIdentityBackup, openIdentityBackupKeys, sealIdentityBackup } from '../../../electron/engine/crypto/backup.js';
import { escrowKeyOf, openFullBackup, sealFullBackup } from '../../../electron/engine/crypto/key-shares.js';
import { newSeed } from '../../../electron/engine/crypto/seed.js';
import { decodeSecrets, encodeSecrets } from '../../../electron/engine/service/profile.js';
import { followKeyChanges } from '../../../electron/engine/sync/key-chain.js';
import { checkKeyChange } from '../../../server/crypto/key-change.js';
import { errorKind as kind, rsaKeys, toHex } from './helpers.js';

describe('key-change statement', async () => {
  const [a, b, c] = await rsaKeys(3);
  const identity = identityFromSeed(newSeed());
  const stranger = identityFromSeed(newSeed());
  const oldFp = fingerprintOf(identity.publicKey, a!.publicKeyPem);
  const change = signKeyChange(identity.secretKey, { oldFingerprint: oldFp, newPublicKey: b!.publicKeyPem, changedAt: Date.UTC(2026, 10, 23) });
  const identityKey = Buffer.from(identity.publicKey).toString('base64url');

  it('signs {did, old fingerprint, new fingerprint + key, time} and verifies, on the client and on the key service', () => {
    expect(change).toMatchObject({ type: 'sealpost-key-change', version: 1, did: identity.did, oldFingerprint: oldFp, changedAt: '2026-11-23T00:00:00.000Z' });
    expect(change.newFingerprint).toBe(fingerprintOf(identity.publicKey, b!.publicKeyPem));
    expect(verifyKeyChange(change, identity.did)).toEqual(change);
    expect(checkKeyChange(change, identityKey)).toMatchObject({ ok: true });
    // A second implementation of the signature: @noble/curves over the canonical JSON.
    const { signature, ...unsigned } = change;
    expect(ed25519.verify(Buffer.from(signature, 'base64url'), new TextEncoder().encode(canonicalJson(unsigned)), identity.publicKey)).toBe(true);
  });

  it('refuses any edit after signing', () => {
    // One bit of the signature flipped: always a change (overwriting the last characters
    // with fixed ones left the signature as it was once in 256 draws).
    const flipped = Buffer.from(change.signature, 'base64url');
    flipped[flipped.length - 1]! ^= 0x01;
    for (const edited of [
      { ...change, changedAt: '2030-01-01T00:00:00.000Z' },
      { ...change, oldFingerprint: 'f'.repeat(64) },
      { ...change, signature: flipped.toString('base64url') },
    ]) {
      expect(kind(() => verifyKeyChange(edited))).toBe('bad-signature');
      expect(checkKeyChange(edited, identityKey)).toMatchObject({ ok: false, failure: 'not_signed' });
    }
    // Another key under the signed fingerprint: the fingerprint no longer matches.
    expect(kind(() => verifyKeyChange({ ...change, newPublicKey: c!.publicKeyPem }))).toBe('bad-signature');
    expect(checkKeyChange({ ...change, newPublicKey: c!.publicKeyPem }, identityKey)).toMatchObject({ ok: false, failure: 'malformed' });
    expect(kind(() => verifyKeyChange({ ...change, extra: true }))).toBe('invalid-input');
    expect(kind(() => verifyKeyChange('nope'))).toBe('invalid-input');
  });

  it('refuses a wrong signer: another identity, or another identity\'s signature under this did', () => {
    const theirs = signKeyChange(stranger.secretKey, { oldFingerprint: oldFp, newPublicKey: b!.publicKeyPem, changedAt: Date.now() });
    expect(kind(() => verifyKeyChange(theirs, identity.did))).toBe('bad-signature');
    expect(checkKeyChange(theirs, identityKey)).toMatchObject({ ok: false, failure: 'not_signed' });
    const borrowed = { ...change, signature: theirs.signature };
    expect(kind(() => verifyKeyChange(borrowed))).toBe('bad-signature');
    expect(kind(() => signKeyChange(identity.secretKey, { oldFingerprint: change.newFingerprint, newPublicKey: b!.publicKeyPem, changedAt: Date.now() }))).toBe('invalid-input');
  });

  it('a contact follows a signed chain, and marks a step nobody signed as forged', () => {
    const next = signKeyChange(identity.secretKey, { oldFingerprint: change.newFingerprint, newPublicKey: c!.publicKeyPem, changedAt: Date.now() });
    const start = { fingerprint: oldFp, pem: a!.publicKeyPem };
    const end = followKeyChanges(identity.did, start, [next, change]);
    expect(end).toMatchObject({ fingerprint: next.newFingerprint, forged: false });
    expect(end.signed).toEqual([change, next]);
    const forged = { ...signKeyChange(stranger.secretKey, { oldFingerprint: oldFp, newPublicKey: c!.publicKeyPem, changedAt: Date.now() }), did: identity.did };
    const bad = followKeyChanges(identity.did, start, [forged]);
    expect(bad).toMatchObject({ fingerprint: fingerprintOf(identity.publicKey, c!.publicKeyPem), forged: true, signed: [] });
    expect(followKeyChanges(identity.did, start, ['garbage', 42])).toMatchObject({ fingerprint: oldFp, forged: false });
  });
});

describe('rotated-out keys in the secrets and the backups', async () => {
  const [a, b, c] = await rsaKeys(3);
  const seed = newSeed();

  it('a key bundle is the DERs one after another; one key is the plain DER', () => {
    expect(toHex(encodeKeyBundle(a!.privateKeyDer))).toBe(toHex(a!.privateKeyDer));
    const bundle = decodeKeyBundle(encodeKeyBundle(a!.privateKeyDer, [b!.privateKeyDer, c!.privateKeyDer]));
    expect([bundle.current, ...bundle.previous].map(toHex)).toEqual([a, b, c].map((k) => toHex(k!.privateKeyDer)));
    expect(kind(() => decodeKeyBundle(a!.privateKeyDer.subarray(0, 100)))).toBe('invalid-input');
    expect(kind(() => decodeKeyBundle(new Uint8Array(0)))).toBe('invalid-input');
  });

  it('the secrets record keeps version 1 without rotation and carries the old keys with it (version 2)', () => {
    const v1 = encodeSecrets(seed, a!.privateKeyDer);
    expect(v1[4]).toBe(1);
    expect(decodeSecrets(v1).previousKeyDers).toEqual([]);
    const v2 = encodeSecrets(seed, b!.privateKeyDer, [a!.privateKeyDer]);
    expect(v2[4]).toBe(2);
    const d = decodeSecrets(v2);
    expect(toHex(d.seed)).toBe(toHex(seed));
    expect(toHex(d.rsaPrivateKeyDer)).toBe(toHex(b!.privateKeyDer));
    expect(d.previousKeyDers.map(toHex)).toEqual([toHex(a!.privateKeyDer)]);
  });

  it('the identity backup and the full backup restore every key', () => {
    const blob = sealIdentityBackup(seed, c!.privateKeyDer, [b!.privateKeyDer, a!.privateKeyDer]);
    expect(blob[4]).toBe(2);
    const keys = openIdentityBackupKeys(seed, blob);
    expect([keys.current, ...keys.previous].map(toHex)).toEqual([c, b, a].map((k) => toHex(k!.privateKeyDer)));
    expect(toHex(openIdentityBackup(seed, blob))).toBe(toHex(c!.privateKeyDer));
    expect(sealIdentityBackup(seed, a!.privateKeyDer)[4]).toBe(1);

    const k = escrowKeyOf(seed);
    const full = openFullBackup(k, sealFullBackup(k, seed, b!.privateKeyDer, [a!.privateKeyDer]));
    expect(toHex(full.rsaPrivateKeyDer)).toBe(toHex(b!.privateKeyDer));
    expect(full.previousKeyDers.map(toHex)).toEqual([toHex(a!.privateKeyDer)]);
    expect(openFullBackup(k, sealFullBackup(k, seed, a!.privateKeyDer)).previousKeyDers).toEqual([]);
  });
});

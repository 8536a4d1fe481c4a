/**
 * Recovery words (BIP-39, checked against the reference vector and @scure's
 * seed derivation) and the three-share backup key: all three shares restore it,
 * no two do, a wrong PIN does not, and the words alone do.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { generateEncryptionKeyPair } from '../../../electron/engine/crypto/rsa.js';
import { newSeed } from '../../../electron/engine/crypto/seed.js';
import { seedToWords, wordsToSeed } from '../../../electron/engine/crypto/recovery-words.js';
import { combineShares, escrowKeyOf, openFullBackup, sealFullBackup, splitEscrowKey } from '../../../electron/engine/crypto/key-shares.js';
import { TEST_KDF_PARAMS } from '../../../electron/engine/crypto/pin-kdf.js';
import { isCryptoError } from '../../../electron/engine/crypto/errors.js';

const kindOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return isCryptoError(e) ? e.kind : `other: ${String(e)}`;
  }
  return 'no error';
};

describe('recovery words', () => {
  it('matches the BIP-39 reference vector for 32 zero bytes… and 0x7f', () => {
    expect(seedToWords(new Uint8Array(32)).join(' ')).toBe(`${'abandon '.repeat(23)}art`);
    expect(seedToWords(new Uint8Array(32).fill(0x7f)).join(' ')).toBe(
      'legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title',
    );
  });

  it('round-trips any seed, tolerating case and spacing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
        const words = seedToWords(seed);
        expect(words).toHaveLength(24);
        expect(wordsToSeed(`  ${words.join('   ').toUpperCase()}\n`)).toEqual(seed);
      }),
      { numRuns: 50 },
    );
  });

  it('names the problem: count, unknown word, checksum', () => {
    const words = seedToWords(newSeed());
    expect(() => wordsToSeed(words.slice(0, 23))).toThrow(/expected 24 words, got 23/);
    expect(() => wordsToSeed([...words.slice(0, 5), 'sealpost', ...words.slice(6)])).toThrow(/word 6 \("sealpost"\)/);
    const swapped = [...words];
    [swapped[0], swapped[1]] = [swapped[1]!, swapped[0]!];
    if (swapped[0] !== swapped[1]) expect(kindOf(() => wordsToSeed(swapped))).toBe('invalid-input');
  });
});

describe('three-share backup key', async () => {
  const seed = newSeed();
  const rsa = await generateEncryptionKeyPair(2048);
  const key = escrowKeyOf(seed);
  const backup = sealFullBackup(key, seed, rsa.privateKeyDer);
  const split = await splitEscrowKey(key, '482915', TEST_KDF_PARAMS);

  it('all three shares restore the seed and the RSA key', async () => {
    const k = await combineShares(split.serviceShare, split.escrowShare, '482915', split.pinShare);
    const opened = openFullBackup(k, backup);
    expect(opened.seed).toEqual(seed);
    expect(Buffer.from(opened.rsaPrivateKeyDer).equals(rsa.privateKeyDer)).toBe(true);
  });

  it('no two shares do: each pair is independent of the key', async () => {
    const zero = new Uint8Array(32);
    // service + escrow without the PIN share (the PIN share replaced by zeros ≈ a guess)
    const withoutPin = split.serviceShare.map((b, i) => b ^ split.escrowShare[i]!);
    expect(kindOf(() => openFullBackup(withoutPin, backup))).toBe('wrong-key');
    // a wrong PIN is the same as a missing PIN share
    const wrongPin = await combineShares(split.serviceShare, split.escrowShare, '482916', split.pinShare);
    expect(kindOf(() => openFullBackup(wrongPin, backup))).toBe('wrong-key');
    // escrow + PIN without the service share, service + PIN without the escrow share
    const noService = await combineShares(zero, split.escrowShare, '482915', split.pinShare);
    const noEscrow = await combineShares(split.serviceShare, zero, '482915', split.pinShare);
    expect(kindOf(() => openFullBackup(noService, backup))).toBe('wrong-key');
    expect(kindOf(() => openFullBackup(noEscrow, backup))).toBe('wrong-key');
    // No share equals the key or reveals it alone.
    for (const s of [split.serviceShare, split.escrowShare]) expect(Buffer.from(s).equals(Buffer.from(key))).toBe(false);
  });

  it('a new split (PIN change) gives fresh shares for the same key', async () => {
    const again = await splitEscrowKey(key, '1357', TEST_KDF_PARAMS);
    expect(Buffer.from(again.serviceShare).equals(Buffer.from(split.serviceShare))).toBe(false);
    expect(await combineShares(again.serviceShare, again.escrowShare, '1357', again.pinShare)).toEqual(key);
  });

  it('the words alone restore it (K is derived from the seed)', () => {
    const fromWords = wordsToSeed(seedToWords(seed));
    expect(openFullBackup(escrowKeyOf(fromWords), backup).seed).toEqual(seed);
  });

  it('rejects a modified, truncated, foreign or future backup with a typed error', () => {
    const flipped = Uint8Array.from(backup);
    flipped[40]! ^= 1;
    expect(kindOf(() => openFullBackup(key, flipped))).toBe('wrong-key');
    expect(kindOf(() => openFullBackup(key, backup.subarray(0, 20)))).toBe('truncated');
    expect(kindOf(() => openFullBackup(key, new TextEncoder().encode('SPBK\x01............................................')))).toBe('invalid-input');
    const future = Uint8Array.from(backup);
    future[4] = 3; // 2 is the version with rotated-out keys
    expect(kindOf(() => openFullBackup(key, future))).toBe('unsupported-version');
  });
});

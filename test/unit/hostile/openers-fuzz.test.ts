/**
 * Issue 18: every opener of the engine under fast-check mutation of a valid
 * input (test/hostile/mutate.ts: truncation, bit flips, length-field lies,
 * reordering, extension). The property: the opener throws its typed error
 * (CryptoError; SyncError for a sync record; KeychainError for the PIN record)
 * and nothing else, never returns plaintext, and leaves no output file behind.
 * The one exception is named where it is tested: a sync record's "deleted"
 * flag is outside the item's authenticated data.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIdentityBackup, sealIdentityBackup } from '../../../electron/engine/crypto/backup.js';
import { openEnvelope, sealEnvelope } from '../../../electron/engine/crypto/envelope.js';
import { CryptoError } from '../../../electron/engine/crypto/errors.js';
import { openFile, sealFile } from '../../../electron/engine/crypto/file-envelope.js';
import { openIdentityFile, sealIdentityFile } from '../../../electron/engine/crypto/identity-file.js';
import { decodeItemContainer, encodeItemContainer } from '../../../electron/engine/crypto/item-container.js';
import { openItemWithDek, sealItem } from '../../../electron/engine/crypto/item-crypto.js';
import { newLinkKeyPair, openLinkPayload, sealLinkPayload, sessionKey, transcript, commitment } from '../../../electron/engine/crypto/link-protocol.js';
import { openWithPin, sealWithPin, TEST_KDF_PARAMS } from '../../../electron/engine/crypto/pin-kdf.js';
import type { EncryptionKeyPair } from '../../../electron/engine/crypto/rsa.js';
import { KeychainError } from '../../../electron/engine/keychain/types.js';
import { decodeRecord, encodeRecord } from '../../../electron/engine/session/record.js';
import { SyncError } from '../../../electron/engine/sync/errors.js';
import { decodeSyncRecord, encodeSyncRecord } from '../../../electron/engine/sync/item-sync.js';
import { mutation, MutationCounts, type Mutated } from '../../hostile/mutate.js';
import { HOSTILE_SEED, hostileRuns } from '../../hostile/runs.js';
import { rsaKeys, senderFor } from '../crypto/helpers.js';

const counts: Record<string, MutationCounts> = {};
afterAll(() => {
  const lines = Object.entries(counts).map(([format, c]) => `${format}: ${c.total} (${Object.entries(c.counts).map(([k, n]) => `${k} ${n}`).join(', ')})`);
  console.log(`opener mutations (seed ${HOSTILE_SEED}):\n  ${lines.join('\n  ')}`);
});

type Typed = abstract new (...args: never[]) => Error;

/**
 * Runs the opener on every generated mutation: it must throw one of `typed`,
 * or (only where `unchanged` allows) return exactly the original plaintext.
 */
async function fuzz(format: string, valid: Uint8Array, plaintext: Uint8Array, open: (bytes: Uint8Array) => Promise<Uint8Array> | Uint8Array, typed: Typed[], ciRuns: number, unchanged?: (m: Mutated) => boolean) {
  const c = (counts[format] = new MutationCounts());
  await fc.assert(
    fc.asyncProperty(mutation(valid), async (m) => {
      c.add(m.kind);
      let out: Uint8Array;
      try {
        out = await open(m.bytes);
      } catch (error) {
        if (!typed.some((t) => error instanceof t)) throw new Error(`${format}: ${m.kind} threw an untyped ${String(error)}`, { cause: error });
        return;
      }
      if (unchanged?.(m) && Buffer.from(out).equals(Buffer.from(plaintext))) return;
      throw new Error(`${format}: a ${m.kind} mutation opened (${out.length} bytes)`);
    }),
    { seed: HOSTILE_SEED, numRuns: hostileRuns(ciRuns), endOnFailure: true },
  );
}

let a: EncryptionKeyPair;
let b: EncryptionKeyPair;
const plain = new TextEncoder().encode('the secret plaintext '.repeat(20));

beforeAll(async () => {
  [a, b] = (await rsaKeys(2)) as [EncryptionKeyPair, EncryptionKeyPair];
});

describe('openers under mutation', () => {
  it('message envelope', async () => {
    const env = sealEnvelope({ body: plain, sender: senderFor(a, 1), recipients: [a.publicKeyPem, b.publicKeyPem], sentAt: 1 });
    await fuzz('message envelope', env, plain, (bytes) => openEnvelope(bytes, { privateKey: b.privateKeyDer }).body, [CryptoError], 1000);
  });

  it('vault item container and item ciphertext', async () => {
    const s = sealItem({ identifier: 'note/1', version: 3, data: plain, recipients: [a.publicKeyPem] });
    const container = encodeItemContainer({ identifier: 'note/1', version: 3, ciphertext: s.ciphertext });
    await fuzz('vault item', container, plain, (bytes) => {
      const c = decodeItemContainer(bytes);
      return openItemWithDek({ identifier: c.identifier, version: c.version, ciphertext: c.ciphertext, dek: s.dek });
    }, [CryptoError], 1000);
  });

  it('sync record (only the unauthenticated "deleted" flag may change and still open)', async () => {
    const s = sealItem({ identifier: 'note/2', version: 5, data: plain, recipients: [a.publicKeyPem] });
    const record = encodeSyncRecord({ version: 5, deleted: false, ciphertext: s.ciphertext });
    const flagOnly = (m: Mutated) => m.bytes.length === record.length && m.bytes.every((x, i) => i === 13 || x === record[i]);
    await fuzz('sync record', record, plain, (bytes) => {
      const r = decodeSyncRecord(bytes);
      return openItemWithDek({ identifier: 'note/2', version: r.version, ciphertext: r.ciphertext, dek: s.dek });
    }, [SyncError, CryptoError], 1000, flagOnly);
  });

  it('identity backup', async () => {
    const seed = new Uint8Array(32).fill(7);
    const blob = sealIdentityBackup(seed, a.privateKeyDer);
    await fuzz('identity backup', blob, a.privateKeyDer, (bytes) => openIdentityBackup(seed, bytes), [CryptoError], 1000);
  });

  it('device link payload', async () => {
    const [oldKeys, newKeys] = [newLinkKeyPair(), newLinkKeyPair()];
    const t = transcript('lnk_1', commitment(newKeys.publicKey), oldKeys.publicKey, newKeys.publicKey);
    const key = sessionKey(oldKeys.secretKey, newKeys.publicKey, t);
    const sealed = sealLinkPayload(key, t, plain);
    await fuzz('device link', sealed, plain, (bytes) => openLinkPayload(key, t, bytes), [CryptoError], 1000);
  });

  it('PIN blob and the keychain record around it', async () => {
    const blob = await sealWithPin('4711', plain, TEST_KDF_PARAMS);
    await fuzz('PIN blob', blob, plain, (bytes) => openWithPin('4711', bytes), [CryptoError], 200);
    const record = encodeRecord({ state: 'sealed', pinDisabled: false, failures: 0, lastFailureAt: null, sealed: blob });
    await fuzz('PIN record', record, plain, async (bytes) => {
      const r = decodeRecord(bytes);
      if (r.state !== 'sealed') throw new KeychainError('corrupt', 'wiped');
      return openWithPin('4711', r.sealed);
    }, [KeychainError, CryptoError], 200);
  });

  it('identity file', async () => {
    const file = await sealIdentityFile('correct horse battery', plain, TEST_KDF_PARAMS);
    await fuzz('identity file', file, plain, (bytes) => openIdentityFile('correct horse battery', bytes), [CryptoError], 200);
  });

  describe('file envelope (no output left behind)', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'sealpost-fuzz-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('refuses every mutation and removes its partial output', async () => {
      const source = path.join(dir, 'plain.bin');
      const content = new Uint8Array(10_000).map((_, i) => (i * 31) & 0xff);
      writeFileSync(source, content);
      const sealedPath = path.join(dir, 'sealed.spfl');
      await sealFile(source, sealedPath, { sender: senderFor(a, 1), recipients: [b.publicKeyPem], chunkSize: 4096 });
      const sealed = new Uint8Array(readFileSync(sealedPath));
      const work = mkdtempSync(path.join(dir, 'work-'));
      let n = 0;
      await fuzz('file envelope', sealed, content, async (bytes) => {
        const input = path.join(work, `in-${n}.spfl`);
        const output = path.join(work, `out-${n++}.bin`);
        writeFileSync(input, bytes);
        try {
          await openFile(input, output, { privateKey: b.privateKeyDer });
          return new Uint8Array(readFileSync(output));
        } catch (error) {
          // A refused file must leave nothing: no output, no temporary file (an untyped Error fails the property).
          const left = readdirSync(work).filter((f) => f !== path.basename(input));
          if (left.length) throw new Error(`output left behind: ${left.join(', ')}`);
          throw error;
        } finally {
          rmSync(input);
        }
      }, [CryptoError], 300);
      expect(readdirSync(work)).toEqual([]);
    });
  });
});

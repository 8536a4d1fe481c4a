/**
 * docs/format.md §15: the worked example in the document must be right. Reads the
 * fenced `example:<name>` blocks from the file and checks them against the engine and
 * against the pure-JS implementation.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gcm } from '@noble/ciphers/aes.js';
import pako from 'pako';
import { describe, expect, it } from 'vitest';
import { openEnvelope } from '../../../electron/engine/crypto/envelope.js';
import { fingerprint, safetyNumber, safetyNumberForOne } from '../../../electron/engine/crypto/fingerprint.js';
import { identityFromSeed } from '../../../electron/engine/crypto/identity.js';
import { keyId, publicKeyFromPrivate, publicKeySpkiDer, unwrapKey } from '../../../electron/engine/crypto/rsa.js';
import { deriveNamedKey } from '../../../electron/engine/crypto/seed.js';
import { pureOpenEnvelope } from './purejs.js';
import { hex, repoRoot, toHex } from './helpers.js';

const doc = readFileSync(path.join(repoRoot, 'docs/format.md'), 'utf8');
const blocks = new Map<string, string>();
for (const m of doc.matchAll(/```text example:(\S+)\n([\s\S]*?)```/g)) blocks.set(m[1]!, m[2]!);
const block = (name: string): string => {
  const b = blocks.get(name);
  if (b === undefined) throw new Error(`docs/format.md has no example:${name} block`);
  return b;
};
const lines = (name: string): string[] => block(name).trim().split('\n');
const hexBlock = (name: string): Uint8Array => hex(block(name).replace(/\s+/g, ''));

describe('docs/format.md worked example', () => {
  const seed = hexBlock('seed');
  const [secret, pub, did, backupKey] = lines('identity');
  const privDer = createPrivateKey(block('rsa-private')).export({ type: 'pkcs8', format: 'der' });
  const pubPem = block('rsa-public');
  const [kid, fp] = lines('ids');

  it('seed -> identity, did:key, backup key', () => {
    const id = identityFromSeed(seed);
    expect([toHex(id.secretKey), toHex(id.publicKey), id.did]).toEqual([secret, pub, did]);
    expect(did!.length - 'did:key:'.length).toBe(48);
    expect(toHex(deriveNamedKey(seed, 'backup/rsa'))).toBe(backupKey);
  });

  it('RSA key pair, key id, fingerprint, safety numbers', () => {
    expect(keyId(publicKeyFromPrivate(privDer))).toBe(kid);
    expect(keyId(pubPem)).toBe(kid);
    expect(fingerprint(hex(pub!), publicKeySpkiDer(pubPem))).toBe(fp);
    const [one, pair] = lines('safety');
    expect(safetyNumberForOne(fp!)).toBe(one);
    expect(safetyNumber(fp!, 'f'.repeat(64))).toBe(pair);
  });

  it('the envelope opens natively and in pure JS, with the documented intermediates', () => {
    const env = hexBlock('envelope');
    const o = openEnvelope(env, { privateKey: privDer });
    expect(new TextDecoder().decode(o.body)).toBe('Hello, Bob!');
    expect(o).toMatchObject({ contentType: 'text/plain; charset=utf-8', sentAt: 1700000000000, senderFingerprint: fp, recipients: [kid] });
    expect(o.fileName).toBeUndefined();
    expect(toHex(pureOpenEnvelope(env, privDer, pubPem).body)).toBe(toHex(o.body));

    const header = hexBlock('header');
    expect(toHex(env.subarray(0, 56))).toBe(toHex(header));
    expect(toHex(env.subarray(56, 58))).toBe('0100');
    const k = unwrapKey(privDer, env.subarray(58, 58 + 256));
    expect(toHex(k)).toBe(toHex(hexBlock('message-key')));
    const padded = gcm(k, env.subarray(6, 18), header).decrypt(env.subarray(58 + 256));
    const m = /The padded block is (\d+) bytes: `u32be\((\d+)\)`/.exec(doc)!;
    expect(padded.length).toBe(Number(m[1]));
    const gzLen = new DataView(padded.buffer, padded.byteOffset).getUint32(0);
    expect(gzLen).toBe(Number(m[2]));
    const inner = pako.ungzip(padded.subarray(4, 4 + gzLen));
    const metaLen = new DataView(inner.buffer, inner.byteOffset).getUint32(0);
    expect(new TextDecoder().decode(inner.subarray(4, 4 + metaLen))).toBe(block('meta').trim());
    expect(toHex(inner.subarray(4 + metaLen, 68 + metaLen))).toBe(block('signature').trim());
  });
});

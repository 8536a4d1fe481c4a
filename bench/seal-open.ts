/**
 * Crypto benchmarks, each measured side by side in one run against
 * (a) a native reference pipeline (node:zlib gzip + node:crypto AES-256-GCM + native
 *     RSA-OAEP wrap; no padding, no signature) and
 * (b) a pure-JS pipeline (pako + @noble/ciphers + node-forge OAEP).
 *
 * - seal_1mib_text: sealEnvelope of 1 MiB of generated prose to one RSA-3072 key, MB/s
 *   (MB = 10^6 bytes of body). Rounds are interleaved and the median round is reported.
 * - open_10k_small: 10,000 ~1 KiB envelopes (RSA-3072) opened by the worker pool, ms.
 *   "native" is the same envelopes opened in one thread with openEnvelope, sampled
 *   (native_sampled) and scaled to 10,000; "purejs" is the forge + noble + pako opener,
 *   sampled (purejs_sampled) and scaled.
 * Run from the tsc build (dist/bench) so the pool has its worker file.
 */
import { createCipheriv, publicEncrypt, constants, randomBytes, createPublicKey } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import {
  fingerprintOf,
  generateEncryptionKeyPair,
  identityFromSeed,
  newSeed,
  OpenPool,
  openEnvelope,
  prepareOpenKey,
  sealEnvelope,
} from '../electron/engine/crypto/index.js';
import { GZIP_LEVEL } from '../electron/engine/crypto/envelope.js';
import { type BenchEntry, round } from './results.js';
import { forgePrivateKey, forgePublicKey, pureOpenEnvelope, pureSealPipeline } from './purejs-pipeline.js';

/** Deterministic prose: Zipf-like words from a syllable vocabulary, sentences, paragraphs. */
export function generateText(bytes: number, seed = 42): Uint8Array {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const syl = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'an', 'el', 'is', 'or', 'un', 'ber', 'cal', 'dor', 'fen', 'gar', 'hul', 'jin', 'kes', 'lim', 'mor', 'nat', 'pri', 'qua', 'ros', 'ste', 'tra', 'wen'];
  const vocab = Array.from({ length: 6000 }, () => Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => syl[Math.floor(rnd() * syl.length)]).join(''));
  const parts: string[] = [];
  let len = 0;
  let sentence = 0;
  while (len < bytes) {
    let w = vocab[Math.floor(vocab.length * rnd() ** 2.5)]!;
    if (sentence === 0) w = w[0]!.toUpperCase() + w.slice(1);
    sentence++;
    const end = sentence > 6 && rnd() < 0.12;
    const tok = end ? `${w}${rnd() < 0.8 ? '.' : '?'}${rnd() < 0.15 ? '\n\n' : ' '}` : `${w}${rnd() < 0.07 ? ',' : ''} `;
    if (end) sentence = 0;
    parts.push(tok);
    len += tok.length;
  }
  return new TextEncoder().encode(parts.join('')).subarray(0, bytes);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function timeIt(fn: () => void, iterations: number): number {
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  return performance.now() - t0;
}

export async function benchSealOpen(): Promise<Record<string, BenchEntry>> {
  const rsa = await generateEncryptionKeyPair(3072);
  const id = identityFromSeed(newSeed());
  const sender = { ...id, fingerprint: fingerprintOf(id.publicKey, rsa.publicKeyPem) };
  const pub = createPublicKey(rsa.publicKeyPem);

  // ---- seal_1mib_text ----
  const text = generateText(1024 * 1024);
  const ratio = text.length / gzipSync(text, { level: GZIP_LEVEL }).length;
  const ours = (): void => void sealEnvelope({ body: text, contentType: 'text/plain; charset=utf-8', sender, recipients: [pub] });
  const native = (): void => {
    const key = randomBytes(32);
    const nonce = randomBytes(12);
    const gz = gzipSync(text, { level: GZIP_LEVEL });
    const c = createCipheriv('aes-256-gcm', key, nonce);
    Buffer.concat([c.update(gz), c.final(), c.getAuthTag()]);
    publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, key);
  };
  const fpub = forgePublicKey(rsa.publicKeyPem);
  const pure = (): void => void pureSealPipeline(text, fpub, GZIP_LEVEL);
  ours();
  native();
  pure();
  const mbs = (ms: number, n: number): number => (text.length * n) / 1e6 / (ms / 1000);
  const oursR: number[] = [];
  const nativeR: number[] = [];
  const ITER = 8;
  for (let r = 0; r < 7; r++) {
    oursR.push(mbs(timeIt(ours, ITER), ITER));
    nativeR.push(mbs(timeIt(native, ITER), ITER));
  }
  const pureR: number[] = [];
  for (let r = 0; r < 3; r++) pureR.push(mbs(timeIt(pure, 2), 2));
  const sealV = median(oursR);
  const sealN = median(nativeR);
  const sealP = median(pureR);

  // ---- open_10k_small ----
  const COUNT = 10_000;
  const bodies = Array.from({ length: 16 }, (_, i) => generateText(1024, 100 + i));
  const envelopes = Array.from({ length: COUNT }, (_, i) => sealEnvelope({ body: bodies[i % 16]!, sender, recipients: [pub] }));
  const key = prepareOpenKey(rsa.privateKeyDer);

  const NATIVE_SAMPLE = 2000;
  openEnvelope(envelopes[0]!, key);
  const tNative = timeIt(() => {
    for (let i = 0; i < NATIVE_SAMPLE; i++) openEnvelope(envelopes[i]!, key);
  }, 1);
  const nativeMs = (tNative / NATIVE_SAMPLE) * COUNT;

  const PURE_SAMPLE = 40;
  const fpriv = forgePrivateKey(rsa.privateKeyDer);
  pureOpenEnvelope(envelopes[0]!, fpriv);
  const tPure = timeIt(() => {
    for (let i = 0; i < PURE_SAMPLE; i++) pureOpenEnvelope(envelopes[i]!, fpriv);
  }, 1);
  const pureMs = (tPure / PURE_SAMPLE) * COUNT;

  const t0 = performance.now();
  const pool = await OpenPool.create({ privateKeyDer: rsa.privateKeyDer });
  const startMs = performance.now() - t0;
  const poolMode = pool.mode;
  const poolSize = pool.size;
  let poolMs: number;
  let failures = 0;
  try {
    await pool.openMany(envelopes.slice(0, 64)); // warm the workers
    const t1 = performance.now();
    const out = await pool.openMany(envelopes);
    poolMs = performance.now() - t1;
    failures = out.filter((o) => !o.ok).length;
  } finally {
    await pool.close();
  }
  if (failures) throw new Error(`open_10k_small: ${failures} envelopes failed to open`);

  return {
    seal_1mib_text: {
      value: round(sealV, 1),
      unit: 'MB/s',
      native: round(sealN, 1),
      purejs: round(sealP, 1),
      vs_native: round(sealV / sealN),
      vs_purejs: round(sealV / sealP),
      gzip_level: GZIP_LEVEL,
      compression_ratio: round(ratio, 2),
      rounds: oursR.length,
    },
    open_10k_small: {
      value: round(poolMs, 0),
      unit: 'ms',
      native: round(nativeMs, 0),
      purejs: round(pureMs, 0),
      vs_native: round(poolMs / nativeMs),
      vs_purejs: round(poolMs / pureMs, 4),
      native_sampled: NATIVE_SAMPLE,
      purejs_sampled: PURE_SAMPLE,
      envelopes: COUNT,
      rsa_bits: 3072,
      envelope_bytes: envelopes[0]!.length,
      pool_mode: poolMode,
      pool_size: poolSize,
      pool_start_ms: round(startMs, 0),
    },
  };
}

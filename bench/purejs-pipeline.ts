/**
 * Pure-JS reference pipelines for bench/seal-open.ts, built only on the design
 * card's libraries: pako (gzip), @noble/ciphers (AES-256-GCM, pure JS), node-forge
 * (RSA-OAEP-SHA256), @noble/curves (Ed25519), @noble/hashes (SHA-256).
 */
import { gcm } from '@noble/ciphers/aes.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import forge from 'node-forge';
import pako from 'pako';

const toBin = (b: Uint8Array): string => forge.util.binary.raw.encode(b);
const fromBin = (s: string): Uint8Array => forge.util.binary.raw.decode(s);
const oaep = () => ({ md: forge.md.sha256.create(), mgf1: { md: forge.md.sha256.create() } });
const PREFIX = new TextEncoder().encode('sealpost/envelope/v1\u0000');

/** gzip -> AES-256-GCM -> OAEP-wrap the key (no padding, no signature): the seal reference. */
export function pureSealPipeline(body: Uint8Array, publicKey: forge.pki.rsa.PublicKey, level: number): Uint8Array[] {
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const gz = pako.gzip(body, { level: level as pako.DeflateFunctionOptions['level'] });
  const ct = gcm(key, nonce).encrypt(gz);
  const wrapped = fromBin(publicKey.encrypt(toBin(key), 'RSA-OAEP', oaep()));
  return [nonce, ct, wrapped];
}

export const forgePublicKey = (pem: string): forge.pki.rsa.PublicKey => forge.pki.publicKeyFromPem(pem) as forge.pki.rsa.PublicKey;
export const forgePrivateKey = (pkcs8Der: Uint8Array): forge.pki.rsa.PrivateKey =>
  forge.pki.privateKeyFromAsn1(forge.asn1.fromDer(toBin(pkcs8Der))) as forge.pki.rsa.PrivateKey;

/**
 * Opens a single-recipient Sealpost envelope (docs/format.md) in pure JS:
 * forge OAEP unwrap, noble GCM, pako inflate, noble Ed25519 verify of the metadata
 * and SHA-256 of the body. Returns the body; throws on any failure.
 */
export function pureOpenEnvelope(env: Uint8Array, priv: forge.pki.rsa.PrivateKey): Uint8Array {
  const dv = new DataView(env.buffer, env.byteOffset, env.byteLength);
  const ctLen = dv.getUint32(18);
  const n = dv.getUint16(22);
  if (n !== 1) throw new Error('bench opener handles one recipient');
  const headerLen = 24 + 32 * n;
  const wlen = dv.getUint16(headerLen);
  const wrapped = env.subarray(headerLen + 2, headerLen + 2 + wlen);
  const ct = env.subarray(headerLen + 2 + wlen);
  if (ct.length !== ctLen) throw new Error('length');
  const key = fromBin(priv.decrypt(toBin(wrapped), 'RSA-OAEP', oaep()));
  const padded = gcm(key, env.subarray(6, 18), env.subarray(0, headerLen)).decrypt(ct);
  const gzLen = new DataView(padded.buffer, padded.byteOffset).getUint32(0);
  const inner = pako.ungzip(padded.subarray(4, 4 + gzLen));
  const metaLen = new DataView(inner.buffer, inner.byteOffset).getUint32(0);
  const meta = inner.subarray(4, 4 + metaLen);
  const sig = inner.subarray(4 + metaLen, 68 + metaLen);
  const body = inner.subarray(68 + metaLen);
  const m = JSON.parse(new TextDecoder().decode(meta)) as { spk: string; bh: string };
  const msg = new Uint8Array(PREFIX.length + meta.length);
  msg.set(PREFIX);
  msg.set(meta, PREFIX.length);
  if (!ed25519.verify(sig, msg, Uint8Array.from(Buffer.from(m.spk, 'hex')))) throw new Error('signature');
  if (Buffer.from(sha256(body)).toString('hex') !== m.bh) throw new Error('digest');
  return body;
}

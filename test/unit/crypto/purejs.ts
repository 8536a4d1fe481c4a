/**
 * An independent pure-JS implementation of the message envelope, written from
 * docs/format.md alone with the design card's libraries: node-forge (RSA-OAEP),
 * @noble/ciphers (AES-256-GCM), pako (gzip), @noble/curves (Ed25519),
 * @noble/hashes (SHA-256). No import from electron/engine/crypto except the
 * shared canonical JSON. Used to prove the native code interoperates both ways.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import forge from 'node-forge';
import pako from 'pako';
import { canonicalJson } from '../../../shared/canonical-json.js';

const te = new TextEncoder();
const td = new TextDecoder('utf-8', { fatal: true });
const toBin = (b: Uint8Array): string => forge.util.binary.raw.encode(b);
const fromBin = (s: string): Uint8Array => forge.util.binary.raw.decode(s);
const hexOf = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const cat = (...p: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(p.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of p) {
    out.set(x, o);
    o += x.length;
  }
  return out;
};
const u16 = (n: number): Uint8Array => Uint8Array.of(n >> 8, n & 0xff);
const u32 = (n: number): Uint8Array => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);

export const oaepOptions = () => ({ md: forge.md.sha256.create(), mgf1: { md: forge.md.sha256.create() } });

export function forgePrivateKey(pkcs8Der: Uint8Array): forge.pki.rsa.PrivateKey {
  return forge.pki.privateKeyFromAsn1(forge.asn1.fromDer(toBin(pkcs8Der))) as forge.pki.rsa.PrivateKey;
}

export function forgeWrap(publicKeyPem: string, key: Uint8Array): Uint8Array {
  const pub = forge.pki.publicKeyFromPem(publicKeyPem) as forge.pki.rsa.PublicKey;
  return fromBin(pub.encrypt(toBin(key), 'RSA-OAEP', oaepOptions()));
}

export function forgeUnwrap(priv: forge.pki.rsa.PrivateKey, wrapped: Uint8Array, label?: Uint8Array): Uint8Array {
  return fromBin(priv.decrypt(toBin(wrapped), 'RSA-OAEP', { ...oaepOptions(), ...(label?.length ? { label: toBin(label) } : {}) }));
}

export function keyIdOf(publicKeyPem: string): Uint8Array {
  const spki = forge.asn1.toDer(forge.pki.publicKeyToAsn1(forge.pki.publicKeyFromPem(publicKeyPem))).getBytes();
  return sha256(fromBin(spki)).slice(0, 16);
}

export function padme(L: number): number {
  if (L < 2) return L;
  const E = Math.floor(Math.log2(L));
  const S = Math.floor(Math.log2(E)) + 1;
  const z = E - S;
  return Math.ceil(L / 2 ** z) * 2 ** z;
}

export interface PureOpened {
  body: Uint8Array;
  meta: Record<string, unknown>;
}

/** Opens a full envelope (docs/format.md §Message envelope). Throws Error on any failure. */
export function pureOpenEnvelope(env: Uint8Array, pkcs8Der: Uint8Array, publicKeyPem: string): PureOpened {
  const dv = new DataView(env.buffer, env.byteOffset, env.byteLength);
  if (td.decode(env.subarray(0, 4)) !== 'SPEN' || env[4] !== 1 || env[5] !== 0) throw new Error('bad header');
  const nonce = env.subarray(6, 18);
  const ctLen = dv.getUint32(18);
  const n = dv.getUint16(22);
  const headerLen = 24 + 32 * n;
  const header = env.subarray(0, headerLen);
  const me = hexOf(keyIdOf(publicKeyPem));
  let p = headerLen;
  let wrapped: Uint8Array | undefined;
  const to: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = hexOf(env.subarray(24 + 32 * i, 40 + 32 * i));
    const digest = hexOf(env.subarray(40 + 32 * i, 56 + 32 * i));
    to.push(id);
    const len = dv.getUint16(p);
    const w = env.subarray(p + 2, p + 2 + len);
    p += 2 + len;
    if (len && hexOf(sha256(w).slice(0, 16)) !== digest) throw new Error('wrap digest');
    if (id === me) wrapped = w;
  }
  if (!wrapped) throw new Error('not for me');
  if (env.length !== p + ctLen) throw new Error('length');
  const key = forgeUnwrap(forgePrivateKey(pkcs8Der), wrapped);
  const padded = gcm(key, nonce, header).decrypt(env.subarray(p));
  const gzLen = new DataView(padded.buffer, padded.byteOffset).getUint32(0);
  if (padme(4 + gzLen) !== padded.length || padded.subarray(4 + gzLen).some((b) => b !== 0)) throw new Error('padding');
  const inner = pako.ungzip(padded.subarray(4, 4 + gzLen));
  const metaLen = new DataView(inner.buffer, inner.byteOffset).getUint32(0);
  const metaBytes = inner.subarray(4, 4 + metaLen);
  const sig = inner.subarray(4 + metaLen, 68 + metaLen);
  const body = inner.subarray(68 + metaLen);
  const meta = JSON.parse(td.decode(metaBytes)) as Record<string, unknown>;
  const spk = Uint8Array.from(Buffer.from(meta.spk as string, 'hex'));
  if (!ed25519.verify(sig, cat(te.encode('sealpost/envelope/v1\u0000'), metaBytes), spk)) throw new Error('signature');
  if (meta.bh !== hexOf(sha256(body)) || meta.bl !== body.length) throw new Error('body digest');
  if (JSON.stringify(meta.to) !== JSON.stringify(to)) throw new Error('recipients');
  return { body, meta };
}

/** Seals a full envelope the same way (pure JS). */
export function pureSealEnvelope(opts: {
  body: Uint8Array;
  contentType: string;
  fileName?: string;
  sentAt: number;
  sender: { secretKey: Uint8Array; publicKey: Uint8Array; fingerprint: string };
  recipients: string[];
  /** Test hook: serialise the meta differently (non-canonical) before signing. */
  metaJson?: (meta: Record<string, unknown>) => string;
}): Uint8Array {
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  const entries = opts.recipients.map((pem) => {
    const wrapped = forgeWrap(pem, key);
    return { id: keyIdOf(pem), digest: sha256(wrapped).slice(0, 16), wrapped };
  });
  const meta: Record<string, unknown> = {
    v: 1,
    ct: opts.contentType,
    fp: opts.sender.fingerprint,
    spk: hexOf(opts.sender.publicKey),
    ts: opts.sentAt,
    to: entries.map((e) => hexOf(e.id)),
    bh: hexOf(sha256(opts.body)),
    bl: opts.body.length,
  };
  if (opts.fileName !== undefined) meta.fn = opts.fileName;
  const metaBytes = te.encode((opts.metaJson ?? canonicalJson)(meta));
  const sig = ed25519.sign(cat(te.encode('sealpost/envelope/v1\u0000'), metaBytes), opts.sender.secretKey);
  const gz = pako.gzip(cat(u32(metaBytes.length), metaBytes, sig, opts.body));
  const padded = new Uint8Array(padme(4 + gz.length));
  padded.set(u32(gz.length));
  padded.set(gz, 4);
  const ctLen = padded.length + 16;
  const header = cat(te.encode('SPEN'), Uint8Array.of(1, 0), nonce, u32(ctLen), u16(entries.length), ...entries.flatMap((e) => [e.id, e.digest]));
  const ct = gcm(key, nonce, header).encrypt(padded);
  return cat(header, ...entries.flatMap((e) => [u16(e.wrapped.length), e.wrapped]), ct);
}

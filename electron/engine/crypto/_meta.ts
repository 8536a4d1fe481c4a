/**
 * The signed sender block shared by the message and file envelopes
 * (docs/format.md §Signed metadata): canonical JSON, signed with Ed25519 over
 * "sealpost/<domain>/v1" || 0x00 || metaBytes. Openers verify over the bytes as
 * received (they never re-serialise) and accept only the v1 members.
 * @module
 */
import { canonicalJson } from '../../../shared/canonical-json.js';
import { equalBytes, fromHex, fromUtf8, toHex, utf8 } from './_bytes.js';
import { BadSignatureError, InvalidInputError } from './errors.js';
import { checkFingerprint } from './fingerprint.js';
import { publicKeyOf, sign, verify } from './identity.js';

/** The sender of an envelope: Ed25519 identity and their fingerprint. */
export interface Sender {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  fingerprint: string;
}

export type MetaDomain = 'envelope' | 'file';

export interface MetaFields {
  contentType: string;
  fileName?: string | undefined;
  sentAt: number;
  recipients: readonly Uint8Array[];
  bodyHash: Uint8Array;
  bodyLength: number;
  /** File envelope only: SHA-256 of the header. */
  headerDigest?: Uint8Array | undefined;
}

/** Parsed, verified sender block. */
export interface VerifiedMeta {
  contentType: string;
  fileName?: string;
  sentAt: number;
  recipients: string[];
  senderFingerprint: string;
  senderPublicKey: Uint8Array;
  bodyHash: Uint8Array;
  bodyLength: number;
}

/** What an opener reports of the sender block: everything but the body digest it has already checked. */
export type SignedSender = Omit<VerifiedMeta, 'bodyHash' | 'bodyLength'>;

export function signedSender(m: VerifiedMeta): SignedSender {
  return {
    contentType: m.contentType,
    ...(m.fileName !== undefined ? { fileName: m.fileName } : {}),
    senderFingerprint: m.senderFingerprint,
    senderPublicKey: m.senderPublicKey,
    sentAt: m.sentAt,
    recipients: m.recipients,
  };
}

/** Who the opener expects the sender to be (a verified contact); either part may be given. */
export interface ExpectedSender {
  fingerprint?: string;
  publicKey?: Uint8Array;
}

/** After verifyMeta: the signed sender must be the expected one. @throws {BadSignatureError} */
export function checkExpectedSender(m: VerifiedMeta, expected: ExpectedSender | undefined): void {
  if (expected?.fingerprint !== undefined && expected.fingerprint !== m.senderFingerprint) {
    throw new BadSignatureError('sender fingerprint is not the expected one');
  }
  if (expected?.publicKey !== undefined && !equalBytes(expected.publicKey, m.senderPublicKey)) {
    throw new BadSignatureError('sender signing key is not the expected one');
  }
}

export const SIGNATURE_LENGTH = 64;
/** Largest meta block an opener accepts. */
export const MAX_META_BYTES = 65_536;

const domainPrefix = (d: MetaDomain): Uint8Array => utf8(`sealpost/${d}/v1\u0000`);
const HEX64 = /^[0-9a-f]{64}$/;
const HEX32 = /^[0-9a-f]{32}$/;
const CONTENT_TYPE = /^[\x20-\x7e]{1,255}$/;
const hasControlOrSeparator = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x2f /* / */ || c === 0x5c /* \ */) return true;
  }
  return false;
};
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** @throws {InvalidInputError} */
export function checkContentType(ct: unknown): string {
  if (typeof ct !== 'string' || !CONTENT_TYPE.test(ct)) {
    throw new InvalidInputError('contentType must be 1..255 printable ASCII characters');
  }
  return ct;
}

/** A bare file name: 1..255 UTF-8 bytes, no path separators, no control characters, not "." or "..". @throws {InvalidInputError} */
export function checkFileName(fn: unknown): string {
  if (
    typeof fn !== 'string' ||
    fn.length === 0 ||
    utf8(fn).length > 255 ||
    hasControlOrSeparator(fn) ||
    fn === '.' ||
    fn === '..' ||
    LONE_SURROGATE.test(fn)
  ) {
    throw new InvalidInputError('fileName must be a bare file name of 1..255 bytes');
  }
  return fn;
}

/**
 * Builds and signs the sender block.
 * @throws {InvalidInputError} bad sender keys/fingerprint, content type, file name, time
 */
export function signMeta(domain: MetaDomain, sender: Sender, f: MetaFields): { meta: Uint8Array; signature: Uint8Array } {
  if (!sender || typeof sender !== 'object') throw new InvalidInputError('sender is required');
  checkFingerprint(sender.fingerprint, 'sender.fingerprint');
  const derived = publicKeyOf(sender.secretKey);
  if (!(sender.publicKey instanceof Uint8Array) || !equalBytes(derived, sender.publicKey)) {
    throw new InvalidInputError('sender.publicKey does not match sender.secretKey');
  }
  if (!Number.isSafeInteger(f.sentAt) || f.sentAt < 0) throw new InvalidInputError('sentAt must be a non-negative integer (ms)');
  const obj: Record<string, unknown> = {
    v: 1,
    ct: checkContentType(f.contentType),
    fp: sender.fingerprint,
    spk: toHex(sender.publicKey),
    ts: f.sentAt,
    to: f.recipients.map(toHex),
    bh: toHex(f.bodyHash),
    bl: f.bodyLength,
  };
  if (f.fileName !== undefined) obj.fn = checkFileName(f.fileName);
  if (f.headerDigest) obj.hd = toHex(f.headerDigest);
  const meta = utf8(canonicalJson(obj));
  const prefix = domainPrefix(domain);
  const msg = new Uint8Array(prefix.length + meta.length);
  msg.set(prefix);
  msg.set(meta, prefix.length);
  return { meta, signature: sign(msg, sender.secretKey) };
}

const malformed = (): BadSignatureError => new BadSignatureError('signed metadata is malformed');

/**
 * Verifies the signature over `meta`, then that it covers what arrived.
 * @throws {BadSignatureError} malformed block, bad signature, or recipients / body /
 *   header digest not as signed
 */
export function verifyMeta(
  domain: MetaDomain,
  meta: Uint8Array,
  signature: Uint8Array,
  expect: { recipients: readonly Uint8Array[]; headerDigest?: Uint8Array },
): VerifiedMeta {
  if (meta.length > MAX_META_BYTES) throw malformed();
  let o: Record<string, unknown>;
  try {
    const text = fromUtf8(meta);
    o = JSON.parse(text) as Record<string, unknown>;
    // Only the canonical form is accepted: no duplicate members, no alternative
    // escapes or spacing that two parsers might read differently.
    if (!o || typeof o !== 'object' || Array.isArray(o) || canonicalJson(o) !== text) throw new Error();
  } catch {
    throw malformed();
  }
  const allowed = domain === 'file' ? ['v', 'ct', 'fn', 'fp', 'spk', 'ts', 'to', 'bh', 'bl', 'hd'] : ['v', 'ct', 'fn', 'fp', 'spk', 'ts', 'to', 'bh', 'bl'];
  if (Object.keys(o).some((k) => !allowed.includes(k))) throw malformed();
  const { v, ct, fn, fp, spk, ts, to, bh, bl, hd } = o;
  if (v !== 1) throw malformed();
  if (typeof fp !== 'string' || !HEX64.test(fp) || typeof spk !== 'string' || !HEX64.test(spk)) throw malformed();
  if (typeof bh !== 'string' || !HEX64.test(bh)) throw malformed();
  if (!Number.isSafeInteger(ts) || (ts as number) < 0 || !Number.isSafeInteger(bl) || (bl as number) < 0) throw malformed();
  if (!Array.isArray(to) || to.some((x) => typeof x !== 'string' || !HEX32.test(x))) throw malformed();
  if (domain === 'file' && (typeof hd !== 'string' || !HEX64.test(hd))) throw malformed();
  let contentType: string;
  let fileName: string | undefined;
  try {
    contentType = checkContentType(ct);
    if (fn !== undefined) fileName = checkFileName(fn);
  } catch {
    throw malformed();
  }
  const senderPublicKey = fromHex(spk);
  const prefix = domainPrefix(domain);
  const msg = new Uint8Array(prefix.length + meta.length);
  msg.set(prefix);
  msg.set(meta, prefix.length);
  let ok = false;
  try {
    ok = verify(signature, msg, senderPublicKey);
  } catch {
    ok = false;
  }
  if (!ok) throw new BadSignatureError("the sender's signature does not verify");
  // Signed, so the sender meant it: now check it covers this delivery.
  const recipients = to as string[];
  if (recipients.length !== expect.recipients.length || recipients.some((x, i) => x !== toHex(expect.recipients[i]!))) {
    throw new BadSignatureError('the signed recipient list does not match the envelope (forwarded?)');
  }
  if (expect.headerDigest && hd !== toHex(expect.headerDigest)) {
    throw new BadSignatureError('the signature does not cover this header');
  }
  return {
    contentType,
    ...(fileName !== undefined ? { fileName } : {}),
    sentAt: ts as number,
    recipients,
    senderFingerprint: fp,
    senderPublicKey,
    bodyHash: fromHex(bh),
    bodyLength: bl as number,
  };
}

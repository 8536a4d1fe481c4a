/**
 * The message envelope (design §3; byte layout in docs/format.md §Message envelope).
 *
 *   body -> sign (Ed25519 over canonical-JSON metadata naming the sender, the
 *   recipients' key ids, time, content type, file name and SHA-256 of the body)
 *   -> gzip -> Padmé pad -> AES-256-GCM(fresh 32-byte key K, random 96-bit nonce,
 *   AAD = the whole header) -> K wrapped with RSA-OAEP-SHA256 for each recipient.
 *
 *   envelope = header || keyTable || ciphertext
 *   header   = "SPEN" || 0x01 || flags(0x00) || nonce(12) || u32be(len(ciphertext))
 *              || u16be(n) || n × (keyId(16) || SHA-256(wrapped)[0..16))
 *
 * The key service wire form (`encryptedmessage`, `encryptionkey`) is
 * base64(header || ciphertext) and base64(one recipient's wrapped key): see toWire/fromWire.
 * All native (node:crypto, node:zlib); a pure-JS opener in the tests proves the spec.
 * @module
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { concat, equalBytes, fromBase64, fromHex, Reader, toBase64, toHex, u32be, utf8, view, wipe } from './_bytes.js';
import { checkExpectedSender, type ExpectedSender, MAX_META_BYTES, type Sender, signedSender, type SignedSender, signMeta, SIGNATURE_LENGTH, verifyMeta } from './_meta.js';
import {
  encodeIndex,
  encodeKeyTable,
  prepareOpenKey,
  readIndex,
  readKeyTable,
  type RecipientEntry,
  unwrapFor,
  wrapDigest,
  wrapForRecipients,
} from './_recipients.js';
import { _sealInto, newKey, newNonce, open as aeadOpen, TAG_LENGTH } from './aead.js';
import {
  BadSignatureError,
  InvalidInputError,
  TamperedError,
  UnsupportedVersionError,
  WrongKeyError,
} from './errors.js';
import { pad, unpad } from './pad.js';
import type { PrivateKeyInput, PublicKeyInput } from './rsa.js';

export type { Sender } from './_meta.js';

export const ENVELOPE_MAGIC = 'SPEN';
export const ENVELOPE_VERSION = 1;
/** gzip level for envelopes (zlib's default); the benchmark reference uses the same. */
export const GZIP_LEVEL = 6;
/** Default cap on a message body, sealed or inflated (decompression-bomb guard). */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

const MAGIC = utf8(ENVELOPE_MAGIC);

export interface SealEnvelopeOptions {
  body: Uint8Array | string;
  /** Default: "text/plain; charset=utf-8" for a string body, else "application/octet-stream". */
  contentType?: string;
  fileName?: string;
  sender: Sender;
  /** Recipients' RSA public keys (include yourself to read your own sent copy). */
  recipients: readonly PublicKeyInput[];
  /** Milliseconds since the Unix epoch. Default: Date.now(). */
  sentAt?: number;
  /** Default {@link DEFAULT_MAX_MESSAGE_BYTES}. */
  maxBodyBytes?: number;
}

export interface OpenEnvelopeOptions {
  /** Our RSA private key (KeyObject or PKCS#8 DER). */
  privateKey: PrivateKeyInput;
  /** Our key id (hex or bytes); computed from the private key when absent. */
  keyId?: string | Uint8Array;
  publicKeyPem?: string;
  /** Cap on the inflated payload. Default {@link DEFAULT_MAX_MESSAGE_BYTES}. */
  maxBodyBytes?: number;
  /** When given, the sender must match (else BadSignatureError). */
  expectedSender?: ExpectedSender;
}

/**
 * What an opened envelope says. `senderFingerprint` is the sender's signed claim: check it
 * against the contact. `recipients`: key ids (hex) of every recipient, in header order.
 */
export interface OpenedEnvelope extends SignedSender {
  body: Uint8Array;
}

/** The two base64 strings one recipient's PUT carries. */
export interface WireMessage {
  encryptedmessage: string;
  encryptionkey: string;
}

function checkCap(n: number | undefined): number {
  const cap = n ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!Number.isSafeInteger(cap) || cap < 1) throw new InvalidInputError('maxBodyBytes must be a positive integer');
  return cap;
}

/**
 * Seals a message for `recipients`.
 * @throws {InvalidInputError} bad sender keys or fingerprint, no/duplicate/invalid recipient,
 *   bad content type or file name, body over the cap
 */
export function sealEnvelope(opts: SealEnvelopeOptions): Uint8Array {
  const cap = checkCap(opts.maxBodyBytes);
  const isText = typeof opts.body === 'string';
  const body = isText ? utf8(opts.body as string) : opts.body;
  if (!(body instanceof Uint8Array)) throw new InvalidInputError('body must be a string or Uint8Array');
  if (body.length > cap) throw new InvalidInputError(`body exceeds ${cap} bytes`);
  const contentType = opts.contentType ?? (isText ? 'text/plain; charset=utf-8' : 'application/octet-stream');

  const key = newKey();
  try {
    const entries = wrapForRecipients(opts.recipients, key);
    const { meta, signature } = signMeta('envelope', opts.sender, {
      contentType,
      fileName: opts.fileName,
      sentAt: opts.sentAt ?? Date.now(),
      recipients: entries.map((e) => e.keyId),
      bodyHash: createHash('sha256').update(body).digest(),
      bodyLength: body.length,
    });
    const inner = concat(u32be(meta.length), meta, signature, body);
    const gz = gzipSync(inner, { level: GZIP_LEVEL });
    wipe(inner);
    const padded = pad(gz);
    gz.fill(0);

    const ctLen = padded.length + TAG_LENGTH;
    const nonce = newNonce();
    const header = concat(MAGIC, Uint8Array.of(ENVELOPE_VERSION, 0), nonce, u32be(ctLen), encodeIndex(entries));
    const table = encodeKeyTable(entries);
    const out = new Uint8Array(header.length + table.length + ctLen);
    out.set(header, 0);
    out.set(table, header.length);
    _sealInto(key, nonce, padded, header, out, header.length + table.length);
    wipe(padded);
    return out;
  } finally {
    wipe(key);
  }
}

interface Parsed {
  header: Uint8Array;
  nonce: Uint8Array;
  entries: RecipientEntry[];
  ciphertext: Uint8Array;
}

/**
 * Parses an envelope (`withKeyTable`) or a wire `encryptedmessage` (header || ciphertext).
 * @throws {InvalidInputError} not a Sealpost envelope (magic)
 * @throws {UnsupportedVersionError} version or flags this build does not know
 * @throws {TruncatedError} shorter than its length fields say
 * @throws {TamperedError} trailing bytes, out-of-range counts
 */
function parse(bytes: Uint8Array, withKeyTable: boolean): Parsed {
  if (!(bytes instanceof Uint8Array)) throw new InvalidInputError('envelope must be a Uint8Array');
  const r = new Reader(bytes, 'envelope');
  if (!equalBytes(r.bytesN(4), MAGIC)) throw new InvalidInputError('not a Sealpost envelope');
  const version = r.u8();
  if (version !== ENVELOPE_VERSION) throw new UnsupportedVersionError(`envelope version ${version} is not supported`);
  if (r.u8() !== 0) throw new UnsupportedVersionError('envelope flags are not supported');
  const nonce = r.bytesN(12);
  const ctLen = r.u32();
  if (ctLen < TAG_LENGTH + 4) throw new TamperedError('ciphertext length out of range');
  const entries = readIndex(r);
  const header = bytes.subarray(0, r.pos);
  if (withKeyTable) readKeyTable(r, entries);
  const ciphertext = r.bytesN(ctLen);
  if (r.remaining !== 0) throw new TamperedError('trailing bytes after the envelope');
  return { header, nonce, entries, ciphertext };
}

/**
 * Opens an envelope addressed to our key: authenticates, inflates (capped), verifies
 * the sender's signature and that it names this delivery's recipients.
 * @throws {InvalidInputError} not an envelope, bad private key, payload inflates beyond the cap
 * @throws {UnsupportedVersionError} a newer envelope version
 * @throws {TruncatedError} cut short
 * @throws {WrongKeyError} not addressed to this key (or our wrapped key omitted)
 * @throws {TamperedError} any modified byte
 * @throws {BadSignatureError} signature wrong, or recipients/body/sender not as signed/expected
 */
export function openEnvelope(bytes: Uint8Array, opts: OpenEnvelopeOptions): OpenedEnvelope {
  const cap = checkCap(opts.maxBodyBytes);
  const p = parse(bytes, true);
  const key = prepareOpenKey(opts);
  const k = unwrapFor(p.entries, key);
  let padded: Uint8Array;
  try {
    padded = aeadOpen(k, p.nonce, p.ciphertext, p.header);
  } finally {
    wipe(k);
  }
  const gz = unpad(padded);
  let inner: Uint8Array;
  try {
    // Room for the meta block and signature on top of the body cap.
    inner = view(gunzipSync(gz, { maxOutputLength: cap + 4 + MAX_META_BYTES + SIGNATURE_LENGTH }));
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new InvalidInputError(`message inflates beyond ${cap} bytes`);
    }
    throw new TamperedError('payload is not valid gzip');
  } finally {
    wipe(padded);
  }
  const r = new Reader(inner, 'payload');
  let meta: Uint8Array, signature: Uint8Array;
  try {
    const metaLen = r.u32();
    if (metaLen > MAX_META_BYTES) throw new Error();
    meta = r.bytesN(metaLen);
    signature = r.bytesN(SIGNATURE_LENGTH);
  } catch {
    throw new BadSignatureError('signed metadata is malformed');
  }
  const body = inner.subarray(r.pos);
  if (body.length > cap) throw new InvalidInputError(`message inflates beyond ${cap} bytes`);
  const m = verifyMeta('envelope', meta, signature, { recipients: p.entries.map((e) => e.keyId) });
  if (m.bodyLength !== body.length || !equalBytes(createHash('sha256').update(body).digest(), m.bodyHash)) {
    throw new BadSignatureError('the body does not match the signed digest');
  }
  checkExpectedSender(m, opts.expectedSender);
  const out = body.slice();
  wipe(inner);
  return { body: out, ...signedSender(m) };
}

/**
 * Key ids (hex) an envelope is addressed to, without decrypting.
 * @throws as the parsing part of {@link openEnvelope}
 */
export function envelopeRecipients(bytes: Uint8Array): string[] {
  return parse(bytes, true).entries.map((e) => toHex(e.keyId));
}

/**
 * Splits an envelope into what one recipient's PUT carries:
 * `encryptedmessage` = base64(header || ciphertext), `encryptionkey` = base64(their wrapped key).
 * @throws {InvalidInputError} not an envelope, bad key id
 * @throws {WrongKeyError} the key id is not a recipient (or its wrapped key is omitted)
 * @throws {TruncatedError} @throws {TamperedError} @throws {UnsupportedVersionError} as parsing
 */
export function toWire(envelope: Uint8Array, recipientKeyId: string | Uint8Array): WireMessage {
  const id = typeof recipientKeyId === 'string' ? fromHex(recipientKeyId, 'recipientKeyId') : recipientKeyId;
  const p = parse(envelope, true);
  const e = p.entries.find((x) => equalBytes(x.keyId, id));
  if (!e || e.wrapped.length === 0) throw new WrongKeyError('not a recipient of this envelope');
  if (!equalBytes(wrapDigest(e.wrapped), e.digest)) throw new TamperedError('a wrapped key does not match the header');
  return { encryptedmessage: toBase64(concat(p.header, p.ciphertext)), encryptionkey: toBase64(e.wrapped) };
}

/**
 * Rebuilds an envelope from the wire pair: the key table holds `encryptionkey` at the
 * entry whose digest it matches and omits (length 0) every other recipient's key.
 * @throws {InvalidInputError} not base64, not an envelope
 * @throws {TamperedError} `encryptionkey` matches no recipient entry
 * @throws {TruncatedError} @throws {UnsupportedVersionError} as parsing
 */
export function fromWire(wire: WireMessage): Uint8Array {
  if (!wire || typeof wire !== 'object') throw new InvalidInputError('wire message must be an object');
  const sealed = fromBase64(wire.encryptedmessage, 'encryptedmessage');
  const wrapped = fromBase64(wire.encryptionkey, 'encryptionkey');
  const p = parse(sealed, false);
  const digest = wrapDigest(wrapped);
  const idx = p.entries.findIndex((e) => equalBytes(e.digest, digest));
  if (idx < 0) throw new TamperedError('encryptionkey does not belong to this message');
  p.entries[idx]!.wrapped = wrapped;
  return concat(p.header, encodeKeyTable(p.entries), p.ciphertext);
}


/**
 * SHA-256 (hex) of the envelope as it travels: header and ciphertext, without the
 * key table (toWire's `encryptedmessage`). The same for every recipient, so the
 * sender and each recipient name one message by it (a read receipt does).
 * @throws {InvalidInputError} @throws {TruncatedError} @throws {UnsupportedVersionError} as parsing
 */
export function wireDigest(envelope: Uint8Array): string {
  const p = parse(envelope, true);
  return createHash('sha256').update(p.header).update(p.ciphertext).digest('hex');
}

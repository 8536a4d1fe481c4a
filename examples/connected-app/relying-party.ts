/**
 * What a connected application's back end does with Sealpost (docs/connected-apps.md),
 * in one small module with no Sealpost code in it beyond the shared wire schemas:
 * ask for a sign-in or the user's key, read the answer, check the signature against
 * the user's DID document from the directory, and open the sealed key with the
 * application's own RSA private key.
 * @module
 */
import { createHash, createPrivateKey, createPublicKey, privateDecrypt, constants, verify as edVerify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../../shared/canonical-json.js';
import { challengeBytes, CreatedRequestResponse, RequestStateResponse, type RequestResult } from '../../shared/connected-wire.js';

export interface RelyingPartyOptions {
  /** The key service, e.g. https://keys.example.org */
  keyService: string;
  /** The connected app's id (ca_...) and secret, from `admin connected-app add`. */
  appId: string;
  secret: string;
  /** The private half of the transit key (PKCS#8 or PKCS#1 PEM). */
  privateKeyPem: string;
  /** How far a signature's time may lie from now (default 5 minutes). */
  maxSkewMs?: number;
}

export interface Verified {
  username: string;
  userId: string;
  did: string;
  /** The user's personal key for this application, when the request asked for it. */
  key: Buffer | null;
}

export class RelyingPartyError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RelyingPartyError';
  }
}

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function base58Decode(s: string): Buffer {
  let n = 0n;
  for (const ch of s) {
    const i = B58.indexOf(ch);
    if (i < 0) throw new RelyingPartyError('bad_did_document', 'not base58');
    n = n * 58n + BigInt(i);
  }
  const hex = n === 0n ? '' : n.toString(16);
  const body = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  const zeros = s.length - s.replace(/^1+/, '').length;
  return Buffer.concat([Buffer.alloc(zeros), body]);
}

/** The Ed25519 key of a DID document's first authentication method. */
export function identityKeyOf(doc: { id: string; verificationMethod: Array<{ id: string; publicKeyMultibase: string }>; authentication: string[] }): KeyObject {
  const vm = doc.verificationMethod.find((m) => doc.authentication.includes(m.id));
  if (!vm || !vm.publicKeyMultibase.startsWith('z')) throw new RelyingPartyError('bad_did_document', 'the DID document names no Ed25519 authentication key');
  const raw = base58Decode(vm.publicKeyMultibase.slice(1));
  if (raw.length !== 34 || raw[0] !== 0xed || raw[1] !== 0x01) throw new RelyingPartyError('bad_did_document', 'the authentication key is not Ed25519');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.subarray(2).toString('base64url') }, format: 'jwk' });
}

export class RelyingParty {
  private readonly privateKey: KeyObject;
  /** hex SHA-256 of our transit key's SPKI DER: the `kid` a sealed key must name. */
  readonly transitKeyId: string;
  readonly publicKeyPem: string;

  constructor(private readonly o: RelyingPartyOptions) {
    this.privateKey = createPrivateKey(o.privateKeyPem);
    const pub = createPublicKey(this.privateKey);
    this.publicKeyPem = pub.export({ type: 'spki', format: 'pem' }).toString();
    this.transitKeyId = createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex');
  }

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(`${this.o.keyService.replace(/\/+$/, '')}${path}`, {
      method,
      headers: { 'x-connected-app-key': this.o.secret, accept: 'application/json', ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    return { status: res.status, json };
  }

  private fail(r: { status: number; json: Record<string, unknown> }): never {
    throw new RelyingPartyError(String(r.json.code ?? `http_${r.status}`), String(r.json.message ?? `the key service answered ${r.status}`));
  }

  /** Asks for a sign-in; `username` null: the answer's userCode is shown to the user, who types it on the desktop. */
  async signIn(username: string | null, returnTo: string, reason?: string) {
    const r = await this.call('POST', '/v1/connected/sign-in', { username, returnTo, publicKey: this.publicKeyPem, ...(reason && { reason }) });
    if (r.status !== 200) this.fail(r);
    return CreatedRequestResponse.parse(r.json);
  }

  /** Asks for the user's personal key for this application; it waits `expiresIn` seconds (30 to 600) or 2 minutes. */
  async requestKey(username: string, reason: string, expiresIn?: number) {
    const r = await this.call('POST', '/v1/connected/requests', { username, reason, publicKey: this.publicKeyPem, ...(expiresIn !== undefined && { expiresIn }) });
    if (r.status !== 200) this.fail(r);
    return CreatedRequestResponse.parse(r.json);
  }

  /** The request's state; `result` once, on the first read after approval. */
  async read(id: string) {
    const r = await this.call('GET', `/v1/connected/requests/${id}`);
    if (r.status !== 200) this.fail(r);
    return RequestStateResponse.parse(r.json);
  }

  /**
   * Checks an approval for the request we made (id and nonce from its creation):
   * the challenge names us, this request and its nonce; the signature verifies
   * with the identity key of the user's DID document from the directory; the
   * sealed key is for our transit key and is the one the user signed. Then opens the key.
   * @throws {RelyingPartyError}
   */
  async verify(result: RequestResult, expected: { id: string; nonce: string; now?: number }): Promise<Verified> {
    const c = result.challenge;
    const now = expected.now ?? Date.now();
    if (c.app !== this.o.appId || c.request !== expected.id || c.nonce !== expected.nonce) throw new RelyingPartyError('wrong_request', 'the approval is for another request or application');
    if (Math.abs(Date.parse(c.time) - now) > (this.o.maxSkewMs ?? 5 * 60_000)) throw new RelyingPartyError('stale', 'the approval is too old');
    const r = await this.call('GET', `/v1/users/${encodeURIComponent(c.username)}`);
    if (r.status !== 200) this.fail(r);
    const doc = r.json as unknown as Parameters<typeof identityKeyOf>[0] & { id: string; userid: string };
    if (doc.id !== c.user || doc.id !== result.did || doc.userid !== result.userId) throw new RelyingPartyError('wrong_user', 'the approval is not by the user the directory names');
    if (!edVerify(null, challengeBytes(c), identityKeyOf(doc), Buffer.from(result.signature, 'base64url'))) throw new RelyingPartyError('bad_signature', "the signature does not verify with the user's identity key");
    let key: Buffer | null = null;
    if (c.kind !== 'sign-in') {
      const sealed = result.sealedKey;
      if (!sealed || c.key !== createHash('sha256').update(canonicalJson(sealed)).digest('hex')) throw new RelyingPartyError('bad_sealed_key', 'the sealed key is not the one the user signed');
      if (sealed.kid !== this.transitKeyId) throw new RelyingPartyError('wrong_transit_key', 'the key is sealed to another transit key');
      key = privateDecrypt({ key: this.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(sealed.ct, 'base64'));
    }
    return { username: c.username, userId: result.userId, did: c.user, key };
  }
}

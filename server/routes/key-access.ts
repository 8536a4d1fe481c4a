/**
 * Finding a key by its token and proving the right to read or delete it: the
 * passphrase (online; the server opens the private key) or the privatekeyhash
 * (as the seed: authenticates the request, the server never decrypts).
 * Secrets come from the body, the query string or the X-Passphrase /
 * X-Private-Key-Hash headers; giving two different values is a 400.
 */
import type { KeyObject } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { Passphrase, PrivateKeyHash } from '../../shared/wire.js';
import { singleHeader } from '../auth/authenticate.js';
import type { ServerContext } from '../context.js';
import { KeyFormatError, openSealedPrivateKey, openUploadedPrivateKey, parseRsaPublicKey } from '../crypto/online.js';
import { slowVerify } from '../crypto/secrets.js';
import { ApiError, badRequest, conflict, forbidden, notFound } from '../http/errors.js';
import type { KeyRef, KeyRow } from '../store/types.js';

export type SecretName = 'passphrase' | 'privatekeyhash';
const HEADERS: Record<SecretName, string> = { passphrase: 'x-passphrase', privatekeyhash: 'x-private-key-hash' };
const SCHEMAS = { passphrase: Passphrase, privatekeyhash: PrivateKeyHash };

function field(source: unknown, name: string): unknown {
  return source && typeof source === 'object' ? (source as Record<string, unknown>)[name] : undefined;
}

/** The secret from body, query or header (validated); undefined when absent. */
export function secretFrom(request: FastifyRequest, name: SecretName): string | undefined {
  const header = singleHeader(request, HEADERS[name]);
  if (header !== undefined && !SCHEMAS[name].safeParse(header).success) {
    throw badRequest(`${HEADERS[name]} must be 1 to ${name === 'passphrase' ? 1024 : 512} characters`, 'invalid_header');
  }
  const values = [field(request.body, name), field(request.query, name), header].filter((v): v is string => typeof v === 'string');
  if (new Set(values).size > 1) throw badRequest(`${name} was given twice with different values`, 'conflicting_secrets');
  return values[0];
}

/** The caller's app's key for a token, or 404. Sets the audit target. */
export async function findKey(ctx: ServerContext, request: FastifyRequest, token: string): Promise<KeyRow> {
  const caller = request.caller;
  if (caller.kind === 'none') throw new ApiError(401, 'unauthorized', 'authentication required');
  const key = await ctx.store.keyByTokenHash(caller.appId, ctx.tokenHash(token));
  if (!key) throw notFound('no key with this token', 'unknown_key');
  request.auditTarget = `key:${key.id}`;
  return key;
}

/** The narrow key lookup the send path needs. */
export async function findKeyForSend(ctx: ServerContext, request: FastifyRequest, token: string): Promise<KeyRef> {
  const caller = request.caller;
  if (caller.kind === 'none') throw new ApiError(401, 'unauthorized', 'authentication required');
  const key = await ctx.store.keyForSend(caller.appId, ctx.tokenHash(token));
  if (!key) throw notFound('no key with this token', 'unknown_key');
  request.auditTarget = `key:${key.id}`;
  return key;
}

export type Unlocked = { how: 'passphrase'; privateKey: KeyObject } | { how: 'privatekeyhash' };

/**
 * Checks the request's passphrase or privatekeyhash against the key. Wrong
 * secrets count against the key's failure limit (429 once exceeded, before any
 * slow hash runs); a privatekeyhash that matched is remembered per instance.
 */
export async function unlockKey(ctx: ServerContext, request: FastifyRequest, key: KeyRow): Promise<Unlocked> {
  const passphrase = secretFrom(request, 'passphrase');
  const privatekeyhash = secretFrom(request, 'privatekeyhash');
  if (passphrase !== undefined && privatekeyhash !== undefined) throw badRequest('give either passphrase or privatekeyhash, not both', 'conflicting_secrets');
  if (passphrase === undefined && privatekeyhash === undefined) {
    throw badRequest('give passphrase (online) or privatekeyhash (offline), in the body, query or X-Passphrase / X-Private-Key-Hash header', 'missing_secret');
  }
  const scope = `key:${key.id}`;

  if (privatekeyhash !== undefined) {
    if (ctx.verified.has(scope, key.privateKeyHashVerifier, privatekeyhash)) return { how: 'privatekeyhash' };
    await ctx.rateLimiter.checkFailures(scope);
    if (!(await slowVerify(privatekeyhash, key.privateKeyHashVerifier))) {
      await ctx.rateLimiter.recordFailure(scope);
      throw forbidden('privatekeyhash does not match this key', 'wrong_secret');
    }
    ctx.verified.add(scope, key.privateKeyHashVerifier, privatekeyhash);
    return { how: 'privatekeyhash' };
  }

  const secret = passphrase!;
  if (key.privateKeyKind === null || key.privateKey === null) {
    throw badRequest('this key was uploaded without a privatekey: use privatekeyhash', 'no_private_key');
  }
  await ctx.rateLimiter.checkFailures(scope);
  let privateKey: KeyObject | null;
  if (key.privateKeyKind === 'scrypt-aes-256-gcm') {
    privateKey = await openSealedPrivateKey(key.privateKey, key.passphraseVerifier ?? '', secret);
  } else {
    try {
      privateKey = openUploadedPrivateKey(key.privateKey.toString('utf8'), secret, parseRsaPublicKey(key.publicKey).spkiDer);
    } catch (error) {
      if (error instanceof KeyFormatError) throw conflict(error.message, 'key_mismatch');
      throw error;
    }
  }
  if (!privateKey) {
    await ctx.rateLimiter.recordFailure(scope);
    throw forbidden('passphrase does not match this key', 'wrong_secret');
  }
  return { how: 'passphrase', privateKey };
}

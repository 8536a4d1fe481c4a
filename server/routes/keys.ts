/**
 * The seed key service's keys: create (online), upload (offline), public key
 * lookup, delete.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { CommonQuery, CreateKeyBody, KeyToken, SecretQuery, DeleteKeyBody } from '../../shared/wire.js';
import type { ServerContext } from '../context.js';
import { KeyFormatError, checkEncryptedPrivateKeyPem, generateRsaKey, parseRsaPublicKey, privateKeyHash, sealPrivateKey } from '../crypto/online.js';
import { keyedHash, randomToken, slowHash } from '../crypto/secrets.js';
import { badRequest } from '../http/errors.js';
import type { NewKey } from '../store/types.js';
import { findKey, secretFrom, unlockKey } from './key-access.js';

const TokenParams = z.strictObject({ token: KeyToken });
const MIN_PASSPHRASE = 8;

export function keyRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post(
    '/v1/keys',
    { config: { auth: 'device', audit: 'keys.create' }, schema: { body: CreateKeyBody.nullable(), querystring: z.strictObject(CommonQuery) } },
    async (request) => {
      const body = (request.body ?? {}) as z.infer<typeof CreateKeyBody>;
      const caller = request.caller;
      if (caller.kind !== 'device' && caller.kind !== 'client') throw badRequest('a device credential is required');
      const passphrase = secretFrom(request, 'passphrase');
      const pkh = secretFrom(request, 'privatekeyhash');
      if (body.publish && caller.kind !== 'device') throw badRequest('publish needs a device JWT: a client key names no user', 'publish_needs_user');
      const token = randomToken(32);
      const owner = caller.kind === 'device' ? caller.userId : null;
      let key: NewKey;

      if (body.publickey !== undefined) {
        if (pkh === undefined) throw badRequest('an uploaded key needs privatekeyhash', 'missing_secret');
        if (passphrase !== undefined) {
          throw badRequest('passphrase is for online create; to allow online decryption upload privatekey encrypted with it', 'unexpected_field');
        }
        let info;
        try {
          info = parseRsaPublicKey(body.publickey);
          if (body.privatekey !== undefined) checkEncryptedPrivateKeyPem(body.privatekey);
        } catch (error) {
          if (error instanceof KeyFormatError) throw badRequest(error.message, 'invalid_key');
          throw error;
        }
        key = {
          appId: caller.appId,
          tokenHash: keyedHash(ctx.pepper, token),
          mode: 'offline',
          publicKey: info.pem,
          fingerprint: info.fingerprint,
          bits: info.bits,
          privateKeyKind: body.privatekey === undefined ? null : 'pkcs8-pem',
          privateKey: body.privatekey === undefined ? null : Buffer.from(body.privatekey, 'utf8'),
          passphraseVerifier: null,
          privateKeyHashVerifier: await slowHash(pkh, ctx.options.scrypt),
          ownerUserId: owner,
          publishedToken: body.publish ? token : null,
          createdAt: Date.now(),
        };
      } else {
        if (body.privatekey !== undefined) throw badRequest('privatekey needs publickey (offline upload)', 'missing_field');
        if (pkh !== undefined) throw badRequest('privatekeyhash is computed by the server for an online key', 'unexpected_field');
        if (passphrase === undefined) throw badRequest('give passphrase (online create) or publickey and privatekeyhash (offline upload)', 'missing_field');
        if (passphrase.length < MIN_PASSPHRASE) throw badRequest(`passphrase must be at least ${MIN_PASSPHRASE} characters`, 'weak_passphrase');
        const generated = await generateRsaKey(ctx.options.rsaBits);
        const info = parseRsaPublicKey(generated.publicPem);
        const sealed = await sealPrivateKey(generated.privateDer, passphrase, ctx.options.scrypt);
        const pkhVerifier = await slowHash(privateKeyHash(generated.privateDer), ctx.options.scrypt);
        generated.privateDer.fill(0);
        key = {
          appId: caller.appId,
          tokenHash: keyedHash(ctx.pepper, token),
          mode: 'online',
          publicKey: info.pem,
          fingerprint: info.fingerprint,
          bits: info.bits,
          privateKeyKind: 'scrypt-aes-256-gcm',
          privateKey: sealed.sealed,
          passphraseVerifier: sealed.verifier,
          privateKeyHashVerifier: pkhVerifier,
          ownerUserId: owner,
          publishedToken: body.publish ? token : null,
          createdAt: Date.now(),
        };
      }
      const id = await ctx.store.insertKey(key);
      request.auditTarget = `key:${id}`;
      return { token };
    },
  );

  app.get(
    '/v1/keys/:token',
    { config: { auth: 'device', audit: 'keys.get' }, schema: { params: TokenParams, querystring: z.strictObject(CommonQuery) } },
    async (request) => {
      const key = await findKey(ctx, request, (request.params as { token: string }).token);
      return { publickey: key.publicKey, fingerprint: key.fingerprint, bits: key.bits, mode: key.mode, createdAt: new Date(key.createdAt).toISOString() };
    },
  );

  app.delete(
    '/v1/keys/:token',
    { config: { auth: 'device', audit: 'keys.delete' }, schema: { params: TokenParams, querystring: SecretQuery, body: DeleteKeyBody.nullable() } },
    async (request) => {
      const key = await findKey(ctx, request, (request.params as { token: string }).token);
      await unlockKey(ctx, request, key);
      await ctx.store.deleteKey(key.id);
      return { deleted: true };
    },
  );
}

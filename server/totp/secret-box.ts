/**
 * The TOTP secrets are kept sealed at rest (AES-256-GCM, the user's app and id
 * as associated data, so a sealed secret copied onto another user's row does not
 * open). The key comes from SEALPOST_TOTP_KEY (at least 32 characters; hashed to
 * 256 bits) when set — keep it in a secret manager, apart from the database —
 * else it is generated once and kept in the database (server_secrets), which
 * still keeps the secrets out of backups or dumps of the factors table alone.
 * @module
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Store } from '../store/types.js';

const VERSION = 1;

export async function loadTotpKey(store: Store, env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  const configured = env.SEALPOST_TOTP_KEY;
  if (configured !== undefined && configured !== '') {
    if (configured.length < 32) throw new RangeError('SEALPOST_TOTP_KEY must be at least 32 characters');
    return createHash('sha256').update(configured, 'utf8').digest();
  }
  return Buffer.from(await store.getOrCreateSecret('totp-key', () => randomBytes(32).toString('base64')), 'base64');
}

const aad = (appId: string, userId: string) => Buffer.from(`sealpost-totp\0${appId}\0${userId}`, 'utf8');

/** version(1) || nonce(12) || ciphertext || tag(16) */
export function sealTotpSecret(key: Buffer, appId: string, userId: string, secret: Uint8Array): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad(appId, userId));
  const body = Buffer.concat([cipher.update(secret), cipher.final()]);
  return Buffer.concat([Buffer.of(VERSION), nonce, body, cipher.getAuthTag()]);
}

/** @throws {Error} a sealed value that is not ours or was changed (or another TOTP key) */
export function openTotpSecret(key: Buffer, appId: string, userId: string, sealed: Buffer): Uint8Array {
  if (sealed.length < 1 + 12 + 16 + 1 || sealed[0] !== VERSION) throw new Error('the stored TOTP secret is not in a known format');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 13));
  decipher.setAAD(aad(appId, userId));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return new Uint8Array(Buffer.concat([decipher.update(sealed.subarray(13, sealed.length - 16)), decipher.final()]));
}

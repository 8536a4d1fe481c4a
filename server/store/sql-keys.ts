/**
 * Keys: a public key (and, for online keys, the sealed private key) that
 * messages are sent to, addressed by the hash of its token.
 * @module
 */
import { bufOrNull, num, str, strOrNull, type Row, type SqlQueries } from './sql-row.js';
import type { KeyRef, KeyRow, NewKey } from './types.js';

export const toKey = (r: Row): KeyRow => ({
  id: num(r.id),
  appId: str(r.app_id),
  tokenHash: str(r.token_hash),
  mode: str(r.mode) as KeyRow['mode'],
  publicKey: str(r.public_key),
  fingerprint: str(r.fingerprint),
  bits: num(r.bits),
  privateKeyKind: strOrNull(r.private_key_kind) as KeyRow['privateKeyKind'],
  privateKey: bufOrNull(r.private_key),
  passphraseVerifier: strOrNull(r.passphrase_verifier),
  privateKeyHashVerifier: str(r.private_key_hash_verifier),
  ownerUserId: strOrNull(r.owner_user_id),
  publishedToken: strOrNull(r.published_token),
  createdAt: num(r.created_at),
});

/** keyForSend's columns (keys k) and row shape, shared with the PostgreSQL store's batched form. */
export const KEY_REF_COLUMNS = 'k.id, k.mode, k.public_key, k.owner_user_id';
export function toKeyRef(r: Row): KeyRef {
  return { id: num(r.id), mode: str(r.mode) as KeyRef['mode'], publicKey: str(r.public_key), ownerUserId: strOrNull(r.owner_user_id) };
}

export async function insertKey(q: SqlQueries, k: NewKey): Promise<number> {
  const r = await q.get(
    `INSERT INTO keys (app_id, token_hash, mode, public_key, fingerprint, bits, private_key_kind, private_key, passphrase_verifier,
       private_key_hash_verifier, owner_user_id, published_token, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
    [
      k.appId,
      k.tokenHash,
      k.mode,
      k.publicKey,
      k.fingerprint,
      k.bits,
      k.privateKeyKind,
      k.privateKey,
      k.passphraseVerifier,
      k.privateKeyHashVerifier,
      k.ownerUserId,
      k.publishedToken,
      k.createdAt,
    ],
  );
  if (!r) throw new Error('key insert returned no id');
  return num(r.id);
}

export async function keyByTokenHash(q: SqlQueries, appId: string, tokenHash: string): Promise<KeyRow | undefined> {
  const r = await q.get('SELECT * FROM keys WHERE app_id = $1 AND token_hash = $2', [appId, tokenHash]);
  return r && toKey(r);
}

export async function keyForSend(q: SqlQueries, appId: string, tokenHash: string): Promise<KeyRef | undefined> {
  const r = await q.get(`SELECT ${KEY_REF_COLUMNS} FROM keys k WHERE k.app_id = $1 AND k.token_hash = $2`, [appId, tokenHash]);
  return r && toKeyRef(r);
}

export async function deleteKey(q: SqlQueries, id: number): Promise<boolean> {
  return (await q.run('DELETE FROM keys WHERE id = $1', [id])) > 0;
}

export async function publishedKeysOfUser(q: SqlQueries, appId: string, userId: string): Promise<KeyRow[]> {
  const rows = await q.all('SELECT * FROM keys WHERE app_id = $1 AND owner_user_id = $2 AND published_token IS NOT NULL ORDER BY created_at, id', [appId, userId]);
  return rows.map(toKey);
}

/**
 * Device link sessions (routes/link.ts): an existing device claims the
 * session, the new device reveals its key, the existing one seals the
 * secrets to it. Each step is one conditional update, so it happens once
 * however many requests race; expired sessions are never returned.
 * @module
 */
import { buf, bufOrNull, num, str, strOrNull, type Row, type SqlQueries } from './sql-row.js';
import type { LinkSessionRow } from './types.js';

const toLinkSession = (r: Row): LinkSessionRow => ({
  linkId: str(r.link_id),
  appId: str(r.app_id),
  usernameKey: str(r.username_key),
  code: str(r.code),
  commitment: buf(r.commitment),
  claimKey: bufOrNull(r.claim_key),
  claimedBy: strOrNull(r.claimed_by),
  revealKey: bufOrNull(r.reveal_key),
  sealed: bufOrNull(r.sealed),
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at),
});

export async function createLinkSession(q: SqlQueries, x: LinkSessionRow, now: number): Promise<boolean> {
  // Expired sessions give their codes back before the unique (app, code) check.
  await q.run('DELETE FROM link_sessions WHERE expires_at <= $1', [now]);
  const n = await q.run(
    `INSERT INTO link_sessions (link_id, app_id, username_key, code, commitment, claim_key, claimed_by, reveal_key, sealed, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, NULL, NULL, NULL, NULL, $6, $7) ON CONFLICT DO NOTHING`,
    [x.linkId, x.appId, x.usernameKey, x.code, x.commitment, x.createdAt, x.expiresAt],
  );
  return n > 0;
}

export async function getLinkSession(q: SqlQueries, appId: string, linkId: string, now: number): Promise<LinkSessionRow | undefined> {
  const r = await q.get('SELECT * FROM link_sessions WHERE app_id = $1 AND link_id = $2 AND expires_at > $3', [appId, linkId, now]);
  return r ? toLinkSession(r) : undefined;
}

export async function linkSessionByCode(q: SqlQueries, appId: string, code: string, now: number): Promise<LinkSessionRow | undefined> {
  const r = await q.get('SELECT * FROM link_sessions WHERE app_id = $1 AND code = $2 AND expires_at > $3', [appId, code, now]);
  return r ? toLinkSession(r) : undefined;
}

export async function claimLinkSession(q: SqlQueries, appId: string, linkId: string, deviceId: string, claimKey: Buffer, now: number): Promise<boolean> {
  // Conditional update: of two concurrent claims exactly one changes the row.
  const n = await q.run('UPDATE link_sessions SET claim_key = $3, claimed_by = $4 WHERE app_id = $1 AND link_id = $2 AND claimed_by IS NULL AND expires_at > $5', [
    appId,
    linkId,
    claimKey,
    deviceId,
    now,
  ]);
  return n > 0;
}

export async function revealLinkSession(q: SqlQueries, appId: string, linkId: string, revealKey: Buffer, now: number): Promise<boolean> {
  const n = await q.run('UPDATE link_sessions SET reveal_key = $3 WHERE app_id = $1 AND link_id = $2 AND claimed_by IS NOT NULL AND reveal_key IS NULL AND expires_at > $4', [
    appId,
    linkId,
    revealKey,
    now,
  ]);
  return n > 0;
}

export async function sealLinkSession(q: SqlQueries, appId: string, linkId: string, deviceId: string, sealed: Buffer, now: number): Promise<boolean> {
  const n = await q.run(
    'UPDATE link_sessions SET sealed = $4 WHERE app_id = $1 AND link_id = $2 AND claimed_by = $3 AND reveal_key IS NOT NULL AND sealed IS NULL AND expires_at > $5',
    [appId, linkId, deviceId, sealed, now],
  );
  return n > 0;
}

export async function deleteLinkSession(q: SqlQueries, appId: string, linkId: string): Promise<boolean> {
  return (await q.run('DELETE FROM link_sessions WHERE app_id = $1 AND link_id = $2', [appId, linkId])) > 0;
}

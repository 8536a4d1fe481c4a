/**
 * Device delegations (a device's signed grant to an agent key, shared/delegation.ts),
 * the lookup an agent token is checked against, and the used agent-token ids
 * that make each token single-use.
 * @module
 */
import { numOrNull, str, strOrNull, type SqlQueries } from './sql-row.js';
import type { AgentAuthRow, DelegationRow } from './types.js';

/** Records a token id unless it was used; shared with the SQLite store's group-committed form. */
export const INSERT_AGENT_TOKEN_ID = 'INSERT INTO agent_token_jtis (app_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT (app_id, jti) DO NOTHING';
export const PRUNE_AGENT_TOKEN_IDS = 'DELETE FROM agent_token_jtis WHERE expires_at <= $1';

export async function putDelegation(q: SqlQueries, appId: string, d: DelegationRow, at: number): Promise<boolean> {
  const other = await q.get('SELECT device_id FROM device_delegations WHERE app_id = $1 AND device_did = $2', [appId, d.deviceDid]);
  if (other && str(other.device_id) !== d.deviceId) return false;
  try {
    await q.run(
      `INSERT INTO device_delegations (app_id, device_id, device_did, delegation, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (app_id, device_id) DO UPDATE SET device_did = excluded.device_did, delegation = excluded.delegation, created_at = excluded.created_at`,
      [appId, d.deviceId, d.deviceDid, d.delegationJson, at],
    );
  } catch (error) {
    if (q.isUniqueViolation(error)) return false;
    throw error;
  }
  return true;
}

export async function delegationsOfUser(q: SqlQueries, appId: string, userId: string): Promise<DelegationRow[]> {
  const rows = await q.all(
    `SELECT g.device_id, g.device_did, g.delegation FROM device_delegations g JOIN devices d ON d.app_id = g.app_id AND d.device_id = g.device_id
     WHERE g.app_id = $1 AND d.user_id = $2 ORDER BY g.device_id`,
    [appId, userId],
  );
  return rows.map((r) => ({ deviceId: str(r.device_id), deviceDid: str(r.device_did), delegationJson: str(r.delegation) }));
}

export async function agentAuth(q: SqlQueries, appId: string, deviceDid: string): Promise<AgentAuthRow | undefined> {
  const r = await q.get(
    `SELECT g.device_id, g.delegation, d.user_id, d.revoked_at, u.did, a.revoked_at AS app_revoked_at
     FROM device_delegations g JOIN devices d ON d.app_id = g.app_id AND d.device_id = g.device_id
     JOIN users u ON u.id = d.user_id JOIN apps a ON a.id = g.app_id
     WHERE g.app_id = $1 AND g.device_did = $2`,
    [appId, deviceDid],
  );
  return (
    r && {
      deviceId: str(r.device_id),
      userId: str(r.user_id),
      did: strOrNull(r.did),
      delegationJson: str(r.delegation),
      revokedAt: numOrNull(r.revoked_at),
      appRevokedAt: numOrNull(r.app_revoked_at),
    }
  );
}

export async function useAgentTokenId(q: SqlQueries, appId: string, jti: string, expiresAt: number, now: number): Promise<boolean> {
  await q.run(PRUNE_AGENT_TOKEN_IDS, [now]);
  return (await q.run(INSERT_AGENT_TOKEN_ID, [appId, jti, expiresAt])) > 0;
}

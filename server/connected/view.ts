/**
 * How a stored request reads: its state with expiry applied, and the pending
 * request as the user's devices see it.
 * @module
 */
import type { ApprovalState, PendingApproval } from '../../shared/connected-wire.js';
import { transitFingerprint } from './admin.js';
import type { ApprovalRow, ConnectedAppRow } from './store.js';

export function stateOf(row: ApprovalRow, now: number): ApprovalState {
  return row.state === 'pending' && row.expiresAt <= now ? 'expired' : row.state;
}

export function pendingView(row: ApprovalRow, app: ConnectedAppRow): PendingApproval {
  return {
    id: row.id,
    kind: row.kind,
    app: { id: app.id, name: app.name, transitKeyPem: row.transitKey, transitKeyFingerprint: transitFingerprint(row.transitKey), keyBits: app.keyBits },
    reason: row.reason,
    returnTo: row.returnTo,
    ip: row.ip,
    nonce: row.nonce,
    createdAt: new Date(row.createdAt).toISOString(),
    expiresAt: new Date(row.expiresAt).toISOString(),
  };
}

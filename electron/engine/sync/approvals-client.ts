/**
 * The key service's approval routes for this user's devices (docs/api.md
 * "Connected apps"), through the profile's Connection. Responses are validated
 * against shared/connected-wire.ts.
 * @module
 */
import { DecisionResponse, PendingApproval, PendingApprovalsResponse, type SealedKey } from '../../../shared/connected-wire.js';
import type { Connection } from './connection.js';

export class ApprovalsClient {
  constructor(private readonly conn: Connection) {}

  /** GET /v1/approvals: the user's pending requests. */
  async pending(): Promise<PendingApproval[]> {
    const r = await this.conn.call((auth) => this.conn.client.request('GET', '/v1/approvals', { auth, schema: PendingApprovalsResponse }));
    return r!.requests;
  }

  /** POST /v1/approvals/claim. @throws {SyncError} 'rejected' (404 unknown_code), 'rate-limited' */
  async claim(code: string): Promise<PendingApproval> {
    return (await this.conn.call((auth) => this.conn.client.request('POST', '/v1/approvals/claim', { auth, body: { code }, schema: PendingApproval })))!;
  }

  /** POST /v1/approvals/{id}/approve. @throws {SyncError} 'rejected' (400 bad_signature ..., 409 request_decided, 410 request_expired) */
  async approve(id: string, body: { signature: string; time: string; sealedKey: SealedKey | null }): Promise<void> {
    await this.conn.call((auth) => this.conn.client.request('POST', `/v1/approvals/${id}/approve`, { auth, body, schema: DecisionResponse }));
  }

  /** POST /v1/approvals/{id}/deny. */
  async deny(id: string): Promise<void> {
    await this.conn.call((auth) => this.conn.client.request('POST', `/v1/approvals/${id}/deny`, { auth, body: {}, schema: DecisionResponse }));
  }
}

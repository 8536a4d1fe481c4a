/**
 * The recovery routes of a key service or escrow service (docs/api.md
 * "Recovery"): deposit a share, read what a restore needs, release a share.
 * Responses are validated against shared/recovery-wire.ts.
 * @module
 */
import type { z } from 'zod';
import { DepositResponse, RecoveryInfoResponse, ReleaseResponse, type DepositBody, type ReleaseBody } from '../../../shared/recovery-wire.js';
import { KeyServiceClient, type Auth } from './client.js';

export type RecoveryInfo = z.infer<typeof RecoveryInfoResponse>;
export type Released = z.infer<typeof ReleaseResponse>;

export class RecoveryClient {
  private readonly client: KeyServiceClient;

  constructor(baseUrl: string, private readonly auth: Auth) {
    this.client = new KeyServiceClient({ baseUrl });
  }

  get baseUrl(): string {
    return this.client.baseUrl;
  }

  /** PUT /v1/recovery/{username}. @throws {SyncError} */
  async deposit(username: string, body: DepositBody): Promise<{ gated: boolean }> {
    return (await this.client.request('PUT', `/v1/recovery/${encodeURIComponent(username)}`, { auth: this.auth, body, schema: DepositResponse }))!;
  }

  /** GET /v1/recovery/{username}. @throws {SyncError} */
  async info(username: string): Promise<RecoveryInfo> {
    return (await this.client.request('GET', `/v1/recovery/${encodeURIComponent(username)}`, { auth: this.auth, schema: RecoveryInfoResponse }))!;
  }

  /** POST /v1/recovery/{username}/release. @throws {SyncError} 'denied' (code wrong_check) or 'rate-limited' (recovery_locked) */
  async release(username: string, body: ReleaseBody): Promise<Released> {
    return (await this.client.request('POST', `/v1/recovery/${encodeURIComponent(username)}/release`, { auth: this.auth, body, schema: ReleaseResponse }))!;
  }
}

/**
 * The recovery routes of a key service or escrow service (docs/api.md
 * "Recovery"): deposit a share, read what a restore needs, release a share.
 * Responses are validated against shared/recovery-wire.ts.
 * @module
 */
import type { z } from 'zod';
import { TOTP_HEADER } from '../../../shared/enroll-wire.js';
import { DepositResponse, RecoveryInfoResponse, ReleaseResponse, type DepositBody, type ReleaseBody } from '../../../shared/recovery-wire.js';
import { KeyServiceClient, type Auth } from './client.js';

export type RecoveryInfo = z.infer<typeof RecoveryInfoResponse>;
export type Released = z.infer<typeof ReleaseResponse>;

/** The account's TOTP code travels in a header (docs/api.md "TOTP"), never in the URL or the signed body. */
const totpHeaders = (totp: string | undefined): Record<string, string> => (totp !== undefined ? { [TOTP_HEADER]: totp } : {});

export class RecoveryClient {
  private readonly client: KeyServiceClient;

  constructor(baseUrl: string, private readonly auth: Auth) {
    this.client = new KeyServiceClient({ baseUrl });
  }

  get baseUrl(): string {
    return this.client.baseUrl;
  }

  /** PUT /v1/recovery/{username}; `totp` when the account has it on. @throws {SyncError} 'denied' (totp_required, totp_invalid) */
  async deposit(username: string, body: DepositBody, totp?: string): Promise<{ gated: boolean }> {
    return (await this.client.request('PUT', `/v1/recovery/${encodeURIComponent(username)}`, { auth: this.auth, headers: totpHeaders(totp), body, schema: DepositResponse }))!;
  }

  /** GET /v1/recovery/{username}. @throws {SyncError} */
  async info(username: string): Promise<RecoveryInfo> {
    return (await this.client.request('GET', `/v1/recovery/${encodeURIComponent(username)}`, { auth: this.auth, schema: RecoveryInfoResponse }))!;
  }

  /**
   * POST /v1/recovery/{username}/release; `totp` when the account has it on.
   * @throws {SyncError} 'denied' (wrong_check, totp_required, totp_invalid) or 'rate-limited' (recovery_locked, a locked factor)
   */
  async release(username: string, body: ReleaseBody, totp?: string): Promise<Released> {
    return (await this.client.request('POST', `/v1/recovery/${encodeURIComponent(username)}/release`, { auth: this.auth, headers: totpHeaders(totp), body, schema: ReleaseResponse }))!;
  }
}

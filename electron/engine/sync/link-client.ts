/**
 * The device-link routes of the key service (docs/api.md "Device linking").
 * The new device calls with the app's client key (it has no device yet); the
 * existing device with its Connection (device JWT). Responses are validated
 * against shared/link-wire.ts.
 * @module
 */
import type { z } from 'zod';
import {
  ClaimLinkResponse,
  CreateLinkResponse,
  LinkDeletedResponse,
  LinkSessionResponse,
  LinkStateResponse,
} from '../../../shared/link-wire.js';
import { TOTP_HEADER } from '../../../shared/enroll-wire.js';
import { KeyServiceClient, type Auth } from './client.js';

export type CreatedLink = z.infer<typeof CreateLinkResponse>;
export type ClaimedLink = z.infer<typeof ClaimLinkResponse>;

export class LinkClient {
  readonly client: KeyServiceClient;

  constructor(baseUrl: string | KeyServiceClient) {
    this.client = typeof baseUrl === 'string' ? new KeyServiceClient({ baseUrl }) : baseUrl;
  }

  /** POST /v1/link. @throws {SyncError} 'rejected' (404 unknown_user) */
  async create(auth: Auth, username: string, commitment: string): Promise<CreatedLink> {
    return (await this.client.request('POST', '/v1/link', { auth, body: { username, commitment }, schema: CreateLinkResponse }))!;
  }

  /** POST /v1/link/claim. @throws {SyncError} 'rejected' (404 unknown_link_code, 409 link_claimed), 'rate-limited' */
  async claim(auth: Auth, code: string, publicKey: string, totp?: string): Promise<ClaimedLink> {
    const headers: Record<string, string> = totp !== undefined ? { [TOTP_HEADER]: totp } : {};
    return (await this.client.request('POST', '/v1/link/claim', { auth, headers, body: { code, publicKey }, schema: ClaimLinkResponse }))!;
  }

  /** GET /v1/link/{linkId}. @throws {SyncError} 'rejected' (404 unknown_link: expired or cancelled) */
  async get(auth: Auth, linkId: string): Promise<LinkSessionResponse> {
    return (await this.client.request('GET', `/v1/link/${linkId}`, { auth, schema: LinkSessionResponse }))!;
  }

  async reveal(auth: Auth, linkId: string, publicKey: string): Promise<void> {
    await this.client.request('POST', `/v1/link/${linkId}/reveal`, { auth, body: { publicKey }, schema: LinkStateResponse });
  }

  async seal(auth: Auth, linkId: string, sealed: string): Promise<void> {
    await this.client.request('POST', `/v1/link/${linkId}/seal`, { auth, body: { sealed }, schema: LinkStateResponse });
  }

  async remove(auth: Auth, linkId: string): Promise<void> {
    await this.client.request('DELETE', `/v1/link/${linkId}`, { auth, schema: LinkDeletedResponse });
  }
}

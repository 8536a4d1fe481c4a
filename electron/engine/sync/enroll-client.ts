/**
 * The key-service calls of enrollment codes and the TOTP second factor
 * (docs/api.md "Enrollment codes", "TOTP"), over the shared client so every
 * answer is validated and every failure is a typed SyncError.
 * @module
 */
import { z } from 'zod';
import type { DevicePackage } from '../../../shared/device-package.js';
import { EnrollResponse, TotpConfirmResponse, TotpSetupResponse, TotpStatusResponse } from '../../../shared/enroll-wire.js';
import type { Auth, KeyServiceClient } from './client.js';
import { SyncError } from './errors.js';

/** POST /v1/enroll: binds this device with a one-time code; answers the user id and a first device JWT. */
export async function enrollDevice(
  client: KeyServiceClient,
  input: { appId: string; username: string; code: string; devicePackage: DevicePackage; totp?: string | undefined },
): Promise<{ userId: string; jwt: string; expiresAt: number }> {
  const r = (await client.request('POST', '/v1/enroll', {
    body: { appid: input.appId, username: input.username, code: input.code, devicePackage: input.devicePackage, ...(input.totp !== undefined && { totp: input.totp }) },
    schema: EnrollResponse,
  }))!;
  const expiresAt = Date.parse(r.expiresAt);
  if (!Number.isFinite(expiresAt)) throw new SyncError('bad-response', 'enroll answered an unreadable expiry time.');
  return { userId: r.userid, jwt: r.jwt, expiresAt };
}

export const totpStatus = async (client: KeyServiceClient, auth: Auth) => (await client.request('GET', '/v1/totp', { auth, schema: TotpStatusResponse }))!;

export const totpSetup = async (client: KeyServiceClient, auth: Auth) => (await client.request('POST', '/v1/totp/setup', { auth, schema: TotpSetupResponse }))!;

export const totpConfirm = async (client: KeyServiceClient, auth: Auth, code: string) =>
  (await client.request('POST', '/v1/totp/confirm', { auth, body: { code }, schema: TotpConfirmResponse }))!;

export const totpDisable = async (client: KeyServiceClient, auth: Auth, code: string) =>
  (await client.request('POST', '/v1/totp/disable', { auth, body: { code }, schema: z.object({ enabled: z.literal(false) }) }))!;

import { z } from 'zod';
import { call } from './contract-fields.js';
import { TotpInput } from './contract-totp.js';

/**
 * Contract channels for the user's devices (spread into shared/contract.ts): the
 * list the key service keeps for this user, and revoking another device.
 * docs/security.md "Devices".
 */
const DeviceId = z.string().regex(/^[0-9a-f]{32}$/, 'a device id is 32 lowercase hex digits');

export const DeviceValue = z.object({
  deviceId: DeviceId,
  /** ISO time the key service first saw the device. */
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
  /** did:key of the device's own key, once its delegation is published. */
  deviceDid: z.string().nullable(),
  /** The device this app runs on. */
  current: z.boolean(),
});

export const devicesChannels = {
  /** The key service's list of this user's devices; `agentTokens`: this device signs its requests with its delegated device key. */
  'devices:list': call(z.object({}).strict(), z.object({ devices: z.array(DeviceValue), agentTokens: z.boolean() })),
  /** Revokes another device of this user: its requests are refused from then on. `totp`: the account's code when its two-step verification is on. */
  'devices:revoke': call(z.object({ deviceId: DeviceId, totp: TotpInput.optional() }).strict(), z.object({ deviceId: DeviceId, revokedAt: z.string() })),
} as const;

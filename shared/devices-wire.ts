import { z } from 'zod';

/**
 * Key-service wire schemas for a user's own devices (docs/api.md "Devices"):
 * the list a signed-in device sees, and revoking one of them.
 */

export const DeviceIdParam = z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex digits');

export const OwnDevice = z.object({
  deviceId: z.string(),
  /** The identity fingerprint the device package named (same for every device of one identity until a key rotation). */
  fingerprint: z.string(),
  createdAt: z.string(),
  /** ISO time of revocation; null while the device may act for the user. */
  revokedAt: z.string().nullable(),
  /** did:key of the device's own Ed25519 key once it published its delegation. */
  deviceDid: z.string().nullable(),
  /** The device asking. */
  current: z.boolean(),
});
export type OwnDevice = z.infer<typeof OwnDevice>;

export const OwnDevicesResponse = z.object({ devices: z.array(OwnDevice) });
export const RevokeDeviceResponse = z.object({ deviceId: z.string(), revokedAt: z.string() });

/**
 * This device's own Ed25519 key (IOTICS delegation, docs/security.md "Devices"):
 * made at registration, delegated by the identity key, then used to sign the
 * short-lived agent tokens the engine authenticates with.
 *
 * The key is random per device and bound to the device id it was made for: a
 * profile that got a new device id (a new identity, a restore) gets a new key,
 * because the key service keeps each device key to one device.
 * @module
 */
import { z } from 'zod';
import { deviceKeyFromSecret, makeAgentToken, newDeviceKey, signDelegation, type DeviceKey } from '../crypto/delegation.js';
import type { Keychain } from '../keychain/types.js';
import type { Auth, KeyServiceClient } from './client.js';
import { SyncError } from './errors.js';

const ACCOUNT = 'device-key';

const StoredDeviceKey = z.object({
  deviceId: z.string().regex(/^[0-9a-f]{32}$/),
  /** The identity's did:key: the `sub` of every agent token. */
  did: z.string().min(1).max(200),
  secretKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  /** Set once the key service accepted the delegation (agent tokens work from then on). */
  publishedAt: z.number().int().nullable(),
});
type StoredDeviceKey = z.infer<typeof StoredDeviceKey>;

export interface DelegatedDevice {
  key: DeviceKey;
  deviceId: string;
  did: string;
}

async function readStored(keychain: Keychain): Promise<StoredDeviceKey | null> {
  const raw = await keychain.get(ACCOUNT);
  if (!raw) return null;
  try {
    const parsed = StoredDeviceKey.safeParse(JSON.parse(new TextDecoder().decode(raw)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

const write = (keychain: Keychain, value: StoredDeviceKey) => keychain.set(ACCOUNT, new TextEncoder().encode(JSON.stringify(value)));

/**
 * The published device key of this device, or null when there is none yet (not
 * registered since delegations exist, or another device id / identity now).
 * @throws {KeychainError}
 */
export async function delegatedDevice(keychain: Keychain, deviceId: string): Promise<DelegatedDevice | null> {
  const s = await readStored(keychain);
  if (!s || s.deviceId !== deviceId || s.publishedAt === null) return null;
  return { key: deviceKeyFromSecret(new Uint8Array(Buffer.from(s.secretKey, 'base64url'))), deviceId, did: s.did };
}

/** Credentials that sign a fresh single-use agent token for every request (the service refuses a reused jti). */
export function agentAuth(device: DelegatedDevice, appId: string, now: () => number, ttlSeconds = 120): Auth {
  return { agent: () => makeAgentToken(device.key, { sub: device.did, aud: appId, ttlSeconds, now: now() }) };
}

/**
 * Makes (or keeps) this device's key, has the identity sign its delegation and
 * publishes it (POST /v1/devices/{deviceId}/delegation). Returns the device key's
 * did, or null when the key service predates delegations (404): the device then
 * keeps authenticating with its JWT.
 * @throws {SyncError} any other failure; KeychainError
 */
export async function publishDelegation(
  keychain: Keychain,
  client: KeyServiceClient,
  auth: Auth,
  input: { deviceId: string; did: string; identitySecretKey: Uint8Array; now: number },
): Promise<string | null> {
  const stored = await readStored(keychain);
  const reuse = stored && stored.deviceId === input.deviceId && stored.did === input.did;
  const key = reuse ? deviceKeyFromSecret(new Uint8Array(Buffer.from(stored.secretKey, 'base64url'))) : newDeviceKey();
  // Stored before it is published: a crash in between leaves a key the next registration publishes.
  if (!reuse) await write(keychain, { deviceId: input.deviceId, did: input.did, secretKey: Buffer.from(key.secretKey).toString('base64url'), publishedAt: null });
  const delegation = signDelegation(input.identitySecretKey, { did: input.did, deviceId: input.deviceId, deviceDid: key.did, issuedAt: new Date(input.now).toISOString() });
  try {
    await client.publishDelegation(auth, input.deviceId, delegation);
  } catch (e) {
    // The route itself never answers 404: a 404 means a key service without it.
    if (e instanceof SyncError && e.kind === 'rejected' && e.extra.status === 404) return null;
    throw e;
  }
  await write(keychain, { deviceId: input.deviceId, did: input.did, secretKey: Buffer.from(key.secretKey).toString('base64url'), publishedAt: input.now });
  return key.did;
}

/**
 * Registration (docs/api.md, "What the desktop engine calls", steps 1-2):
 * POST /v1/user/register with the signed device package, POST /v1/gen-jwt for
 * this device, then POST /v1/keys to upload our RSA public key with its
 * privatekeyhash as a published inbox, and last POST /v1/devices/{id}/delegation
 * with the identity's delegation to this device's own key (sync/device-key.ts). The desktop app plays its own back end
 * here, with the app's server key given at registration.
 *
 * Secrets go to the keychain ('server-credentials'); settings get only what is
 * not secret: app id, user id, username, server URL. Registering again (same
 * server, app and username) keeps the existing inbox. A device restored from
 * recovery (same RSA key, no inbox in its keychain) adopts the inbox the
 * directory publishes for that key, so the messages senders put there come back.
 * @module
 */
import { createHash, createPublicKey } from 'node:crypto';
import type { DevicePackage } from '../../../shared/device-package.js';
import type { Keychain } from '../keychain/types.js';
import type { Db } from '../vault/_sql.js';
import { getSetting, setSetting } from '../vault/settings.js';
import { z } from 'zod';
import { KeyServiceClient } from './client.js';
import type { Registration } from './connection.js';
import { readCredentials, updateCredentials } from './credentials.js';
import { publishDelegation } from './device-key.js';

export const RegistrationSetting = z.object({ appId: z.string(), userId: z.string(), username: z.string(), server: z.string() });
export const REGISTRATION_KEY = 'registration';

export function readRegistration(db: Db): Registration | null {
  return getSetting(db, REGISTRATION_KEY, RegistrationSetting) ?? null;
}

export interface RegisterInput {
  server: string;
  appId: string;
  serverKey: string;
  clientKey?: string;
  username: string;
  devicePackage: DevicePackage;
  publicKeyPem: string;
  privateKeyHash: string;
  /** Signs the delegation to this device's own key (the package's identity). */
  identitySecretKey: Uint8Array;
}

/** The inbox the directory already publishes for this RSA key (a restored identity), if any. */
async function publishedInboxOf(client: KeyServiceClient, jwt: string, username: string, publicKeyPem: string): Promise<string | undefined> {
  const ours = createHash('sha256').update(createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' })).digest('hex');
  const entry = await client.lookupUser({ jwt }, username);
  return entry.encryptionKeys.find((k) => k.keyFingerprint === ours && k.inbox !== null)?.inbox ?? undefined;
}

/** @throws {SyncError} from any step; KeychainError */
export async function registerDevice(db: Db, keychain: Keychain, input: RegisterInput, now: number): Promise<{ registration: Registration; newInbox: boolean }> {
  const client = new KeyServiceClient({ baseUrl: input.server });
  const userId = await client.register({ appId: input.appId, serverKey: input.serverKey, username: input.username, devicePackage: input.devicePackage });
  const { jwt, expiresAt } = await client.genJwt({ appId: input.appId, serverKey: input.serverKey, deviceId: input.devicePackage.deviceId });
  const previous = readRegistration(db);
  const creds = await readCredentials(keychain);
  const same = previous !== null && previous.server === client.baseUrl && previous.appId === input.appId && previous.userId === userId;
  let inbox = same && creds.privateKeyHash === input.privateKeyHash ? creds.inbox : undefined;
  inbox ??= await publishedInboxOf(client, jwt, input.username, input.publicKeyPem);
  const newInbox = inbox === undefined;
  inbox ??= await client.createInbox({ jwt }, { publicKeyPem: input.publicKeyPem, privateKeyHash: input.privateKeyHash, publish: true });
  await updateCredentials(keychain, {
    serverKey: input.serverKey,
    ...(input.clientKey !== undefined && { clientKey: input.clientKey }),
    jwt,
    jwtExpiresAt: expiresAt,
    inbox,
    privateKeyHash: input.privateKeyHash,
  });
  // Last: a device whose delegation is published authenticates with agent tokens from now on.
  await publishDelegation(keychain, client, { jwt }, { deviceId: input.devicePackage.deviceId, did: input.devicePackage.did, identitySecretKey: input.identitySecretKey, now });
  const registration: Registration = { appId: input.appId, userId, username: input.username, server: client.baseUrl };
  if (!same) {
    // A different account or server: its cursors mean nothing here.
    db.prepare('DELETE FROM sync_cursors').run();
  }
  setSetting(db, REGISTRATION_KEY, registration, now);
  return { registration, newInbox };
}

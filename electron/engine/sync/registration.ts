/**
 * Registration (docs/api.md, "What the desktop engine calls", steps 1-2):
 * POST /v1/user/register with the signed device package, POST /v1/gen-jwt for
 * this device, then POST /v1/keys to upload our RSA public key with its
 * privatekeyhash as a published inbox, and last POST /v1/devices/{id}/delegation
 * with the identity's delegation to this device's own key (sync/device-key.ts).
 *
 * Two ways in. With a one-time enrollment code from the organisation's admin,
 * POST /v1/enroll does the first two steps and answers the first JWT; the desktop
 * never sees the server key, and once the delegation is published it signs its
 * own agent tokens, so it needs no gen-jwt either (docs/security.md "Why
 * desktops never hold the server key"). With the app's server key (the
 * organisation's own back end, development) the desktop plays its own back end.
 *
 * Secrets go to the keychain ('server-credentials'); settings get only what is
 * not secret: app id, user id, username, server URL. Registering again (same
 * server, app and username) keeps the existing inbox. A device restored from
 * recovery (same RSA key, no inbox in its keychain) adopts the inbox the
 * directory publishes for that key, so the messages senders put there come back.
 * A desktop whose key its identity has since rotated away from (an identity file
 * exported before the rotation) is told so (newerKey).
 * @module
 */
import { createHash, createPublicKey } from 'node:crypto';
import type { NewerKey } from '../../../shared/contract-messaging.js';
import type { DevicePackage } from '../../../shared/device-package.js';
import type { Keychain } from '../keychain/types.js';
import type { Db } from '../vault/_sql.js';
import { getSetting, setSetting } from '../vault/settings.js';
import { z } from 'zod';
import { KeyServiceClient, type Directory } from './client.js';
import type { Registration } from './connection.js';
import { readCredentials, updateCredentials } from './credentials.js';
import { publishDelegation } from './device-key.js';
import { enrollDevice } from './enroll-client.js';
import { SyncError } from './errors.js';
import { followKeyChanges } from './key-chain.js';

export const RegistrationSetting = z.object({ appId: z.string(), userId: z.string(), username: z.string(), server: z.string() });
export const REGISTRATION_KEY = 'registration';

export function readRegistration(db: Db): Registration | null {
  return getSetting(db, REGISTRATION_KEY, RegistrationSetting) ?? null;
}

export interface RegisterInput {
  server: string;
  appId: string;
  /** Exactly one of serverKey and enrollmentCode. */
  serverKey?: string | undefined;
  enrollmentCode?: string | undefined;
  /** The account's current TOTP code, when its two-step verification is on (enrollment only). */
  totp?: string | undefined;
  clientKey?: string;
  username: string;
  devicePackage: DevicePackage;
  publicKeyPem: string;
  privateKeyHash: string;
  /** Signs the delegation to this device's own key (the package's identity). */
  identitySecretKey: Uint8Array;
  /** Encryption keys rotated out (newest first): their published inboxes are read too. */
  previousKeys?: ReadonlyArray<{ publicKeyPem: string; privateKeyHash: string }>;
}

const spkiFingerprint = (publicKeyPem: string): string => createHash('sha256').update(createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' })).digest('hex');

/** The inboxes the directory publishes for our keys, by SPKI fingerprint (a restored identity finds its own here). */
function publishedInboxes(entry: Directory): Map<string, string> {
  return new Map(entry.encryptionKeys.filter((k) => k.inbox !== null).map((k) => [k.keyFingerprint, k.inbox!]));
}

/**
 * Whether the identity has rotated past the key this desktop holds: changes
 * signed by our own identity key lead from our key to a newer one. A desktop
 * set up from an identity file exported before a rotation is in this state:
 * it cannot open what contacts seal to the newer key, so the user is told.
 * Unsigned steps the directory may list prove nothing and are ignored.
 */
export function newerKeyThanOurs(entry: Directory, pkg: DevicePackage): NewerKey | null {
  const end = followKeyChanges(pkg.did, { fingerprint: pkg.fingerprint, pem: pkg.encryptionPublicKey }, entry.keyChanges ?? []);
  const last = end.signed.at(-1);
  return last ? { fingerprint: last.newFingerprint, changedAt: last.changedAt } : null;
}

/** The user id and a first device JWT: from the enrollment code, or from user/register + gen-jwt with the server key. */
async function firstCredentials(client: KeyServiceClient, input: RegisterInput): Promise<{ userId: string; jwt: string; expiresAt: number }> {
  const { appId, username, devicePackage } = input;
  if (input.enrollmentCode !== undefined) return enrollDevice(client, { appId, username, code: input.enrollmentCode, devicePackage, totp: input.totp });
  if (input.serverKey === undefined) throw new SyncError('unregistered', 'Registering needs an enrollment code (or the app\'s server key).');
  const userId = await client.register({ appId, serverKey: input.serverKey, username, devicePackage });
  return { userId, ...(await client.genJwt({ appId, serverKey: input.serverKey, deviceId: devicePackage.deviceId })) };
}

/** @throws {SyncError} from any step; KeychainError */
export async function registerDevice(db: Db, keychain: Keychain, input: RegisterInput, now: number): Promise<{ registration: Registration; newInbox: boolean; newerKey: NewerKey | null }> {
  const client = new KeyServiceClient({ baseUrl: input.server });
  const { userId, jwt, expiresAt } = await firstCredentials(client, input);
  const previous = readRegistration(db);
  const creds = await readCredentials(keychain);
  const same = previous !== null && previous.server === client.baseUrl && previous.appId === input.appId && previous.userId === userId;
  let inbox = same && creds.privateKeyHash === input.privateKeyHash ? creds.inbox : undefined;
  const self = await client.lookupUser({ jwt }, input.username);
  const published = publishedInboxes(self);
  inbox ??= published.get(spkiFingerprint(input.publicKeyPem));
  const newInbox = inbox === undefined;
  // Keys we rotated out keep their published inboxes: a restored or linked device
  // reads them too, so messages sealed to an old key before (or after) the rotation
  // come back here as well, not only on the device that rotated.
  const previousInboxes = [...(same ? (creds.previousInboxes ?? []) : [])];
  for (const k of input.previousKeys ?? []) {
    const found = published.get(spkiFingerprint(k.publicKeyPem));
    if (found && !previousInboxes.some((p) => p.inbox === found)) previousInboxes.push({ inbox: found, privateKeyHash: k.privateKeyHash });
  }
  inbox ??= await client.createInbox({ jwt }, { publicKeyPem: input.publicKeyPem, privateKeyHash: input.privateKeyHash, publish: true });
  await updateCredentials(keychain, {
    // Registering with a code removes a server key kept from an earlier registration.
    serverKey: input.serverKey,
    ...(input.clientKey !== undefined && { clientKey: input.clientKey }),
    jwt,
    jwtExpiresAt: expiresAt,
    inbox,
    privateKeyHash: input.privateKeyHash,
    previousInboxes: previousInboxes.length > 0 ? previousInboxes.slice(0, 64) : undefined,
  });
  // Last: a device whose delegation is published authenticates with agent tokens from now on.
  await publishDelegation(keychain, client, { jwt }, { deviceId: input.devicePackage.deviceId, did: input.devicePackage.did, identitySecretKey: input.identitySecretKey, now });
  const registration: Registration = { appId: input.appId, userId, username: input.username, server: client.baseUrl };
  if (!same) {
    // A different account or server: its cursors mean nothing here.
    db.prepare('DELETE FROM sync_cursors').run();
  }
  setSetting(db, REGISTRATION_KEY, registration, now);
  return { registration, newInbox, newerKey: newerKeyThanOurs(self, input.devicePackage) };
}

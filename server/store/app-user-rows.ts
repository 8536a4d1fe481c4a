/**
 * The key service's rows for apps, users and their devices: app keys,
 * identities, device packages, delegations, key changes and what each
 * request's authentication is checked against (types.ts has the Store).
 */

export interface AppRow {
  id: string;
  name: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface AppSummary extends AppRow {
  users: number;
  devices: number;
}

export interface NewApp {
  id: string;
  name: string;
  serverKeyHash: string;
  clientKeyHash: string;
  createdAt: number;
}

export interface UserRow {
  id: string;
  appId: string;
  username: string;
  /** The identity (did:key) bound by the first device package; null until then. */
  did: string | null;
  /** Ed25519 identity public key, base64url; null until the first device. */
  signingKey: string | null;
  createdAt: number;
}

export interface DeviceRow {
  appId: string;
  deviceId: string;
  userId: string;
  /** The signed device package as JSON text. */
  packageJson: string;
  encryptionKey: string;
  fingerprint: string;
  createdAt: number;
  revokedAt: number | null;
}

/** A device's published delegation (shared/delegation.ts). */
export interface DelegationRow {
  deviceId: string;
  deviceDid: string;
  /** The signed delegation as JSON text. */
  delegationJson: string;
}

/** A signed encryption-key change (shared/key-change.ts), in the user's order. */
export interface KeyChangeRow {
  seq: number;
  oldFingerprint: string;
  newFingerprint: string;
  /** The signed statement as JSON text. */
  statementJson: string;
  createdAt: number;
}

/** What an agent token is checked against on every request. */
export interface AgentAuthRow {
  deviceId: string;
  userId: string;
  /** The user's identity did:key. */
  did: string | null;
  delegationJson: string;
  revokedAt: number | null;
  appRevokedAt: number | null;
}

/** What a device JWT is checked against on every request. */
export interface DeviceAuthRow {
  userId: string;
  revokedAt: number | null;
  appRevokedAt: number | null;
}

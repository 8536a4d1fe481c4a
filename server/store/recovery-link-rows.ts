/**
 * The key service's rows for account recovery and device linking
 * (routes/recovery.ts, routes/link.ts; types.ts has the Store).
 */

/** A user's recovery record (routes/recovery.ts): one share of the backup key and what guards it. */
export interface RecoveryRow {
  appId: string;
  /** usernameKey(username): case- and normalisation-insensitive. */
  usernameKey: string;
  /** Ed25519 identity public key (base64url) that signed the deposit; later deposits must match. */
  identityKey: string;
  share: Buffer;
  pinParams: string | null;
  backup: Buffer | null;
  /** SHA-256 of the client's check values; a record with either is gated. */
  pinCheckHash: Buffer | null;
  wordsCheckHash: Buffer | null;
  escrow: string | null;
  failures: number;
  lockedUntil: number;
  updatedAt: number;
}

/** A device link session (routes/link.ts): only public keys, a commitment and ciphertext. */
export interface LinkSessionRow {
  linkId: string;
  appId: string;
  /** usernameKey(username) of the user whose device may claim it. */
  usernameKey: string;
  /** 8 digits, unique among the app's live sessions. */
  code: string;
  commitment: Buffer;
  claimKey: Buffer | null;
  /** The device id that claimed it (only it may seal). */
  claimedBy: string | null;
  revealKey: Buffer | null;
  sealed: Buffer | null;
  createdAt: number;
  expiresAt: number;
}

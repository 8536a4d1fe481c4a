/**
 * The key service's rows for keys and the messages sent to them: key
 * records, what a send needs of a key, stored and acknowledged messages
 * (types.ts has the Store).
 */

export type KeyMode = 'online' | 'offline';
/** How a key's private half is kept: sealed by the server, an uploaded encrypted PKCS#8 PEM, or not at all. */
export type PrivateKeyKind = 'scrypt-aes-256-gcm' | 'pkcs8-pem' | null;

export interface NewKey {
  appId: string;
  tokenHash: string;
  mode: KeyMode;
  publicKey: string;
  fingerprint: string;
  bits: number;
  privateKeyKind: PrivateKeyKind;
  privateKey: Buffer | null;
  /** scrypt verifier of the passphrase (server-sealed keys only). */
  passphraseVerifier: string | null;
  /** scrypt verifier of the privatekeyhash. */
  privateKeyHashVerifier: string;
  ownerUserId: string | null;
  /** The token itself, kept only for keys published in the directory. */
  publishedToken: string | null;
  createdAt: number;
}

export interface KeyRow extends NewKey {
  id: number;
}

/** What a send needs of a key. */
export interface KeyRef {
  id: number;
  mode: KeyMode;
  publicKey: string;
  /** Whose inbox it is (the push stream tells that user's devices); null for a key made with a client key. */
  ownerUserId: string | null;
}

/** A message an inbox read acknowledged, for the sender's delivered event. */
export interface AckedMessage {
  /** As recorded by the send: `device:<deviceId>`, `client` or `server`. */
  sender: string;
  clientId: string;
}

export interface NewMessage {
  kind: KeyMode;
  isFile: boolean;
  fileName: string | null;
  contentType: string | null;
  body: Buffer;
  encKey: Buffer;
  size: number;
  sentOn: number;
  sender: string | null;
}

export interface MessageRow extends NewMessage {
  seq: number;
  clientId: string | null;
}

export interface InsertMessagesResult {
  /** MessageIds (per-key sequence numbers) of the stored messages, in order. */
  ids: number[];
  /** True when the clientId had been seen: nothing new was stored. */
  duplicate: boolean;
  /** For a duplicate: whether the earlier send had the same content. */
  sameContent: boolean;
}

/** Whether insertMessages appends the `audit` it was given: always, except for a clientId reused with different content. */
export function auditsInsert(result: InsertMessagesResult): boolean {
  return !result.duplicate || result.sameContent;
}

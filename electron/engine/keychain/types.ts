/**
 * The keychain seam (design §3 "Private key at rest"): fixed account names per
 * profile, bytes in and out, and typed errors. Two backends implement it: the OS
 * Secret Service through keytar (secret-service-keychain.ts) and a file in the
 * profile directory used only when no Secret Service answers (file-keychain.ts).
 *
 * Values handed to a keychain are always already sealed by their owner (the
 * identity record is PIN-sealed by session/pin-vault.ts; the audit head is a
 * public hash), so neither backend ever holds plaintext key material.
 * @module
 */

/** The service name every entry is stored under (OS keychain "service"/"label"). */
export const KEYCHAIN_SERVICE = 'Sealpost';

/**
 * The only accounts that exist. They are fixed here, never chosen by the UI, so no
 * IPC argument can name an arbitrary keychain entry. Adding one is one line.
 * - `identity`: the PIN vault record (sealed private keys + PIN attempt counter).
 * - `audit-head`: id and hash of the newest audit entry (anchors the vault's chain).
 * - `server-credentials`: sealed key-service credentials (token, client key).
 * - `escrow-credentials`: the escrow service's client key (service/recovery.ts).
 * - `device-key`: this device's own Ed25519 key (sync/device-key.ts). Like the
 *   server credentials it must sign while the PIN session is locked (background
 *   sync), so the OS keychain (or the sealed file fallback) is its protection.
 */
export const KEYCHAIN_ACCOUNTS = ['identity', 'audit-head', 'server-credentials', 'escrow-credentials', 'device-key'] as const;

export type KeychainAccount = (typeof KEYCHAIN_ACCOUNTS)[number];

/** Which store answers: the OS Secret Service, or the sealed file fallback. */
export type KeychainBackend = 'secret-service' | 'file';

/** Bytes under fixed account names, per profile. */
export interface Keychain {
  readonly backend: KeychainBackend;
  /**
   * The stored bytes, or null when the account has no entry.
   * @throws {KeychainError} 'unavailable' (store not answering), 'corrupt' (unreadable entry/file), 'io'
   */
  get(account: KeychainAccount): Promise<Uint8Array | null>;
  /**
   * Creates or replaces the entry; durable when the promise resolves.
   * @throws {KeychainError} 'unavailable', 'corrupt', 'io', 'invalid-input'
   */
  set(account: KeychainAccount, value: Uint8Array): Promise<void>;
  /**
   * Removes the entry; true when there was one.
   * @throws {KeychainError} 'unavailable', 'corrupt', 'io'
   */
  delete(account: KeychainAccount): Promise<boolean>;
}

export type KeychainErrorKind = 'unavailable' | 'corrupt' | 'io' | 'invalid-input';

/** Every deliberate keychain failure. Messages never contain stored values. */
export class KeychainError extends Error {
  constructor(
    readonly kind: KeychainErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KeychainError';
  }
}

const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Profile names become part of the OS keychain account ("<profile>/<purpose>").
 * @throws {KeychainError} 'invalid-input' unless 1-64 of letters, digits, . _ - (not leading . _ -)
 */
export function checkProfileName(name: unknown): string {
  if (typeof name !== 'string' || !PROFILE_NAME.test(name)) {
    throw new KeychainError('invalid-input', 'profile name must be 1-64 letters, digits, ".", "_" or "-"');
  }
  return name;
}

/**
 * Guards the account at run time too (a caller outside TypeScript could pass anything).
 * @throws {KeychainError} 'invalid-input' for a name not in {@link KEYCHAIN_ACCOUNTS}
 */
export function checkAccount(account: unknown): KeychainAccount {
  if (typeof account !== 'string' || !(KEYCHAIN_ACCOUNTS as readonly string[]).includes(account)) {
    throw new KeychainError('invalid-input', 'unknown keychain account');
  }
  return account as KeychainAccount;
}

/**
 * @throws {KeychainError} 'invalid-input' when value is not a Uint8Array or is over 64 KiB
 */
export function checkValue(value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new KeychainError('invalid-input', 'keychain value must be a Uint8Array');
  if (value.length > 64 * 1024) throw new KeychainError('invalid-input', 'keychain value over 64 KiB');
  return value;
}

/**
 * The largest value (as stored: base64 text) any OS keychain takes: Windows Credential
 * Manager's CRED_MAX_CREDENTIAL_BLOB_SIZE (5 × 512 bytes). libsecret and the macOS
 * Keychain take more, but one limit for all keeps a profile portable and the Windows
 * path tested on Linux. Every account's value is far below it (docs/security.md).
 */
export const OS_KEYCHAIN_MAX_VALUE_BYTES = 2560;

/**
 * @throws {KeychainError} 'invalid-input' when the stored text is over {@link OS_KEYCHAIN_MAX_VALUE_BYTES}
 */
export function checkOsKeychainFit(encoded: string, account: KeychainAccount): string {
  const bytes = Buffer.byteLength(encoded, 'utf8');
  if (bytes > OS_KEYCHAIN_MAX_VALUE_BYTES) {
    throw new KeychainError('invalid-input', `the ${account} entry is ${bytes} bytes, over the ${OS_KEYCHAIN_MAX_VALUE_BYTES} bytes every OS keychain accepts`);
  }
  return encoded;
}

/** "<profile>/<purpose>": the OS keychain account of one entry (design §3). */
export const entryName = (profileName: string, account: KeychainAccount | '.probe'): string => `${profileName}/${account}`;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const toBase64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

/**
 * Strict base64 (Buffer.from would silently skip junk).
 * @throws {KeychainError} 'corrupt'
 */
export function fromBase64(s: string, what: string): Uint8Array {
  if (!BASE64.test(s)) throw new KeychainError('corrupt', `${what} is not base64`);
  const b = Buffer.from(s, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

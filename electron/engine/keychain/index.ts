/**
 * Keychain: fixed per-profile accounts in the OS Secret Service, or a sealed file
 * when none answers. Start with {@link openKeychain}.
 * @module
 */
export * from './types.js';
export { FileKeychain, KEYCHAIN_FILE, writeAtomic } from './file-keychain.js';
export {
  SecretServiceKeychain,
  loadKeytar,
  probeSecretService,
  dbusProblem,
  type KeytarApi,
  type ProbeOptions,
  type ProbeResult,
} from './secret-service-keychain.js';
export { openKeychain, BACKEND_MARKER, type OpenKeychainOptions, type OpenedKeychain } from './open.js';

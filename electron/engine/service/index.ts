/**
 * The engine's facade: one object that implements the contract (shared/contract.ts)
 * over the crypto, keychain, session and vault modules. Electron's IPC handlers,
 * the browser bridge and the CLI all call these handlers through dispatch(), which
 * has already validated the input against the channel's schema.
 *
 * Every handler returns a Result (results.ts maps typed errors to the seed's codes
 * once). Key and data requests are recorded in the hash-chained audit log with
 * their outcome, failed ones included (handler-results.ts).
 *
 * Where things are: engine.ts builds one profile's engine and its Service,
 * engine-core.ts holds what every part shares (vault, keychain, PIN session, keys,
 * audit, events), handler-table.ts assembles the contract's handlers from the
 * *-handlers.ts modules and the components (messaging.ts, items.ts, sharing.ts, ...).
 * @module
 */
import { openKeychain } from '../keychain/open.js';
import { loadPolicy } from '../policy/load.js';
import { setTrustedCertificates } from '../sync/tls-trust.js';
import { openVault } from '../vault/db.js';
import { Engine } from './engine.js';
import { profileName } from './profile.js';
import type { Service, ServiceOptions } from './service-types.js';

export type { Service, ServiceOptions } from './service-types.js';

/**
 * Opens a profile: the vault (migrations, crash recovery), the keychain (backend
 * chosen and reported), the PIN vault and a locked session.
 * @throws on an unreadable vault or an unavailable keychain the profile is bound to
 */
export async function openService(options: ServiceOptions): Promise<Service> {
  const now = options.now ?? Date.now;
  const policy = options.policy ?? (await loadPolicy());
  // The organisation's CAs (trustedCertificates), for every request to the key service and escrow.
  setTrustedCertificates(policy.values.trustedCertificates);
  const vault = openVault(options.profileDir);
  try {
    const name = profileName(vault.db, options.profileDir, now());
    const keychain = await openKeychain({ profileDir: options.profileDir, profileName: name, prefer: options.keychain ?? 'auto' });
    return new Engine(vault, keychain, { ...options, policy }, now).service();
  } catch (e) {
    vault.close();
    throw e;
  }
}

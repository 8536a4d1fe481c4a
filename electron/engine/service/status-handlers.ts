/**
 * The channels that describe the profile rather than change its keys: engine:status
 * (what the UI decides its first screen from), policy:get (the managed policy as
 * the UI shows it) and IDENTOS initialize (which app this device talks for).
 * @module
 */
import { z } from 'zod';
import { ResultCode } from '../../../shared/codes.js';
import type { Handlers } from '../../../shared/contract.js';
import { policyValue } from '../policy/value.js';
import { updateCredentials } from '../sync/credentials.js';
import { setSetting } from '../vault/settings.js';
import type { EngineCore } from './engine-core.js';
import { readPublicIdentity } from './profile.js';
import type { Recovery } from './recovery.js';
import { ServiceError } from './results.js';

const AppSettings = z.object({ appId: z.string(), version: z.string().nullable() });

export function statusHandlers(core: EngineCore, recovery: Recovery): Pick<Handlers, 'engine:status' | 'policy:get' | 'engine:initialize'> {
  async function status() {
    const pin = await core.pinVault.status();
    const identity = readPublicIdentity(core.db);
    return {
      hasIdentity: identity !== null && pin.exists,
      unlocked: core.session.isUnlocked(),
      pinDisabled: pin.pinDisabled,
      keychainBackend: core.keychain.backend,
      attemptsLeft: pin.attemptsLeft,
      retryAfterMs: pin.retryAfterMs,
      wiped: pin.wiped,
      registered: core.registration() !== null,
      ...(identity && { did: identity.did, fingerprint: identity.fingerprint }),
      autoLockMs: core.session.autoLockMs,
      localKeyService: core.options.localKeyService ? { url: core.options.localKeyService.url } : null,
    };
  }

  /**
   * IDENTOS initialize(appId, clientKey, version): remembers the app and its client
   * key, and answers whether this device is registered with that app (-50 if not).
   */
  async function initialize(appId: string, clientKey: string, version: string | null) {
    setSetting(core.db, 'app', AppSettings.parse({ appId, version }), core.now());
    // Merged: the record also holds what registration stored (sync/credentials.ts).
    await updateCredentials(core.keychain, { clientKey });
    const registration = core.registration();
    if (!registration || registration.appId !== appId) {
      throw new ServiceError(ResultCode.DeviceUnregistered, `This device is not registered with app ${appId} yet.`);
    }
    return { registered: true };
  }

  return {
    'engine:status': () => core.plain(() => status()),
    'policy:get': () =>
      core.plain(() =>
        policyValue(core.policy, { identityCreatedAt: () => readPublicIdentity(core.db)?.createdAt ?? null, backedUpAt: async () => recovery.status().backedUpAt, now: core.now }),
      ),
    'engine:initialize': (input) => core.plain(() => initialize(input.appId, input.clientKey, input.version ?? null)),
  };
}

/**
 * Unlocking and locking the keys, changing the PIN and the idle auto-lock. The PIN
 * checks and attempt limits are the PIN vault's (session/pin-vault.ts); these map
 * them to the contract and audit the key requests.
 * @module
 */
import type { Handlers } from '../../../shared/contract.js';
import { setSetting } from '../vault/settings.js';
import { AUTO_LOCK_KEY, type EngineCore } from './engine-core.js';

type SessionChannels = 'session:authenticate' | 'session:lock' | 'pin:change' | 'session:setAutoLock';

export function sessionHandlers(core: EngineCore): Pick<Handlers, SessionChannels> {
  return {
    'session:authenticate': (input) =>
      core.audited('unlock', null, async () => {
        core.identity();
        await core.session.unlock(input.pin);
        return { unlocked: true as const };
      }),
    // Only a lock that locked something is audited: locking twice records once.
    'session:lock': () =>
      core.plain(async () => {
        if (core.session.lock('manual')) await core.record('lock', null, 'ok');
        return { unlocked: false as const };
      }),
    'pin:change': (input) =>
      core.audited('pin.change', null, async () => {
        core.identity();
        const changed = await core.pinVault.changePin(input.oldPin, input.newPin);
        core.session.lock('manual');
        return changed;
      }),
    // Saved in the vault, so the next start keeps it (capped by the policy then too).
    'session:setAutoLock': (input) =>
      core.plain(() => {
        core.session.setAutoLockMs(input.ms);
        setSetting(core.db, AUTO_LOCK_KEY, input.ms, core.now());
        return { autoLockMs: core.session.autoLockMs };
      }),
  };
}

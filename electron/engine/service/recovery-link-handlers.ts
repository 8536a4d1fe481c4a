/**
 * The channels that get an identity back onto a device: recovery (words, the
 * escrowed backup, restoring; recovery.ts) and linking a new device from one that
 * already has it (linking.ts). Requests that touch keys are audited.
 * @module
 */
import type { Handlers } from '../../../shared/contract.js';
import type { EngineCore } from './engine-core.js';
import type { Linking } from './linking.js';
import type { Recovery } from './recovery.js';

type RecoveryChannels = 'recovery:status' | 'recovery:words' | 'recovery:confirm' | 'recovery:postpone' | 'recovery:backup' | 'recovery:restore';
type LinkChannels = 'link:request' | 'link:progress' | 'link:claim' | 'link:confirm' | 'link:cancel';

export function recoveryHandlers(core: EngineCore, recovery: Recovery): Pick<Handlers, RecoveryChannels> {
  return {
    'recovery:status': () => core.plain(() => recovery.status()),
    'recovery:words': (input) => core.audited('recovery.words', null, () => recovery.words(input.pin)),
    'recovery:confirm': (input) => core.audited('recovery.confirm', null, () => recovery.confirm(input.answers)),
    'recovery:postpone': () => core.plain(() => recovery.postpone()),
    'recovery:backup': (input) => core.audited('recovery.backup', null, () => recovery.backup(input.pin, input.escrow, input.totp)),
    'recovery:restore': (input) => core.audited('identity.restore', null, () => recovery.restore(input)),
  };
}

export function linkHandlers(core: EngineCore, linking: Linking): Pick<Handlers, LinkChannels> {
  return {
    'link:request': (input) => core.audited('link.request', input.username, () => linking.request(input)),
    // Polled about once a second: not audited itself; the install records identity.restore.
    'link:progress': () => core.plain(() => linking.progress()),
    'link:claim': (input) => core.audited('link.claim', null, () => linking.claim(input.code, input.totp)),
    'link:confirm': (input) => core.audited('link.confirm', null, () => linking.confirm(input.verificationCode)),
    'link:cancel': () => core.audited('link.cancel', null, () => linking.cancel()),
  };
}

/**
 * The contract's handler table for one opened profile: the engine's own channels
 * (status, session, identity, recovery and linking, audit, the IDENTOS vault calls)
 * and those of each component (messaging, items, sharing, devices, TOTP, approvals),
 * every one behind the managed policy (policy/enforce.ts). No two of these sets may
 * share a channel: in the spread below the later one would silently win.
 * @module
 */
import type { Handlers } from '../../../shared/contract.js';
import { withPolicy } from '../policy/enforce.js';
import { approvalHandlers } from './approvals.js';
import { auditHandlers } from './audit-handlers.js';
import { deviceHandlers } from './devices.js';
import type { EngineCore } from './engine-core.js';
import type { IdentitySetup } from './identity-setup.js';
import { identityHandlers } from './identity-handlers.js';
import type { IdentosItems } from './identos-items.js';
import { itemHandlers } from './items.js';
import type { Linking } from './linking.js';
import type { Messaging } from './messaging.js';
import type { Recovery } from './recovery.js';
import { localRegistrationHandlers } from './local-key-service.js';
import { linkHandlers, recoveryHandlers } from './recovery-link-handlers.js';
import type { Rotation } from './rotation.js';
import { sessionHandlers } from './session-handlers.js';
import type { sharingHandlers } from './sharing.js';
import { statusHandlers } from './status-handlers.js';
import { totpHandlers } from './totp.js';

/** What the table is built from: the profile's core and the engine's components. */
export interface EngineParts {
  readonly core: EngineCore;
  readonly identitySetup: IdentitySetup;
  readonly identos: IdentosItems;
  readonly messaging: Messaging;
  readonly recovery: Recovery;
  readonly rotation: Rotation;
  readonly linking: Linking;
  /** The one set of sharing handlers the sync scheduler uses too (items:sync joins). */
  sharing(): ReturnType<typeof sharingHandlers>;
}

/** Every handler of the contract, behind the managed policy. */
export function handlerTable(parts: EngineParts): Handlers {
  // device:registerLocal registers through the guarded device:register: the policy sees the local service's address too.
  const guarded: Handlers = withPolicy(parts.core.policy, {
    ...unguardedHandlers(parts),
    ...localRegistrationHandlers(parts.core.options.localKeyService, (input) => guarded['device:register'](input)),
  });
  return guarded;
}

function unguardedHandlers(parts: EngineParts): Omit<Handlers, 'device:registerLocal'> {
  const { core, identitySetup, identos, messaging, recovery, rotation, linking } = parts;
  const connection = () => messaging.sync.connection();
  return {
    ...statusHandlers(core, recovery),
    ...recoveryHandlers(core, recovery),
    ...linkHandlers(core, linking),
    ...identityHandlers(core, identitySetup, rotation),
    ...sessionHandlers(core),
    'vault:encrypt': (input) => core.audited('encrypt', input.identifier ?? null, () => identos.encrypt(input.data, input.identifier)),
    'vault:decrypt': (input) => core.audited('decrypt', null, () => identos.decrypt(input.data)),
    'vault:grantAccess': (input) => core.audited('grant', input.identifier, () => identos.grantAccess(input.identifier, input.userIds)),
    ...auditHandlers(core),
    ...messaging.handlers(),
    ...itemHandlers({ db: core.db, now: core.now, identity: () => core.identity(), unlocked: () => core.unlocked(), record: core.record }),
    ...parts.sharing(),
    ...deviceHandlers({ identity: () => core.identity(), connection, record: core.record }),
    ...totpHandlers({ identity: () => core.identity(), connection, required: () => core.policy.values.requireTotp === true, record: core.record }),
    ...approvalHandlers({
      db: core.db,
      now: core.now,
      identity: () => core.identity(),
      registration: () => core.registration(),
      connection,
      pinSet: async () => !(await core.pinVault.status()).pinDisabled,
      isUnlocked: () => core.session.isUnlocked(),
      unlock: (pin) => core.session.unlock(pin),
      checkPin: async (pin) => {
        (await core.pinVault.unlock(pin)).fill(0);
      },
      unlocked: () => core.unlocked(),
      record: core.record,
    }),
  };
}

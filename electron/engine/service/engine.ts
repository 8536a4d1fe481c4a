/**
 * One opened profile's engine: the core (engine-core.ts) and the components built
 * over it (messaging and sync, recovery, key rotation, linking, sharing), wired to
 * each other and to the session's lock and unlock, and handed out as a Service.
 * The components use each other only through callbacks read at call time, which lets
 * them be built one after another here.
 * @module
 */
import type { OpenedKeychain } from '../keychain/open.js';
import { previewsAllowed, receiptsAllowed, rsaBitsFor } from '../policy/rules.js';
import type { Vault } from '../vault/db.js';
import { signDevicePackage } from './device-package-signing.js';
import { EngineCore } from './engine-core.js';
import { FileCrypto } from './file-crypto.js';
import { handlerTable, type EngineParts } from './handler-table.js';
import { IdentitySetup } from './identity-setup.js';
import { IdentosItems } from './identos-items.js';
import { Linking } from './linking.js';
import { Messaging } from './messaging.js';
import { readPublicIdentity } from './profile.js';
import { Recovery } from './recovery.js';
import { watchExternalChanges } from './external-changes.js';
import { Rotation } from './rotation.js';
import type { OpenedServiceOptions, Service } from './service-types.js';
import { sharingHandlers } from './sharing.js';

export class Engine implements EngineParts {
  readonly core: EngineCore;
  readonly identitySetup: IdentitySetup;
  readonly identos: IdentosItems;
  readonly messaging: Messaging;
  readonly recovery: Recovery;
  readonly rotation: Rotation;
  readonly linking: Linking;
  private sharingSet: ReturnType<typeof sharingHandlers> | null = null;

  constructor(vault: Vault, keychain: OpenedKeychain, options: OpenedServiceOptions, now: () => number) {
    const core = new EngineCore(vault, keychain, options, now);
    this.core = core;
    this.identitySetup = new IdentitySetup(core);
    this.identos = new IdentosItems({ db: () => core.db, now: () => core.now(), identity: () => core.identity(), unlocked: () => core.unlocked() });
    this.messaging = new Messaging({
      previewsAllowed: () => previewsAllowed(core.policy.values),
      receiptsAllowed: () => receiptsAllowed(core.policy.values),
      db: vault.db,
      keychain,
      profileDir: options.profileDir,
      now,
      identity: () => core.identity(),
      unlocked: () => core.unlocked(),
      keysIfUnlocked: () => core.keysIfUnlocked(),
      devicePackage: () => signDevicePackage(core),
      record: core.record,
      ...(options.syncBackoff && { backoff: options.syncBackoff }),
      emit: (e) => core.events.emit(e),
      // The app-wide sync (sync:now, the timer) also syncs the vault items, through the
      // same items:sync handler (audited; joins one the Vault screen started). It runs
      // once the key service was reached, which is also when a key rotation made
      // offline gets published (its failure keeps it pending, never fails the sync).
      syncItems: async () => {
        if (await this.rotation.publishPending().catch(() => false)) await core.record('key.rotate', 'encryption-key', 'ok', { published: true }).catch(() => undefined);
        return this.sharing()['items:sync']({});
      },
    });
    this.wireLock();
    // What recovery and rotation both need: the profile's keys and the PIN session.
    const keyAccess = {
      db: vault.db,
      keychain,
      now,
      ...(options.kdfParams && { kdfParams: options.kdfParams }),
      identity: () => core.identity(),
      unlocked: () => core.unlocked(),
      unlock: async (pin: string) => {
        await core.session.unlock(pin);
      },
    };
    this.recovery = new Recovery({
      ...keyAccess,
      hasIdentity: () => readPublicIdentity(core.db) !== null,
      install: (seed, der, pin, previous) => this.identitySetup.restore(seed, der, pin, previous),
    });
    this.rotation = new Rotation({
      ...keyAccess,
      isUnlocked: () => core.session.isUnlocked(),
      connection: (fresh) => {
        if (fresh) this.messaging.sync.reset();
        return this.messaging.sync.connection();
      },
      refreshRecovery: (pin) => this.recovery.refreshAfterRotation(pin),
      newKeyBits: (bits) => rsaBitsFor(core.policy.values, bits),
    });
    this.linking = new Linking({
      now,
      hasIdentity: () => readPublicIdentity(core.db) !== null,
      identity: () => core.identity(),
      unlocked: () => core.unlocked(),
      connection: () => this.messaging.sync.connection(),
      install: (seed, der, pin) => this.identitySetup.restore(seed, der, pin),
      register: (input) => this.messaging.handlers()['device:register'](input),
      syncNow: () => this.messaging.handlers()['sync:now']({}),
    });
  }

  /** The push stream runs only while unlocked: lock closes it, unlock reopens it; the UI hears both. */
  private wireLock(): void {
    const { session, events } = this.core;
    session.onLock(() => {
      this.messaging.sync.updateStream();
      events.emit({ type: 'lock', unlocked: false });
    });
    session.onUnlock(() => {
      this.messaging.sync.updateStream();
      events.emit({ type: 'lock', unlocked: true });
    });
  }

  /** One set of sharing handlers, so items:sync from the UI and from the sync scheduler join each other. */
  sharing(): ReturnType<typeof sharingHandlers> {
    const { core } = this;
    this.sharingSet ??= sharingHandlers({
      db: core.db,
      keychain: core.keychain,
      now: core.now,
      identity: () => core.identity(),
      unlocked: () => core.unlocked(),
      keysIfUnlocked: () => core.keysIfUnlocked(),
      connection: () => this.messaging.sync.connection(),
      lookup: (username) => this.messaging.handlers()['contacts:lookup']({ username }),
      record: core.record,
      ...(core.options.kdfParams && { kdfParams: core.options.kdfParams }),
    });
    return this.sharingSet;
  }

  service(): Service {
    const { core } = this;
    // The command line on the same profile writes through its own connection: the UI hears of it too.
    const stopWatching = watchExternalChanges(core.db, (e) => core.events.emit(e));
    return {
      handlers: handlerTable(this),
      files: new FileCrypto({ identity: () => core.identity(), unlocked: () => core.unlocked(), record: core.record }),
      keychain: { backend: core.keychain.backend, reason: core.keychain.reason },
      profileDir: core.options.profileDir,
      messaging: this.messaging,
      events: { on: (listener) => core.events.on(listener) },
      onEvent: (listener) => core.events.on(listener),
      overrideAutoLock: (ms) => core.session.setAutoLockMs(ms),
      close: () => {
        stopWatching();
        void this.linking.cancel();
        this.messaging.sync.stop();
        core.session.lock('manual');
        core.vault.close();
      },
    };
  }
}

/**
 * The engine's facade: one object that implements the contract (shared/contract.ts)
 * over the crypto, keychain, session and vault modules. Electron's IPC handlers,
 * the browser bridge and the CLI all call these handlers through dispatch(), which
 * has already validated the input against the channel's schema.
 *
 * Every handler returns a Result (results.ts maps typed errors to the seed's codes
 * once). Key and data requests are recorded in the hash-chained audit log with
 * their outcome, failed ones included.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ResultCode, resultCodeName, type Result } from '../../../shared/codes.js';
import type { Handlers } from '../../../shared/contract.js';
import { canonicalJson } from '../../../shared/canonical-json.js';
import type { DevicePackage } from '../../../shared/device-package.js';
import { fromBase64, toBase64 } from '../crypto/_bytes.js';
import { sealIdentityBackup } from '../crypto/backup.js';
import { safetyNumberForOne, fingerprint as fingerprintOf } from '../crypto/fingerprint.js';
import { identityFromSeed, sign } from '../crypto/identity.js';
import { decodeItemContainer, encodeItemContainer } from '../crypto/item-container.js';
import { openItemWithDek, sealItem, wrapDekFor } from '../crypto/item-crypto.js';
import type { KdfParams } from '../crypto/pin-kdf.js';
import { DEFAULT_RSA_BITS, exportPublicKeyPem, generateEncryptionKeyPair, importPublicKey, publicKeyFromPrivate, publicKeySpkiDer, type RsaBits } from '../crypto/rsa.js';
import { newSeed } from '../crypto/seed.js';
import { openKeychain, type OpenedKeychain } from '../keychain/open.js';
import { PinVault } from '../session/pin-vault.js';
import { checkPin } from '../session/policy.js';
import { DEFAULT_AUTO_LOCK_MS, Session } from '../session/session.js';
import { AuditLog, type AuditAction, type JsonValue } from '../vault/audit.js';
import { getContact, getContactByUsername, type Contact } from '../vault/contacts.js';
import { openVault, type Vault } from '../vault/db.js';
import { getItem, putItem } from '../vault/items.js';
import { listItemKeys, putItemKey } from '../vault/item-keys.js';
import { getSetting, setSetting } from '../vault/settings.js';
import { FileCrypto } from './file-crypto.js';
import { EngineEvents, type EngineEventListener } from './events.js';
import { itemHandlers } from './items.js';
import { sharingHandlers } from './sharing.js';
import { deviceHandlers } from './devices.js';
import { totpHandlers } from './totp.js';
import { openIdentityFile } from '../crypto/identity-file.js';
import { Linking } from './linking.js';
import { Messaging } from './messaging.js';
import { Recovery } from './recovery.js';
import { Rotation } from './rotation.js';
import { updateCredentials } from '../sync/credentials.js';
import type { BackoffPolicy } from '../sync/backoff.js';
import { decodeSecrets, profileName, readPublicIdentity, writePublicIdentity, encodeSecrets, type PublicIdentity } from './profile.js';
import { failureOf, ok, ServiceError } from './results.js';
import { KeyRing, type UnlockedKeys } from './unlocked-keys.js';
import { unwrapOwnDek } from './own-keys.js';

export interface ServiceOptions {
  /** The profile folder: vault.db, keychain marker/fallback file. Created if missing. */
  profileDir: string;
  /** Who calls, recorded in the audit log: 'ui', 'cli', 'webhost'. */
  actor?: string;
  /** Keychain backend: 'auto' (default: Secret Service if it answers, else the file). */
  keychain?: 'auto' | 'file' | 'secret-service';
  /** scrypt parameters for new PIN seals (tests use cheap ones); default ~250 ms. */
  kdfParams?: KdfParams;
  now?: () => number;
  /** Sync retry backoff (tests use short ones); default 1 s doubling to 5 min, full jitter. */
  syncBackoff?: BackoffPolicy;
}

export interface Service {
  readonly handlers: Handlers;
  /** Streamed file sealing/opening for the CLI (paths never come from the renderer). */
  readonly files: FileCrypto;
  readonly keychain: { backend: OpenedKeychain['backend']; reason: string };
  readonly profileDir: string;
  /** Messaging and sync: the timer (start/stop), progress events, and the CLI's path-taking calls. */
  readonly messaging: Messaging;
  /**
   * The engine's events for the UI (EngineEvent, shared/contract-events.ts; what is
   * emitted when: events.ts): `events.on(listener)` returns the unsubscribe function.
   */
  readonly events: { on(listener: EngineEventListener): () => void };
  /** The same as events.on. */
  onEvent(listener: EngineEventListener): () => void;
  /**
   * Changes the idle auto-lock for this process only, not saved (`sealpost watch`
   * keeps the keys unlocked until it is stopped: 0). @throws {RangeError}
   */
  overrideAutoLock(ms: number): void;
  /** Locks (wipes in-memory keys) and closes the vault. */
  close(): void;
}

const Registration = z.object({ appId: z.string(), userId: z.string(), username: z.string(), server: z.string() });
const AppSettings = z.object({ appId: z.string(), version: z.string().nullable() });
const AUTO_LOCK_KEY = 'autoLockMs';

/**
 * Opens a profile: the vault (migrations, crash recovery), the keychain (backend
 * chosen and reported), the PIN vault and a locked session.
 * @throws on an unreadable vault or an unavailable keychain the profile is bound to
 */
export async function openService(options: ServiceOptions): Promise<Service> {
  const now = options.now ?? Date.now;
  const vault = openVault(options.profileDir);
  try {
    const name = profileName(vault.db, options.profileDir, now());
    const keychain = await openKeychain({ profileDir: options.profileDir, profileName: name, prefer: options.keychain ?? 'auto' });
    return new Engine(vault, keychain, options, now).service();
  } catch (e) {
    vault.close();
    throw e;
  }
}

class Engine {
  private readonly pinVault: PinVault;
  private readonly session: Session;
  private readonly keys: KeyRing;
  private readonly audit: AuditLog;
  private readonly actor: string;
  private readonly events = new EngineEvents();

  constructor(
    private readonly vault: Vault,
    private readonly keychain: OpenedKeychain,
    private readonly options: ServiceOptions,
    private readonly now: () => number,
  ) {
    this.actor = options.actor ?? 'ui';
    this.pinVault = PinVault.open(keychain, { now, ...(options.kdfParams && { kdfParams: options.kdfParams }) });
    const autoLockMs = getSetting(vault.db, AUTO_LOCK_KEY, z.number().int().min(0)) ?? DEFAULT_AUTO_LOCK_MS;
    this.session = new Session(this.pinVault, { autoLockMs });
    this.keys = new KeyRing(this.session);
    this.audit = new AuditLog(vault.db, keychain, now);
    this.messaging = new Messaging({
      db: vault.db,
      keychain,
      profileDir: options.profileDir,
      now,
      identity: () => this.identity(),
      unlocked: () => this.unlocked(),
      keysIfUnlocked: () => (this.session.isUnlocked() ? this.keys.get(this.identity()) : null),
      devicePackage: () => this.signDevicePackage(),
      record: (a, t, r, d) => this.record(a, t, r, d ?? null),
      ...(options.syncBackoff && { backoff: options.syncBackoff }),
      emit: (e) => this.events.emit(e),
      // The app-wide sync (sync:now, the timer) also syncs the vault items, through the
      // same items:sync handler (audited; joins one the Vault screen started). It runs
      // once the key service was reached, which is also when a key rotation made
      // offline gets published (its failure keeps it pending, never fails the sync).
      syncItems: async () => {
        if (await this.rotation.publishPending().catch(() => false)) await this.record('key.rotate', 'encryption-key', 'ok', { published: true }).catch(() => undefined);
        return this.sharing()['items:sync']({});
      },
    });
    // The push stream runs only while unlocked: lock closes it, unlock reopens it.
    this.session.onLock(() => {
      this.messaging.sync.updateStream();
      this.events.emit({ type: 'lock', unlocked: false });
    });
    this.session.onUnlock(() => {
      this.messaging.sync.updateStream();
      this.events.emit({ type: 'lock', unlocked: true });
    });
    // What recovery and rotation both need: the profile's keys and the PIN session.
    const keyAccess = {
      db: this.vault.db,
      keychain: this.keychain,
      now: this.now,
      ...(this.options.kdfParams && { kdfParams: this.options.kdfParams }),
      identity: () => this.identity(),
      unlocked: () => this.unlocked(),
      unlock: async (pin: string) => {
        await this.session.unlock(pin);
      },
    };
    this.recovery = new Recovery({
      ...keyAccess,
      hasIdentity: () => readPublicIdentity(this.db) !== null,
      install: (seed, der, pin, previous) => this.restoreIdentity(seed, der, pin, previous),
    });
    this.rotation = new Rotation({
      ...keyAccess,
      isUnlocked: () => this.session.isUnlocked(),
      connection: (fresh) => {
        if (fresh) this.messaging.sync.reset();
        return this.messaging.sync.connection();
      },
      refreshRecovery: (pin) => this.recovery.refreshAfterRotation(pin),
    });
    this.linking = new Linking({
      now,
      hasIdentity: () => readPublicIdentity(this.db) !== null,
      identity: () => this.identity(),
      unlocked: () => this.unlocked(),
      connection: () => this.messaging.sync.connection(),
      install: (seed, der, pin) => this.restoreIdentity(seed, der, pin),
      register: (input) => this.messaging.handlers()['device:register'](input),
      syncNow: () => this.messaging.handlers()['sync:now']({}),
    });
  }

  private readonly linking: Linking;
  private readonly rotation: Rotation;

  private readonly messaging: Messaging;
  private readonly recovery: Recovery;
  private sharingSet: ReturnType<typeof sharingHandlers> | null = null;

  /** One set of sharing handlers, so items:sync from the UI and from the sync scheduler join each other. */
  private sharing(): ReturnType<typeof sharingHandlers> {
    this.sharingSet ??= sharingHandlers({
      db: this.db,
      keychain: this.keychain,
      now: this.now,
      identity: () => this.identity(),
      unlocked: () => this.unlocked(),
      keysIfUnlocked: () => (this.session.isUnlocked() ? this.keys.get(this.identity()) : null),
      connection: () => this.messaging.sync.connection(),
      lookup: (username) => this.messaging.handlers()['contacts:lookup']({ username }),
      record: (a, t, r, d) => this.record(a, t, r, d ?? null),
      ...(this.options.kdfParams && { kdfParams: this.options.kdfParams }),
    });
    return this.sharingSet;
  }

  private get db() {
    return this.vault.db;
  }

  service(): Service {
    return {
      handlers: this.handlers(),
      files: new FileCrypto({ identity: () => this.identity(), unlocked: () => this.unlocked(), record: (a, t, r, d) => this.record(a, t, r, d) }),
      keychain: { backend: this.keychain.backend, reason: this.keychain.reason },
      profileDir: this.options.profileDir,
      messaging: this.messaging,
      events: { on: (listener) => this.events.on(listener) },
      onEvent: (listener) => this.events.on(listener),
      overrideAutoLock: (ms) => this.session.setAutoLockMs(ms),
      close: () => {
        void this.linking.cancel();
        this.messaging.sync.stop();
        this.session.lock('manual');
        this.vault.close();
      },
    };
  }

  /** The public identity, or NoIdentity. */
  identity(): PublicIdentity {
    const identity = readPublicIdentity(this.db);
    if (!identity) throw new ServiceError(ResultCode.NoIdentity, 'No identity on this profile yet: create one first.');
    return identity;
  }

  /** The unlocked keys (and a touch of the idle timer), or Locked. */
  unlocked(): UnlockedKeys {
    const keys = this.keys.get(this.identity());
    this.session.touch();
    return keys;
  }

  private registration() {
    return getSetting(this.db, 'registration', Registration) ?? null;
  }

  /** Records one audit entry; the entry never holds content or secrets (audit.ts redacts by key name too). */
  async record(action: AuditAction, target: string | null, result: string, details: Record<string, JsonValue> | null = null): Promise<void> {
    await this.audit.record({ actor: this.actor, action, target, result, details });
  }

  /** Runs a key/data request and records it with its outcome, success or not. */
  private async audited<T>(action: AuditAction, target: string | null, op: () => Promise<T> | T): Promise<Result<T>> {
    let result: Result<T>;
    try {
      result = ok(await op());
    } catch (error) {
      result = failureOf(error);
    }
    const outcome = result.code === 0 ? 'ok' : resultCodeName(result.code);
    try {
      await this.record(action, target, outcome);
    } catch (error) {
      if (result.code === 0) return failureOf(error);
    }
    return result;
  }

  private async plain<T>(op: () => Promise<T> | T): Promise<Result<T>> {
    try {
      return ok(await op());
    } catch (error) {
      return failureOf(error);
    }
  }

  handlers(): Handlers {
    return {
      'engine:status': () => this.plain(() => this.status()),
      'engine:initialize': (input) => this.plain(() => this.initialize(input.appId, input.clientKey, input.version ?? null)),
      'recovery:status': () => this.plain(() => this.recovery.status()),
      'recovery:words': (input) => this.audited('recovery.words', null, () => this.recovery.words(input.pin)),
      'recovery:confirm': (input) => this.audited('recovery.confirm', null, () => this.recovery.confirm(input.answers)),
      'recovery:postpone': () => this.plain(() => this.recovery.postpone()),
      'recovery:backup': (input) => this.audited('recovery.backup', null, () => this.recovery.backup(input.pin, input.escrow)),
      'recovery:restore': (input) => this.audited('identity.restore', null, () => this.recovery.restore(input)),
      'link:request': (input) => this.audited('link.request', input.username, () => this.linking.request(input)),
      // Polled about once a second: not audited itself; the install records identity.restore.
      'link:progress': () => this.plain(() => this.linking.progress()),
      'link:claim': (input) => this.audited('link.claim', null, () => this.linking.claim(input.code)),
      'link:confirm': (input) => this.audited('link.confirm', null, () => this.linking.confirm(input.verificationCode)),
      'link:cancel': () => this.audited('link.cancel', null, () => this.linking.cancel()),
      'identity:create': (input) => this.audited('identity.create', null, () => this.createIdentity(input.pin, input.rsaBits ?? DEFAULT_RSA_BITS)),
      'identity:get': () => this.plain(() => this.identityValue()),
      'keys:rotate': (input) => this.audited('key.rotate', 'encryption-key', () => this.rotation.rotate(input.pin)),
      'device:package': (input) => this.audited('device.package', null, () => this.devicePackage(input.pin)),
      'session:authenticate': (input) =>
        this.audited('unlock', null, async () => {
          this.identity();
          await this.session.unlock(input.pin);
          return { unlocked: true as const };
        }),
      'session:lock': () =>
        this.plain(async () => {
          if (this.session.lock('manual')) await this.record('lock', null, 'ok');
          return { unlocked: false as const };
        }),
      'pin:change': (input) =>
        this.audited('pin.change', null, async () => {
          this.identity();
          const changed = await this.pinVault.changePin(input.oldPin, input.newPin);
          this.session.lock('manual');
          return changed;
        }),
      'vault:encrypt': (input) => this.audited('encrypt', input.identifier ?? null, () => this.encrypt(input.data, input.identifier)),
      'vault:decrypt': (input) => this.audited('decrypt', null, () => this.decrypt(input.data)),
      'vault:grantAccess': (input) => this.audited('grant', input.identifier, () => this.grantAccess(input.identifier, input.userIds)),
      'keys:exportPublic': () =>
        this.audited('identity.export', null, () => {
          const id = this.identity();
          return { pem: id.rsaPublicPem, fingerprint: id.fingerprint, safetyNumber: safetyNumberForOne(id.fingerprint) };
        }),
      'audit:list': (input) =>
        this.plain(() =>
          this.audit.list({ ...(input.limit && { limit: input.limit }), ...(input.action && { action: input.action }), ...(input.result && { result: input.result }) }).map((e) => ({
            id: e.id,
            ts: new Date(e.ts).toISOString(),
            actor: e.actor,
            action: e.action,
            target: e.target,
            result: e.result,
            details: e.details,
            hash: e.hash,
          })),
        ),
      ...this.messaging.handlers(),
      ...itemHandlers({ db: this.db, now: this.now, identity: () => this.identity(), unlocked: () => this.unlocked(), record: (a, t, r, d) => this.record(a, t, r, d ?? null) }),
      ...this.sharing(),
      ...deviceHandlers({ identity: () => this.identity(), connection: () => this.messaging.sync.connection(), record: (a, t, r, d) => this.record(a, t, r, d ?? null) }),
      ...totpHandlers({ identity: () => this.identity(), connection: () => this.messaging.sync.connection(), required: () => false, record: (a, t, r, d) => this.record(a, t, r, d ?? null) }),
      // A second desktop of the same user: same seed and RSA key, a new device id and PIN.
      'identity:import': (input) =>
        this.audited('identity.restore', null, async () => {
          const secrets = await openIdentityFile(input.passphrase, fromBase64(input.file));
          try {
            const { seed, rsaPrivateKeyDer, previousKeyDers } = decodeSecrets(secrets);
            await this.restoreIdentity(seed, rsaPrivateKeyDer, input.pin, previousKeyDers);
            return this.identityValue();
          } finally {
            secrets.fill(0);
          }
        }),
      'session:setAutoLock': (input) =>
        this.plain(() => {
          this.session.setAutoLockMs(input.ms);
          setSetting(this.db, AUTO_LOCK_KEY, input.ms, this.now());
          return { autoLockMs: this.session.autoLockMs };
        }),
      'audit:verify': () =>
        this.plain(async () => {
          const v = await this.audit.verify();
          return { ok: v.ok, entries: v.entries, ...(v.firstBadId !== undefined && { firstBadId: v.firstBadId }), ...(v.reason && { reason: v.reason }) };
        }),
    };
  }

  private async status() {
    const pin = await this.pinVault.status();
    const identity = readPublicIdentity(this.db);
    return {
      hasIdentity: identity !== null && pin.exists,
      unlocked: this.session.isUnlocked(),
      pinDisabled: pin.pinDisabled,
      keychainBackend: this.keychain.backend,
      attemptsLeft: pin.attemptsLeft,
      retryAfterMs: pin.retryAfterMs,
      wiped: pin.wiped,
      registered: this.registration() !== null,
      ...(identity && { did: identity.did, fingerprint: identity.fingerprint }),
      autoLockMs: this.session.autoLockMs,
    };
  }

  /**
   * IDENTOS initialize(appId, clientKey, version): remembers the app and its client
   * key, and answers whether this device is registered with that app (-50 if not).
   */
  private async initialize(appId: string, clientKey: string, version: string | null) {
    setSetting(this.db, 'app', AppSettings.parse({ appId, version }), this.now());
    // Merged: the record also holds what registration stored (sync/credentials.ts).
    await updateCredentials(this.keychain, { clientKey });
    const registration = this.registration();
    if (!registration || registration.appId !== appId) {
      throw new ServiceError(ResultCode.DeviceUnregistered, `This device is not registered with app ${appId} yet.`);
    }
    return { registered: true };
  }

  private creating = false;

  private async createIdentity(pin: string, rsaBits: RsaBits) {
    if (this.creating) throw new ServiceError(ResultCode.InvalidState, 'An identity is being created already.');
    this.creating = true;
    try {
      return await this.createIdentityOnce(pin, rsaBits);
    } finally {
      this.creating = false;
    }
  }

  private async createIdentityOnce(pin: string, rsaBits: RsaBits) {
    checkPin(pin); // before the slow key generation
    const status = await this.pinVault.status();
    if (status.exists && readPublicIdentity(this.db) !== null) throw new ServiceError(ResultCode.InvalidState, 'This profile already has an identity.');
    const seed = newSeed();
    const rsa = await generateEncryptionKeyPair(rsaBits);
    try {
      await this.installIdentity(seed, rsa.privateKeyDer, rsa.publicKeyPem, rsaBits, pin, 'backup.create');
    } finally {
      seed.fill(0);
      rsa.privateKeyDer.fill(0);
    }
    return this.identityValue();
  }

  /** Restored secrets become this profile's identity (recovery:restore). */
  private async restoreIdentity(seed: Uint8Array, rsaPrivateKeyDer: Uint8Array, pin: string, previousKeyDers: readonly Uint8Array[] = []): Promise<PublicIdentity> {
    checkPin(pin);
    const status = await this.pinVault.status();
    if (status.exists && readPublicIdentity(this.db) !== null) throw new ServiceError(ResultCode.InvalidState, 'This profile already has an identity.');
    const publicKeyPem = exportPublicKeyPem(publicKeyFromPrivate(rsaPrivateKeyDer));
    const bits = importPublicKey(publicKeyPem).asymmetricKeyDetails?.modulusLength;
    if (bits !== 2048 && bits !== 3072 && bits !== 4096) throw new ServiceError(ResultCode.InvalidParameter, 'The restored encryption key has an unsupported size.');
    await this.installIdentity(seed, rsaPrivateKeyDer, publicKeyPem, bits, pin, 'identity.restore', previousKeyDers);
    return this.identity();
  }

  /** Seals the secrets under the PIN, writes the public identity (a new device id) and unlocks. */
  private async installIdentity(
    seed: Uint8Array,
    rsaPrivateKeyDer: Uint8Array,
    rsaPublicPem: string,
    rsaBits: RsaBits,
    pin: string,
    action: 'backup.create' | 'identity.restore',
    previousKeyDers: readonly Uint8Array[] = [],
  ): Promise<void> {
    const secrets = encodeSecrets(seed, rsaPrivateKeyDer, previousKeyDers);
    try {
      const signing = identityFromSeed(seed);
      signing.secretKey.fill(0);
      const identity: PublicIdentity = {
        version: 1,
        did: signing.did,
        signingPublicKey: Buffer.from(signing.publicKey).toString('base64url'),
        rsaPublicPem,
        rsaBits,
        fingerprint: fingerprintOf(signing.publicKey, publicKeySpkiDer(rsaPublicPem)),
        deviceId: randomBytes(16).toString('hex'),
        createdAt: this.now(),
        backup: toBase64(sealIdentityBackup(seed, rsaPrivateKeyDer, previousKeyDers)),
        // Keys rotated out before the backup was made: when is not known here.
        ...(previousKeyDers.length > 0 && {
          previousKeys: previousKeyDers.map((der) => {
            const pem = exportPublicKeyPem(publicKeyFromPrivate(der));
            return { rsaPublicPem: pem, fingerprint: fingerprintOf(signing.publicKey, publicKeySpkiDer(pem)), rotatedAt: null };
          }),
        }),
      };
      // Keychain first: a crash after it leaves a sealed record without public data,
      // which the next create replaces (status() reports no identity until both exist;
      // the check above allows overwriting only such an orphan or a wiped record).
      await PinVault.create(this.keychain, { pin, secrets, overwrite: true, now: this.now, ...(this.options.kdfParams && { kdfParams: this.options.kdfParams }) });
      writePublicIdentity(this.db, identity, this.now());
      await this.record(action, null, 'ok');
    } finally {
      secrets.fill(0);
    }
    await this.session.unlock(pin);
  }

  private identityValue() {
    const id = this.identity();
    return { did: id.did, fingerprint: id.fingerprint, safetyNumber: safetyNumberForOne(id.fingerprint), publicKeyPem: id.rsaPublicPem, rsaBits: id.rsaBits };
  }

  /** IDENTOS devicePackage(pin): checks the PIN, then signs what registration sends. */
  private async devicePackage(pin: string): Promise<DevicePackage> {
    this.identity();
    await this.session.unlock(pin);
    return this.signDevicePackage();
  }

  /** The device package signed with the unlocked identity key. @throws Locked */
  private signDevicePackage(): DevicePackage {
    const identity = this.identity();
    const keys = this.unlocked();
    const fields: Omit<DevicePackage, 'signature'> = {
      version: 1,
      deviceId: identity.deviceId,
      did: identity.did,
      signingPublicKey: identity.signingPublicKey,
      encryptionPublicKey: identity.rsaPublicPem,
      fingerprint: identity.fingerprint,
      createdAt: new Date(this.now()).toISOString(),
    };
    const signature = sign(new TextEncoder().encode(canonicalJson(fields)), keys.identity.secretKey);
    return { ...fields, signature: Buffer.from(signature).toString('base64url') };
  }

  /** Our wrapped copy of an item's data key, unwrapped. @throws NotFound */
  private ownDek(identifier: string, keys: UnlockedKeys): Uint8Array {
    const dek = unwrapOwnDek(listItemKeys(this.db, identifier), keys);
    if (!dek) throw new ServiceError(ResultCode.NotFound, `No key for item ${identifier} on this device.`);
    return dek;
  }

  /**
   * IDENTOS encrypt(data, identifier?): seals `data` as a vault item. A new
   * identifier gets a fresh data key wrapped for us; an existing one gets its next
   * version under the same data key, so grants stay valid.
   */
  private encrypt(dataBase64: string, identifier?: string): [string, string] {
    const keys = this.unlocked();
    const data = fromBase64(dataBase64, 'data');
    const id = identifier ?? `item-${randomBytes(12).toString('hex')}`;
    const current = getItem(this.db, id);
    const dek = current ? this.ownDek(id, keys) : undefined;
    const version = current ? current.version + 1 : 1;
    const sealed = sealItem({ identifier: id, version, data, ...(dek ? { dek } : { recipients: [this.identity().rsaPublicPem] }) });
    try {
      this.db.transaction(() => {
        putItem(this.db, { identifier: id, version, ciphertext: sealed.ciphertext, owner: current?.owner ?? this.identity().did }, { expectedVersion: current?.version ?? null, now: this.now() });
        for (const w of sealed.wrappedKeys) putItemKey(this.db, id, { grantee: this.identity().did, keyId: w.keyId, wrapped: w.wrapped }, this.now());
      })();
    } finally {
      sealed.dek.fill(0);
      dek?.fill(0);
      data.fill(0);
    }
    return [toBase64(encodeItemContainer({ identifier: id, version, ciphertext: sealed.ciphertext })), id];
  }

  /** IDENTOS decrypt(ciphertext) -> [plaintext, identifier], with the key this device holds for the item. */
  private decrypt(containerBase64: string): [string, string] {
    const keys = this.unlocked();
    const container = decodeItemContainer(fromBase64(containerBase64, 'ciphertext'));
    const dek = this.ownDek(container.identifier, keys);
    try {
      const plaintext = openItemWithDek({ identifier: container.identifier, version: container.version, ciphertext: container.ciphertext, dek });
      const out = toBase64(plaintext);
      plaintext.fill(0);
      return [out, container.identifier];
    } finally {
      dek.fill(0);
    }
  }

  /** IDENTOS grantAccess(identifier, userIds): wraps the item's data key for each contact. */
  private grantAccess(identifier: string, userIds: string[]): { granted: string[] } {
    const keys = this.unlocked();
    if (!getItem(this.db, identifier)) throw new ServiceError(ResultCode.NotFound, `No item ${identifier}.`);
    const contacts = userIds.map((u) => [u, getContact(this.db, u) ?? getContactByUsername(this.db, u)] as const);
    const missing = contacts.filter(([, c]) => !c).map(([u]) => u);
    if (missing.length) throw new ServiceError(ResultCode.NotFound, `Not in your contacts: ${missing.join(', ')}.`, { missing });
    const dek = this.ownDek(identifier, keys);
    try {
      const wrapped = contacts.map(([, c]) => [c as Contact, wrapDekFor(dek, (c as Contact).encryptionKey)] as const);
      this.db.transaction(() => {
        for (const [c, w] of wrapped) putItemKey(this.db, identifier, { grantee: c.userId, keyId: w.keyId, wrapped: w.wrapped }, this.now());
      })();
      return { granted: wrapped.map(([c]) => c.userId) };
    } finally {
      dek.fill(0);
    }
  }
}

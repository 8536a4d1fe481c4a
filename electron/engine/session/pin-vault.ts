/**
 * The PIN vault: secrets (the identity's private key material) sealed under the PIN
 * KDF (crypto/pin-kdf.ts) and then under a random key-encryption key (KEK), the
 * sealed file kept in the profile folder (sealed-identity.ts); ONE small keychain
 * record holds the KEK together with the wrong-PIN counter (key-record.ts); the
 * attempt policy (policy.ts) is enforced around it.
 *
 * Every seal (create, changePin, the migration of a v1 record that held the whole PIN
 * blob in the keychain) writes a new file under a new KEK, then stores the record
 * naming it: that one keychain write is the commit point, so a crash leaves the old
 * record and file or the new ones, never a mix. Files no record names are removed.
 *
 * Order of an unlock, and why:
 *  1. malformed PIN -> 'invalid-pin' (no KDF, not counted);
 *  2. record wiped, or the count already at the limit -> 'wiped';
 *  3. inside a delay -> 'locked-out' with retryAfterMs, WITHOUT running the KDF;
 *  4. the count is incremented and persisted BEFORE the KDF runs, so killing the
 *     process mid-check does not give a free try;
 *  5. KDF: right -> count reset to 0; wrong -> 'wrong-pin' (attemptsLeft), and the
 *     10th wrong PIN replaces the record by a tombstone -> 'wiped'.
 * Calls on one keychain object are serialised per account, so two concurrent
 * unlocks cannot both read the same count.
 * @module
 */
import { DEFAULT_KDF_PARAMS, type KdfParams, openWithPin, sealWithPin } from '../crypto/pin-kdf.js';
import { isCryptoError } from '../crypto/errors.js';
import { newKey } from '../crypto/aead.js';
import type { Keychain, KeychainAccount } from '../keychain/types.js';
import { PinError } from './errors.js';
import { decodeKeyRecord, encodeKeyRecord, recordVersion, type KeyRecord } from './key-record.js';
import { attemptsLeft, checkPin, delayAfter, isPinDisabled, kdfPin, MAX_WRONG_PINS, retryAfterMs } from './policy.js';
import { decodeRecord, type SealedRecord, type WipedRecord } from './record.js';
import { readSealedIdentity, removeSealedIdentities, writeSealedIdentity } from './sealed-identity.js';

/** What load() finds: the current record, a v1 record still to migrate, or a tombstone. */
type Loaded = KeyRecord | (SealedRecord & { legacy: true }) | WipedRecord;
type Counter = Pick<KeyRecord, 'failures' | 'lastFailureAt'>;

export interface PinVaultOptions {
  /** Keychain account of the record (default 'identity'). */
  account?: KeychainAccount;
  /** KDF parameters for new seals (create, changePin); default DEFAULT_KDF_PARAMS. Opening reads them from the blob. */
  kdfParams?: KdfParams;
  /** Other accounts deleted together with the key material when it is wiped (default ['server-credentials']). */
  wipeAlso?: readonly KeychainAccount[];
  /** Clock (ms since epoch); injectable for tests. */
  now?: () => number;
  /** Folder of the sealed identity file; default the keychain's profile folder (OpenedKeychain, FileKeychain). */
  dir?: string;
}

export interface PinStatus {
  /** A sealed record exists (false when none was created, or after a wipe). */
  exists: boolean;
  /** The key material was erased after too many wrong PINs (or by wipe()). */
  wiped: boolean;
  /** The PIN is "0": the keys are sealed under a public string. */
  pinDisabled: boolean;
  attemptsUsed: number;
  attemptsLeft: number;
  /** 0 when an attempt may run now. */
  retryAfterMs: number;
}

const queues = new WeakMap<Keychain, Map<string, Promise<unknown>>>();

/** Runs `op` after every earlier op on the same keychain object and account. */
function serial<T>(keychain: Keychain, account: string, op: () => Promise<T>): Promise<T> {
  let perAccount = queues.get(keychain);
  if (!perAccount) queues.set(keychain, (perAccount = new Map()));
  const run = (perAccount.get(account) ?? Promise.resolve()).then(op, op);
  perAccount.set(account, run.catch(() => undefined));
  return run;
}

export class PinVault {
  private readonly account: KeychainAccount;
  private readonly kdfParams: KdfParams;
  private readonly wipeAlso: readonly KeychainAccount[];
  private readonly now: () => number;
  private readonly dir: string;

  /** @throws {TypeError} when no folder for the sealed file is given or known from the keychain */
  private constructor(
    readonly keychain: Keychain,
    options: PinVaultOptions,
  ) {
    const dir = options.dir ?? (keychain as { profileDir?: unknown }).profileDir;
    if (typeof dir !== 'string') throw new TypeError('PinVault needs the profile folder (options.dir)');
    this.dir = dir;
    this.account = options.account ?? 'identity';
    this.kdfParams = options.kdfParams ?? DEFAULT_KDF_PARAMS;
    this.wipeAlso = (options.wipeAlso ?? ['server-credentials']).filter((a) => a !== this.account);
    this.now = options.now ?? Date.now;
  }

  /** A vault over an existing (or not yet existing) record; reads nothing yet. */
  static open(keychain: Keychain, options: PinVaultOptions = {}): PinVault {
    return new PinVault(keychain, options);
  }

  /**
   * Seals `secrets` under `pin` and stores a fresh record (count 0). Replaces a
   * wiped record (recovery); replaces a sealed one only with `overwrite: true`.
   * The caller keeps ownership of `secrets` (not wiped here).
   * @throws {PinError} 'invalid-pin'; 'exists' when a sealed record exists and overwrite is not set
   * @throws {CryptoError} 'invalid-input' for KDF params out of range
   * @throws {KeychainError}
   */
  static async create(
    keychain: Keychain,
    init: { pin: string; secrets: Uint8Array; overwrite?: boolean } & PinVaultOptions,
  ): Promise<PinVault> {
    const pin = checkPin(init.pin);
    const vault = new PinVault(keychain, init);
    await serial(keychain, vault.account, async () => {
      const current = await vault.load();
      if (current?.state === 'sealed' && !init.overwrite) throw new PinError('exists', 'a PIN-sealed identity already exists');
      const pinBlob = await sealWithPin(kdfPin(pin), init.secrets, vault.kdfParams);
      await vault.commitSeal(pinBlob, isPinDisabled(pin), { failures: 0, lastFailureAt: null });
    });
    return vault;
  }

  /**
   * Where the attempt policy stands, read from the keychain (the only place it lives).
   * Completes a wipe that a crash interrupted (count at the limit).
   * @throws {KeychainError}
   */
  async status(): Promise<PinStatus> {
    return serial(this.keychain, this.account, async () => {
      let record = await this.load();
      if (record?.state === 'sealed' && record.failures >= MAX_WRONG_PINS) record = await this.wipeLocked();
      if (!record || record.state === 'wiped') {
        const wiped = record?.state === 'wiped';
        return { exists: false, wiped, pinDisabled: false, attemptsUsed: wiped ? MAX_WRONG_PINS : 0, attemptsLeft: wiped ? 0 : MAX_WRONG_PINS, retryAfterMs: 0 };
      }
      return {
        exists: true,
        wiped: false,
        pinDisabled: record.pinDisabled,
        attemptsUsed: record.failures,
        attemptsLeft: attemptsLeft(record.failures),
        retryAfterMs: retryAfterMs(record.failures, record.lastFailureAt, this.now()),
      };
    });
  }

  /**
   * Checks the PIN and returns the secrets (a fresh buffer the caller owns and
   * should zero-fill when done; Session does).
   * @throws {PinError} 'invalid-pin', 'wrong-pin' (attemptsLeft, retryAfterMs), 'locked-out'
   *   (retryAfterMs, attemptsLeft), 'wiped', 'not-found'
   * @throws {CryptoError} other than 'wrong-key' (unreadable blob), {KeychainError}
   */
  async unlock(pin: string): Promise<Uint8Array> {
    const checked = checkPin(pin);
    return serial(this.keychain, this.account, () => this.unlockLocked(checked));
  }

  /**
   * Re-seals the secrets under a new PIN ("0" disables it). The old PIN goes through
   * the same attempt policy as unlock.
   * @throws {PinError} as {@link unlock}; 'invalid-pin' for either PIN (checked before anything runs)
   * @throws {CryptoError}, {KeychainError}
   */
  async changePin(oldPin: string, newPin: string): Promise<{ pinDisabled: boolean }> {
    const from = checkPin(oldPin);
    const to = checkPin(newPin);
    return serial(this.keychain, this.account, async () => {
      const secrets = await this.unlockLocked(from);
      try {
        const pinBlob = await sealWithPin(kdfPin(to), secrets, this.kdfParams);
        await this.commitSeal(pinBlob, isPinDisabled(to), { failures: 0, lastFailureAt: null });
        return { pinDisabled: isPinDisabled(to) };
      } finally {
        secrets.fill(0);
      }
    });
  }

  /**
   * Erases the sealed key material (and the `wipeAlso` accounts), leaving a tombstone
   * so status() can say "wiped" rather than "never created".
   * @throws {KeychainError}
   */
  async wipe(): Promise<void> {
    await serial(this.keychain, this.account, () => this.wipeLocked());
  }

  private async unlockLocked(pin: string): Promise<Uint8Array> {
    const loaded = await this.load();
    if (!loaded) throw new PinError('not-found', 'no PIN-sealed identity on this profile');
    if (loaded.state === 'wiped' || loaded.failures >= MAX_WRONG_PINS) {
      if (loaded.state === 'sealed') await this.wipeLocked();
      throw wipedError();
    }
    // A v1 record (the whole PIN blob in the keychain) moves to the split layout now;
    // no PIN is needed for that, and the counter carries over unchanged.
    const record = 'legacy' in loaded ? await this.commitSeal(loaded.sealed, loaded.pinDisabled, loaded) : loaded;
    const now = this.now();
    const wait = retryAfterMs(record.failures, record.lastFailureAt, now);
    if (wait > 0) {
      throw new PinError('locked-out', 'too many wrong PINs: wait before trying again', {
        retryAfterMs: wait,
        attemptsLeft: attemptsLeft(record.failures),
      });
    }
    // The file opens with the KEK alone (no PIN): a damaged file is reported before any attempt is spent.
    const pinBlob = await readSealedIdentity(this.dir, record.file, record.kek);
    // Count first, then derive: a crash from here on has already spent the attempt.
    const failures = record.failures + 1;
    await this.save({ ...record, failures, lastFailureAt: now });
    let secrets: Uint8Array;
    try {
      secrets = await openWithPin(kdfPin(pin), pinBlob);
    } catch (e) {
      if (!isCryptoError(e) || e.kind !== 'wrong-key') throw e;
      if (failures >= MAX_WRONG_PINS) {
        await this.wipeLocked();
        throw wipedError();
      }
      throw new PinError('wrong-pin', 'wrong PIN', { attemptsLeft: attemptsLeft(failures), retryAfterMs: delayAfter(failures) });
    }
    try {
      await this.save({ ...record, failures: 0, lastFailureAt: null });
    } catch (e) {
      secrets.fill(0);
      throw e;
    }
    await removeSealedIdentities(this.dir, record.file); // what a crashed re-seal left behind
    return secrets;
  }

  /** The tombstone drops the KEK, which makes the sealed file useless; the file goes too. */
  private async wipeLocked(): Promise<WipedRecord> {
    const tombstone: WipedRecord = { state: 'wiped', wipedAt: this.now() };
    await this.save(tombstone);
    for (const account of this.wipeAlso) await this.keychain.delete(account);
    await removeSealedIdentities(this.dir, null);
    return tombstone;
  }

  /**
   * Seals `pinBlob` under a fresh KEK into a new file, then stores the record naming
   * it (the commit point), then removes every other sealed file.
   */
  private async commitSeal(pinBlob: Uint8Array, pinDisabled: boolean, counter: Counter): Promise<KeyRecord> {
    const kek = newKey();
    const file = await writeSealedIdentity(this.dir, kek, pinBlob);
    const record: KeyRecord = { state: 'sealed', pinDisabled, failures: counter.failures, lastFailureAt: counter.lastFailureAt, kek, file };
    await this.save(record);
    await removeSealedIdentities(this.dir, file);
    return record;
  }

  private async load(): Promise<Loaded | null> {
    const bytes = await this.keychain.get(this.account);
    if (!bytes) return null;
    if (recordVersion(bytes) === 1) {
      const v1 = decodeRecord(bytes);
      return v1.state === 'sealed' ? { ...v1, legacy: true } : v1;
    }
    return decodeKeyRecord(bytes);
  }

  private async save(record: KeyRecord | WipedRecord): Promise<void> {
    await this.keychain.set(this.account, encodeKeyRecord(record));
  }
}

const wipedError = (): PinError =>
  new PinError('wiped', 'too many wrong PINs: the keys on this device were erased; restore from the recovery words', {
    attemptsLeft: 0,
    retryAfterMs: 0,
    wiped: true,
  });

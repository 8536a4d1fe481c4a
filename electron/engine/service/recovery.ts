/**
 * Recovery (docs/security.md "Recovery", docs/format.md §14): the 24 words, the
 * three-share backup of the key K that seals the full backup (seed + RSA key),
 * and restoring on a new device with the words or with the shares + PIN.
 *
 *   key service: serviceShare, PIN-share params, sealed full backup, and the
 *                checks that gate their release (pinCheck, wordsCheck)
 *   escrow:      escrowShare (released to an authenticated app client,
 *                rate-limited and audited there)
 *   PIN:         pinShare = scrypt(PIN, salt)
 *
 * With the account's TOTP on, the key service asks for a current code (or a
 * recovery code) before it stores a deposit or releases its share; the code goes
 * to the key service only, never to the escrow (docs/recovery.md "Two-step
 * verification").
 * @module
 */
import { randomBytes, randomInt } from 'node:crypto';
import { z } from 'zod';
import { ResultCode } from '../../../shared/codes.js';
import { canonicalJson } from '../../../shared/canonical-json.js';
import type { Output } from '../../../shared/contract.js';
import { depositStatement, type DepositFields } from '../../../shared/recovery-wire.js';
import { fromBase64, toBase64 } from '../crypto/_bytes.js';
import { sign } from '../crypto/identity.js';
import { combineShares, derivePinShare, escrowKeyOf, openFullBackup, sealFullBackup, splitEscrowKey, type PinShareParams } from '../crypto/key-shares.js';
import type { KdfParams } from '../crypto/pin-kdf.js';
import { pinCheck, wordsCheck } from '../crypto/recovery-checks.js';
import { seedToWords, wordsToSeed } from '../crypto/recovery-words.js';
import type { Keychain } from '../keychain/types.js';
import { readCredentials } from '../sync/credentials.js';
import { isSyncError, type SyncError } from '../sync/errors.js';
import { RecoveryClient } from '../sync/recovery-client.js';
import { readRegistration } from '../sync/registration.js';
import type { Db } from '../vault/_sql.js';
import { getSetting, setSetting } from '../vault/settings.js';
import type { PublicIdentity } from './profile.js';
import { ServiceError } from './results.js';
import type { UnlockedKeys } from './unlocked-keys.js';
import { syncFailure } from './messaging.js';

const SETTING = 'recovery';
const RecoverySetting = z.object({
  wordsConfirmed: z.boolean(),
  postponedAt: z.number().int().nullable(),
  backedUpAt: z.number().int().nullable(),
  escrow: z.object({ url: z.string(), appId: z.string() }).nullable(),
  /** The positions the last words screen asked for. */
  ask: z.array(z.number().int()).optional(),
});
type RecoverySetting = z.infer<typeof RecoverySetting>;
const EMPTY: RecoverySetting = { wordsConfirmed: false, postponedAt: null, backedUpAt: null, escrow: null };
const EscrowCredentials = z.object({ clientKey: z.string().min(1).max(500) });

export interface RecoveryDeps {
  db: Db;
  keychain: Keychain;
  now: () => number;
  kdfParams?: KdfParams;
  identity: () => PublicIdentity;
  unlocked: () => UnlockedKeys;
  /** Checks the PIN and unlocks. */
  unlock: (pin: string) => Promise<void>;
  hasIdentity: () => boolean;
  /** Makes this profile's identity from restored secrets with `pin` as its PIN, and unlocks. */
  install: (seed: Uint8Array, rsaPrivateKeyDer: Uint8Array, pin: string, previousKeyDers: readonly Uint8Array[]) => Promise<PublicIdentity>;
}

type Status = Output<'recovery:status'>;

/** A share-release failure as a result: a wrong check is WrongPin, a locked record LockedOut. */
function releaseFailure(e: SyncError, what: 'PIN' | 'recovery words'): ServiceError {
  if (e.extra.code === 'wrong_check') return new ServiceError(ResultCode.WrongPin, `The key service says the ${what} did not match; wrong attempts are counted and limited.`);
  if (e.extra.code === 'recovery_locked') {
    return new ServiceError(ResultCode.LockedOut, 'Too many wrong attempts at the key service: wait before trying again.', { retryAfterMs: e.extra.retryAfterMs ?? 0 });
  }
  if (e.extra.code === 'no_recovery') return new ServiceError(ResultCode.NotFound, 'No recovery backup is stored for this user on that service.');
  return syncFailure(e);
}

/** The typed code as the key service reads it: no spaces or hyphens, upper case. */
const cleanTotp = (code: string | undefined) => code?.replace(/[\s-]+/g, '').toUpperCase();

async function guard<T>(what: 'PIN' | 'recovery words', op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    throw isSyncError(e) ? releaseFailure(e, what) : e;
  }
}

export class Recovery {
  constructor(private readonly d: RecoveryDeps) {}

  private read(): RecoverySetting {
    return getSetting(this.d.db, SETTING, RecoverySetting) ?? EMPTY;
  }

  private write(s: RecoverySetting): Status {
    setSetting(this.d.db, SETTING, s, this.d.now());
    return this.status();
  }

  status(): Status {
    const s = this.read();
    return {
      wordsConfirmed: s.wordsConfirmed,
      postponedAt: s.postponedAt,
      nag: this.d.hasIdentity() && (!s.wordsConfirmed || s.backedUpAt === null),
      backedUpAt: s.backedUpAt,
      escrow: s.escrow,
    };
  }

  /** The words after the PIN, until they were confirmed. */
  async words(pin: string): Promise<Output<'recovery:words'>> {
    this.d.identity();
    const s = this.read();
    if (s.wordsConfirmed) throw new ServiceError(ResultCode.InvalidState, 'The recovery words were confirmed already and are not shown again.');
    await this.d.unlock(pin);
    const words = seedToWords(this.d.unlocked().seed);
    const ask = new Set<number>();
    while (ask.size < 3) ask.add(randomInt(1, 25));
    const sorted = [...ask].sort((a, b) => a - b);
    this.write({ ...s, ask: sorted });
    return { words, ask: sorted };
  }

  confirm(answers: Array<{ position: number; word: string }>): Status {
    const s = this.read();
    const words = seedToWords(this.d.unlocked().seed);
    const asked = s.ask ?? [];
    const given = new Map(answers.map((a) => [a.position, a.word.trim().toLowerCase()]));
    if (asked.length === 0 || asked.some((p) => !given.has(p))) throw new ServiceError(ResultCode.InvalidParameter, 'Answer the word positions the words screen asked for.');
    if ([...given].some(([p, w]) => words[p - 1] !== w)) throw new ServiceError(ResultCode.InvalidParameter, 'A word does not match: check the words you wrote down.');
    const { ask: _asked, ...rest } = s;
    return this.write({ ...rest, wordsConfirmed: true, postponedAt: null });
  }

  postpone(): Status {
    this.d.identity();
    return this.write({ ...this.read(), postponedAt: this.d.now() });
  }

  private signed(appId: string, username: string, fields: DepositFields, secretKey: Uint8Array) {
    const message = new TextEncoder().encode(canonicalJson(depositStatement(appId, username, fields)));
    return { ...fields, signature: Buffer.from(sign(message, secretKey)).toString('base64url') };
  }

  /**
   * Splits K and deposits the key service's share, backup and checks, then the
   * escrow share. The key service goes first: it is the one that may refuse for
   * the account's TOTP, and a refusal there leaves both services as they were.
   * `totp`: the account's current code when its two-step verification is on.
   */
  async backup(pin: string, escrowIn?: { url: string; appId: string; clientKey: string }, totp?: string): Promise<Status> {
    const identity = this.d.identity();
    const registration = readRegistration(this.d.db);
    if (!registration) throw new ServiceError(ResultCode.DeviceUnregistered, 'Register this device with a key service before backing up the recovery shares.');
    const s = this.read();
    let escrow = escrowIn;
    if (!escrow && s.escrow) {
      const stored = await this.d.keychain.get('escrow-credentials');
      const creds = stored ? EscrowCredentials.safeParse(JSON.parse(new TextDecoder().decode(stored))) : null;
      if (creds?.success) escrow = { ...s.escrow, clientKey: creds.data.clientKey };
    }
    if (!escrow) throw new ServiceError(ResultCode.InvalidParameter, 'Name the escrow service (address, app id, client key) for the second share.');
    await this.d.unlock(pin);
    const keys = this.d.unlocked();
    const creds = await readCredentials(this.d.keychain);
    const ksAuth = creds.clientKey ? { clientKey: creds.clientKey } : creds.jwt ? { jwt: creds.jwt } : null;
    if (!ksAuth) throw new ServiceError(ResultCode.DeviceUnregistered, 'No key-service credentials on this device: register again.');
    const ks = new RecoveryClient(registration.server, ksAuth);
    const esc = new RecoveryClient(escrow.url, { clientKey: escrow.clientKey });

    const k = escrowKeyOf(keys.seed);
    const split = await splitEscrowKey(k, pin, this.d.kdfParams);
    const derived = await derivePinShare(pin, split.pinShare);
    let replaced = false;
    try {
      const signedAt = new Date(this.d.now()).toISOString();
      const identityKey = identity.signingPublicKey;
      const { salt, N, r, p } = split.pinShare;
      const fields: DepositFields = {
        identityKey,
        share: toBase64(split.serviceShare),
        pinParams: { N, r, p, salt: toBase64(salt) },
        backup: toBase64(sealFullBackup(k, keys.seed, keys.rsaPrivateKeyDer, keys.previousKeys.map((x) => x.rsaPrivateKeyDer))),
        pinCheck: pinCheck(split.escrowShare, derived),
        wordsCheck: wordsCheck(k),
        escrow: { url: esc.baseUrl, appId: escrow.appId },
        signedAt,
      };
      await guard('PIN', () => ks.deposit(registration.username, this.signed(registration.appId, registration.username, fields, keys.identity.secretKey), cleanTotp(totp)));
      replaced = true;
      await guard('PIN', () => esc.deposit(registration.username, this.signed(escrow.appId, registration.username, { identityKey, share: toBase64(split.escrowShare), signedAt }, keys.identity.secretKey)));
    } catch (e) {
      // The key service holds a share that no longer matches the escrow's: until
      // a backup succeeds, there is none (Settings and the policy reminder say so).
      if (replaced) this.write({ ...this.read(), backedUpAt: null });
      throw e;
    } finally {
      k.fill(0);
      derived.fill(0);
      split.serviceShare.fill(0);
      split.escrowShare.fill(0);
    }
    await this.d.keychain.set('escrow-credentials', new TextEncoder().encode(JSON.stringify({ clientKey: escrow.clientKey })));
    return this.write({ ...this.read(), backedUpAt: this.d.now(), escrow: { url: esc.baseUrl, appId: escrow.appId } });
  }

  /**
   * After a key rotation the stored full backup lacks the new key: deposit it again
   * when there was one; when that fails, the backup shows as missing (Settings nags).
   */
  async refreshAfterRotation(pin: string): Promise<void> {
    if (this.read().backedUpAt === null) return;
    try {
      await this.backup(pin);
    } catch {
      this.write({ ...this.read(), backedUpAt: null });
    }
  }

  /** New device: the full backup opened with K from the words, or from the three shares. */
  async restore(input: RestoreInput): Promise<Output<'recovery:restore'>> {
    if (this.d.hasIdentity()) throw new ServiceError(ResultCode.InvalidState, 'This profile already has an identity: restore into a new profile.');
    const ks = new RecoveryClient(input.server, { clientKey: input.clientKey });
    const deviceId = randomBytes(16).toString('hex');
    let key: Uint8Array;
    let blob: Uint8Array;
    let method: 'words' | 'shares';
    if (input.words !== undefined) {
      method = 'words';
      let seed: Uint8Array;
      try {
        seed = wordsToSeed(input.words);
      } catch (e) {
        throw new ServiceError(ResultCode.InvalidParameter, (e as Error).message);
      }
      key = escrowKeyOf(seed);
      seed.fill(0);
      const released = await guard('recovery words', () => ks.release(input.username, { deviceId, proof: { kind: 'words', value: wordsCheck(key) } }, cleanTotp(input.totp)));
      if (!released.backup) throw new ServiceError(ResultCode.NotFound, 'The key service holds no backup for this user.');
      blob = fromBase64(released.backup, 'backup');
    } else {
      method = 'shares';
      const info = await guard('PIN', () => ks.info(input.username));
      if (!info.escrow || !info.pinParams) throw new ServiceError(ResultCode.NotFound, 'This user has no share backup on the key service.');
      if (!input.escrowClientKey) throw new ServiceError(ResultCode.InvalidParameter, `Give the client key of the escrow service at ${info.escrow.url}.`);
      // The escrow client key (and, through the PIN check, the PIN) must not go to an
      // escrow the key service alone chose: when the user names it, it must match.
      if (input.escrowUrl !== undefined && sameAddress(input.escrowUrl) !== sameAddress(info.escrow.url)) {
        throw new ServiceError(ResultCode.InvalidParameter, `The key service names the escrow service ${info.escrow.url}, not ${input.escrowUrl}: the escrow client key and the PIN were not used.`);
      }
      const esc = new RecoveryClient(info.escrow.url, { clientKey: input.escrowClientKey });
      const escrowShare = fromBase64((await guard('PIN', () => esc.release(input.username, { deviceId }))).share, 'escrow share');
      const params: PinShareParams = { N: info.pinParams.N, r: info.pinParams.r, p: info.pinParams.p, salt: fromBase64(info.pinParams.salt, 'salt') };
      const derived = await derivePinShare(input.pin, params);
      const check = pinCheck(escrowShare, derived);
      derived.fill(0);
      const released = await guard('PIN', () => ks.release(input.username, { deviceId, proof: { kind: 'pin', value: check } }, cleanTotp(input.totp)));
      if (!released.backup) throw new ServiceError(ResultCode.NotFound, 'The key service holds no backup for this user.');
      key = await combineShares(fromBase64(released.share, 'service share'), escrowShare, input.pin, params);
      escrowShare.fill(0);
      blob = fromBase64(released.backup, 'backup');
    }
    let opened: { seed: Uint8Array; rsaPrivateKeyDer: Uint8Array; previousKeyDers: Uint8Array[] };
    try {
      opened = openFullBackup(key, blob);
    } finally {
      key.fill(0);
    }
    try {
      const identity = await this.d.install(opened.seed, opened.rsaPrivateKeyDer, input.pin, opened.previousKeyDers);
      // Words restored were written down already. The shares on the services stay
      // valid only with the same PIN: after the words path (any new PIN) back up again.
      this.write({ ...EMPTY, wordsConfirmed: method === 'words', backedUpAt: method === 'shares' ? this.d.now() : null });
      return { did: identity.did, fingerprint: identity.fingerprint, method };
    } finally {
      opened.seed.fill(0);
      opened.rsaPrivateKeyDer.fill(0);
      for (const der of opened.previousKeyDers) der.fill(0);
    }
  }
}

export interface RestoreInput {
  server: string;
  appId: string;
  clientKey: string;
  username: string;
  pin: string;
  words?: string | undefined;
  escrowClientKey?: string | undefined;
  escrowUrl?: string | undefined;
  /** The account's TOTP code or a recovery code, for the key service only. */
  totp?: string | undefined;
}

/** An address compared without a trailing slash. */
function sameAddress(url: string): string {
  return new URL(url).href.replace(/\/+$/, '');
}

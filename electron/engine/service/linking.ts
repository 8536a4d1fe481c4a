/**
 * Device linking (docs/security.md "Device linking", crypto/link-protocol.ts):
 * an existing, unlocked device hands the identity secrets (the same secrets
 * record an identity file or the PIN vault holds: seed + RSA PKCS#8) to a new
 * profile of the same user, through the key service, which only relays.
 *
 *   new device        request():  key pair, commitment -> server; shows the 8-digit code
 *                     progress(): sees the claim -> reveals its key, shows the verification code;
 *                                 sees the sealed secrets -> opens, installs (restore path),
 *                                 registers as a new device of the user, syncs
 *   existing device   claim():    code + key pair -> server; waits for the reveal, checks it
 *                                 against the commitment, shows the verification code
 *                     confirm():  the user saw the same code on both screens -> seals and sends
 *
 * One pending link per side and profile, kept in memory only: the ephemeral
 * secret keys never reach the disk or the renderer, and are wiped when done.
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ResultCode, type Result } from '../../../shared/codes.js';
import type { Output } from '../../../shared/contract.js';
import { formatLinkCode, type LinkSessionResponse } from '../../../shared/link-wire.js';
import { fromBase64, toBase64, wipe } from '../crypto/_bytes.js';
import {
  commitment,
  matchesCommitment,
  newLinkKeyPair,
  openLinkPayload,
  sealLinkPayload,
  sessionKey,
  transcript,
  verificationCode,
  type LinkKeyPair,
} from '../crypto/link-protocol.js';
import { checkPin } from '../session/policy.js';
import type { Auth } from '../sync/client.js';
import type { Connection } from '../sync/connection.js';
import { isSyncError } from '../sync/errors.js';
import { LinkClient } from '../sync/link-client.js';
import { syncFailure } from './messaging.js';
import { decodeSecrets, encodeSecrets, type PublicIdentity } from './profile.js';
import { ServiceError } from './results.js';
import type { UnlockedKeys } from './unlocked-keys.js';

export interface LinkingDeps {
  now(): number;
  hasIdentity(): boolean;
  identity(): PublicIdentity;
  unlocked(): UnlockedKeys;
  /** The registered device's authenticated link to its key service, or null. */
  connection(): Connection | null;
  /** Installs restored secrets as this profile's identity with `pin` (as recovery:restore does) and unlocks. */
  install(seed: Uint8Array, rsaPrivateKeyDer: Uint8Array, pin: string): Promise<PublicIdentity>;
  register(input: { server: string; appId: string; serverKey: string; clientKey: string; username: string }): Promise<Result<unknown>>;
  syncNow(): Promise<Result<unknown>>;
  /** How long claim() waits for the new device to reveal its key (default 60 s). */
  revealWaitMs?: number;
  pollMs?: number;
}

type Progress = Output<'link:progress'>;
type RequestInput = { server: string; appId: string; clientKey: string; username: string; pin: string; serverKey?: string | undefined };

/** The new device's side of a pending link. */
interface Incoming {
  client: LinkClient;
  auth: Auth;
  input: RequestInput;
  linkId: string;
  code: string;
  expiresAt: number;
  pair: LinkKeyPair;
  commitment: Uint8Array;
  claimKey: Uint8Array | null;
  verificationCode: string | null;
}

/** The existing device's side. */
interface Outgoing {
  client: LinkClient;
  connection: Connection;
  linkId: string;
  expiresAt: number;
  pair: LinkKeyPair;
  commitment: Uint8Array;
  claimKey: Uint8Array;
  revealKey: Uint8Array;
  verificationCode: string;
}

const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
const fromB64url = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64url'));
/** 123 456: easier to compare aloud. */
const spaced = (sas: string): string => `${sas.slice(0, 3)} ${sas.slice(3)}`;
const digits = (s: string): string => s.replace(/[\s-]/g, '');

const expired = () => new ServiceError(ResultCode.NotFound, 'The link request expired or was cancelled: start again on the new device.');

/** A key-service failure as a result; the link codes get messages a person can act on. */
function linkFailure(e: unknown): unknown {
  if (!isSyncError(e)) return e;
  switch (e.extra.code) {
    case 'unknown_link_code':
      return new ServiceError(ResultCode.NotFound, 'No link request with this code for your account: check the code on the new device (it is valid for 10 minutes).');
    case 'unknown_link':
      return expired();
    case 'link_claimed':
      return new ServiceError(ResultCode.Conflict, 'This code was used already: start again on the new device.');
    case 'unknown_user':
      return new ServiceError(ResultCode.NotFound, 'The key service knows no user with that name who has a device to approve the link.');
    default:
      return syncFailure(e);
  }
}

async function mapped<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    throw linkFailure(e);
  }
}

export class Linking {
  private incoming: Incoming | null = null;
  private outgoing: Outgoing | null = null;
  /** What the last completed link reported, so a late progress() call still reads it. */
  private linked: Progress | null = null;

  constructor(private readonly d: LinkingDeps) {}

  // ---- new device ----

  async request(input: RequestInput): Promise<Progress> {
    if (this.d.hasIdentity()) throw new ServiceError(ResultCode.InvalidState, 'This profile already has an identity: link into a new profile.');
    checkPin(input.pin);
    await this.cancel();
    this.linked = null;
    const client = new LinkClient(input.server);
    const auth: Auth = { clientKey: input.clientKey };
    const pair = newLinkKeyPair();
    const c = commitment(pair.publicKey);
    try {
      const created = await mapped(() => client.create(auth, input.username, b64url(c)));
      const expiresAt = Date.parse(created.expiresAt);
      this.incoming = { client, auth, input, linkId: created.linkId, code: created.code, expiresAt, pair, commitment: c, claimKey: null, verificationCode: null };
      return this.progressValue(this.incoming, 'waiting');
    } catch (e) {
      wipe(pair.secretKey);
      throw e;
    }
  }

  private progressValue(s: Incoming, state: Progress['state']): Progress {
    return { state, code: formatLinkCode(s.code), verificationCode: s.verificationCode && spaced(s.verificationCode), expiresAt: s.expiresAt };
  }

  private inFlight: Promise<Progress> | null = null;

  /** One step at a time: two windows polling at once share the step (a second reveal would be refused). */
  progress(): Promise<Progress> {
    this.inFlight ??= this.step().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async step(): Promise<Progress> {
    const s = this.incoming;
    if (!s) {
      if (this.linked) return this.linked;
      throw new ServiceError(ResultCode.InvalidState, 'No link request is pending on this device: start one first.');
    }
    if (this.d.now() >= s.expiresAt) {
      this.dropIncoming();
      throw expired();
    }
    let session: LinkSessionResponse;
    try {
      session = await mapped(() => s.client.get(s.auth, s.linkId));
    } catch (e) {
      if (e instanceof ServiceError && e.code === ResultCode.NotFound) this.dropIncoming();
      throw e;
    }
    if (session.commitment !== b64url(s.commitment)) return this.abortIncoming('The key service changed the link request: nothing was received. Start again.');
    if (session.claimKey === null) return this.progressValue(s, 'waiting');
    if (s.claimKey === null) {
      // First sight of the existing device's key: it fixes the code before ours is revealed (commit-then-reveal).
      s.claimKey = fromB64url(session.claimKey);
      s.verificationCode = verificationCode(s.commitment, s.claimKey, s.pair.publicKey);
    } else if (b64url(s.claimKey) !== session.claimKey) {
      return this.abortIncoming('The key service changed the other device\'s key: nothing was received. Start again.');
    }
    if (session.revealKey === null) {
      // Also after a reveal that failed on the way: the next step sends it again.
      await mapped(() => s.client.reveal(s.auth, s.linkId, b64url(s.pair.publicKey)));
      return this.progressValue(s, 'verify');
    }
    if (session.revealKey !== b64url(s.pair.publicKey)) return this.abortIncoming('The key service changed this device\'s key: nothing was received. Start again.');
    if (session.sealed === null) return this.progressValue(s, 'verify');
    return this.finishIncoming(s, fromBase64(session.sealed, 'sealed secrets'));
  }

  private async finishIncoming(s: Incoming, sealed: Uint8Array): Promise<Progress> {
    const claimKey = s.claimKey!;
    const t = transcript(s.linkId, s.commitment, claimKey, s.pair.publicKey);
    const key = sessionKey(s.pair.secretKey, claimKey, t);
    let secrets: Uint8Array;
    try {
      secrets = openLinkPayload(key, t, sealed);
    } catch (e) {
      await this.cancel();
      throw e;
    } finally {
      wipe(key);
    }
    let identity: PublicIdentity;
    try {
      const { seed, rsaPrivateKeyDer } = decodeSecrets(secrets);
      identity = await this.d.install(seed, rsaPrivateKeyDer, s.input.pin);
    } finally {
      wipe(secrets);
    }
    // The server forgets the session now (it would expire anyway).
    await s.client.remove(s.auth, s.linkId).catch(() => undefined);
    const done: Progress = { ...this.progressValue(s, 'linked'), did: identity.did, fingerprint: identity.fingerprint, registered: false };
    this.dropIncoming();
    const { serverKey, server, appId, clientKey, username } = s.input;
    if (serverKey !== undefined) {
      const reg = await this.d.register({ server, appId, serverKey, clientKey, username });
      if (reg.code !== 0) {
        done.warning = `The identity is linked, but registering this device failed: ${reg.message}`;
      } else {
        done.registered = true;
        // Contacts, items and received messages come back as after a restore.
        const synced = await this.d.syncNow();
        if (synced.code !== 0) done.warning = `Linked and registered; the first sync failed: ${synced.message}`;
      }
    }
    this.linked = done;
    return done;
  }

  private async abortIncoming(message: string): Promise<never> {
    await this.cancel();
    throw new ServiceError(ResultCode.Tampered, message);
  }

  private dropIncoming(): void {
    if (this.incoming) wipe(this.incoming.pair.secretKey);
    this.incoming = null;
  }

  // ---- existing device ----

  /** `totp`: the account's current code, when its two-step verification is on. */
  async claim(code: string, totp?: string): Promise<Output<'link:claim'>> {
    this.d.identity();
    this.d.unlocked();
    const connection = this.d.connection();
    if (!connection) throw new ServiceError(ResultCode.DeviceUnregistered, 'Register this device with a key service before linking another one.');
    await this.cancel();
    const client = new LinkClient(connection.client);
    const pair = newLinkKeyPair();
    try {
      const totpCode = totp?.replace(/[\s-]+/g, '').toUpperCase();
      const claimed = await mapped(() => connection.call((auth) => client.claim(auth, digits(code), b64url(pair.publicKey), totpCode)));
      const c = fromB64url(claimed.commitment);
      const expiresAt = Date.parse(claimed.expiresAt);
      const session = await this.waitForReveal(client, connection, claimed.linkId, Math.min(expiresAt, this.d.now() + (this.d.revealWaitMs ?? 60_000)));
      if (session.claimKey !== b64url(pair.publicKey)) throw await this.abortOutgoing(client, connection, claimed.linkId, 'The key service changed this device\'s key: nothing was sent.');
      const revealKey = fromB64url(session.revealKey!);
      if (!matchesCommitment(c, revealKey)) {
        throw await this.abortOutgoing(client, connection, claimed.linkId, 'The new device\'s key does not match what it committed to: the key service changed it. Nothing was sent.');
      }
      const sas = verificationCode(c, pair.publicKey, revealKey);
      this.outgoing = { client, connection, linkId: claimed.linkId, expiresAt, pair, commitment: c, claimKey: pair.publicKey, revealKey, verificationCode: sas };
      return { verificationCode: spaced(sas), expiresAt };
    } catch (e) {
      wipe(pair.secretKey);
      throw e;
    }
  }

  private async waitForReveal(client: LinkClient, connection: Connection, linkId: string, deadline: number): Promise<LinkSessionResponse> {
    for (;;) {
      const session = await mapped(() => connection.call((auth) => client.get(auth, linkId)));
      if (session.revealKey !== null) return session;
      if (this.d.now() >= deadline) {
        await connection.call((auth) => client.remove(auth, linkId)).catch(() => undefined);
        throw new ServiceError(ResultCode.NoInternetAccess, 'The new device did not answer in time: keep its link screen open and try again with a new code.');
      }
      await sleep(this.d.pollMs ?? 500);
    }
  }

  private async abortOutgoing(client: LinkClient, connection: Connection, linkId: string, message: string): Promise<ServiceError> {
    await connection.call((auth) => client.remove(auth, linkId)).catch(() => undefined);
    return new ServiceError(ResultCode.Tampered, message);
  }

  async confirm(typed: string): Promise<Output<'link:confirm'>> {
    const s = this.outgoing;
    if (!s) throw new ServiceError(ResultCode.InvalidState, 'No link is waiting for confirmation on this device: enter the new device\'s code first.');
    if (this.d.now() >= s.expiresAt) {
      await this.cancel();
      throw expired();
    }
    if (digits(typed) !== s.verificationCode) {
      // Different codes mean someone is in the middle: this attempt is over.
      await this.cancel();
      throw new ServiceError(ResultCode.InvalidParameter, 'The verification codes differ: nothing was sent and the link was cancelled. Start again on the new device.');
    }
    const keys = this.d.unlocked();
    const t = transcript(s.linkId, s.commitment, s.claimKey, s.revealKey);
    const key = sessionKey(s.pair.secretKey, s.revealKey, t);
    const secrets = encodeSecrets(keys.seed, keys.rsaPrivateKeyDer);
    let sealed: Uint8Array;
    try {
      sealed = sealLinkPayload(key, t, secrets);
    } finally {
      wipe(key, secrets);
    }
    await mapped(() => s.connection.call((auth) => s.client.seal(auth, s.linkId, toBase64(sealed))));
    wipe(s.pair.secretKey);
    this.outgoing = null;
    return { linked: true };
  }

  /** Abandons whatever is pending on either side (and tells the key service). */
  async cancel(): Promise<Output<'link:cancel'>> {
    const inc = this.incoming;
    const out = this.outgoing;
    this.dropIncoming();
    if (out) wipe(out.pair.secretKey);
    this.outgoing = null;
    if (inc) await inc.client.remove(inc.auth, inc.linkId).catch(() => undefined);
    if (out) await out.connection.call((auth) => out.client.remove(auth, out.linkId)).catch(() => undefined);
    return { cancelled: inc !== null || out !== null };
  }
}

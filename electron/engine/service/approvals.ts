/**
 * Connected apps on the desktop (docs/connected-apps.md): the requests other
 * applications make for this user's personal key or a sign-in, and the user's
 * decision. On approval the engine derives the application's personal key from
 * the seed (crypto/connected-app-key.ts), seals it to the request's transit key,
 * signs the challenge with the identity key and sends only those two; the key
 * itself is wiped at once. Nothing is sent without a decision; an expired
 * request or a blocked application cannot be approved. Every decision is in
 * the audit log; the applications that received something, and when, are kept
 * in the profile's settings (apps:list).
 * @module
 */
import { z } from 'zod';
import { ResultCode, resultCodeName, type Result } from '../../../shared/codes.js';
import type { Handlers } from '../../../shared/contract.js';
import { BLOCK_NOTE, type ApprovalValue } from '../../../shared/contract-approvals.js';
import type { ApprovalChallenge, PendingApproval, SealedKey } from '../../../shared/connected-wire.js';
import { deriveConnectedAppKey, sealedKeyHash, sealForApp, signChallenge, transitKeyId } from '../crypto/connected-app-key.js';
import type { Db } from '../vault/_sql.js';
import { getSetting, setSetting } from '../vault/settings.js';
import type { AuditAction, JsonValue } from '../vault/audit.js';
import { ApprovalsClient } from '../sync/approvals-client.js';
import type { Connection } from '../sync/connection.js';
import { isSyncError, type SyncError } from '../sync/errors.js';
import { syncFailure } from './messaging.js';
import type { PublicIdentity } from './profile.js';
import { failureOf, ok, ServiceError } from './results.js';
import type { UnlockedKeys } from './unlocked-keys.js';

export interface ApprovalsContext {
  db: Db;
  now(): number;
  identity(): PublicIdentity;
  registration(): { appId: string; username: string } | null;
  connection(): Connection | null;
  /** Is a PIN set (false when the profile was made with "0")? */
  pinSet(): Promise<boolean>;
  isUnlocked(): boolean;
  /** Unlocks the session with the PIN (counts wrong PINs like any unlock). */
  unlock(pin: string): Promise<void>;
  /** Checks the PIN without changing the session (counts wrong PINs). */
  checkPin(pin: string): Promise<void>;
  unlocked(): UnlockedKeys;
  record(action: AuditAction, target: string | null, result: string, details?: Record<string, JsonValue> | null): Promise<void>;
}

const SETTINGS_KEY = 'connectedApps';
const AppRecord = z.object({
  name: z.string(),
  firstAt: z.number(),
  lastKeyAt: z.number().nullable(),
  lastSignInAt: z.number().nullable(),
  keys: z.number().int(),
  signIns: z.number().int(),
  blockedAt: z.number().nullable(),
});
const AppRecords = z.record(z.string(), AppRecord);
type AppRecords = z.infer<typeof AppRecords>;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The server's refusals people meet here, said in their terms. */
function approvalFailure(e: SyncError): ServiceError {
  switch (e.extra.code) {
    case 'request_expired':
      return new ServiceError(ResultCode.InvalidState, 'This request expired before a decision: the application must ask again.', { reason: 'expired' });
    case 'request_decided':
      return new ServiceError(ResultCode.Conflict, 'This request was decided already (on another device, or just now).', { reason: 'decided' });
    case 'unknown_request':
    case 'unknown_code':
      return new ServiceError(ResultCode.NotFound, e.message, { reason: e.extra.code });
    default:
      return syncFailure(e);
  }
}

export function approvalHandlers(ctx: ApprovalsContext): Pick<Handlers, 'approvals:list' | 'approvals:approve' | 'approvals:deny' | 'approvals:claim' | 'apps:list' | 'apps:block'> {
  /** What was last listed, so an approval of a card shown a moment ago knows what it approves. */
  const seen = new Map<string, PendingApproval>();

  const records = (): AppRecords => getSetting(ctx.db, SETTINGS_KEY, AppRecords) ?? {};
  const save = (r: AppRecords): void => setSetting(ctx.db, SETTINGS_KEY, r, ctx.now());

  function client(): ApprovalsClient {
    ctx.identity();
    const c = ctx.connection();
    if (!c) throw new ServiceError(ResultCode.DeviceUnregistered, 'This device is not registered with a key service yet.');
    return new ApprovalsClient(c);
  }

  function view(p: PendingApproval): ApprovalValue {
    return {
      id: p.id,
      kind: p.kind,
      app: { id: p.app.id, name: p.app.name, transitKeyFingerprint: p.app.transitKeyFingerprint, keyBits: p.app.keyBits },
      reason: p.reason,
      returnTo: p.returnTo,
      ip: p.ip,
      createdAt: p.createdAt,
      expiresAt: p.expiresAt,
      blocked: records()[p.app.id]?.blockedAt != null,
    };
  }

  async function pending(): Promise<PendingApproval[]> {
    const list = await client().pending();
    for (const p of list) seen.set(p.id, p);
    return list;
  }

  /**
   * The request to decide: fresh from the key service, else as this device last
   * listed it (the key service then says why it is no longer open: expired or
   * decided; it is the judge, its clock counts). @throws InvalidState when expired, NotFound when never seen
   */
  async function find(id: string): Promise<PendingApproval> {
    const fresh = (await pending()).find((p) => p.id === id);
    if (fresh) return fresh;
    const old = seen.get(id);
    if (old && Date.parse(old.expiresAt) <= ctx.now()) {
      throw new ServiceError(ResultCode.InvalidState, 'This request expired before a decision: the application must ask again.', { reason: 'expired' });
    }
    if (old) return old;
    throw new ServiceError(ResultCode.NotFound, 'No pending request with this id: it was decided, it expired, or it is not yours.');
  }

  /** The PIN rule: with a PIN set, each approval is confirmed with it; without one, the keys just need to be unlocked. */
  async function confirmPin(pin: string | undefined): Promise<void> {
    const pinSet = await ctx.pinSet();
    if (!ctx.isUnlocked()) {
      if (pinSet && pin === undefined) throw new ServiceError(ResultCode.Locked, 'The keys are locked: approve with your PIN.');
      await ctx.unlock(pin ?? '0');
      return;
    }
    if (!pinSet) return;
    if (pin === undefined) throw new ServiceError(ResultCode.InvalidPin, 'Enter your PIN to approve.');
    await ctx.checkPin(pin);
  }

  /** The key sealed to the request's transit key and the signature over the challenge. */
  function decide(p: PendingApproval, keys: UnlockedKeys): { signature: string; time: string; sealedKey: SealedKey | null } {
    const reg = ctx.registration();
    if (!reg) throw new ServiceError(ResultCode.DeviceUnregistered, 'This device is not registered with a key service yet.');
    let sealedKey: SealedKey | null = null;
    if (p.kind !== 'sign-in') {
      if (!p.app.transitKeyPem) throw new ServiceError(ResultCode.InvalidParameter, 'The request asks for the key but names no transit key.');
      // What the card showed is what the key is sealed to.
      if (transitKeyId(p.app.transitKeyPem) !== p.app.transitKeyFingerprint) throw new ServiceError(ResultCode.Tampered, 'The transit key does not match its fingerprint.');
      const key = deriveConnectedAppKey(keys.seed, p.app.id, p.app.keyBits);
      try {
        sealedKey = sealForApp(key, p.app.transitKeyPem);
      } finally {
        key.fill(0);
      }
    }
    const time = new Date(ctx.now()).toISOString();
    const challenge: ApprovalChallenge = {
      type: 'sealpost/connected-app/approval/v1',
      service: reg.appId,
      app: p.app.id,
      request: p.id,
      nonce: p.nonce,
      kind: p.kind,
      user: ctx.identity().did,
      username: reg.username,
      key: sealedKey ? sealedKeyHash(sealedKey) : null,
      time,
    };
    return { signature: signChallenge(challenge, keys.identity.secretKey), time, sealedKey };
  }

  function remember(p: PendingApproval): void {
    const all = records();
    const now = ctx.now();
    const r = all[p.app.id] ?? { name: p.app.name, firstAt: now, lastKeyAt: null, lastSignInAt: null, keys: 0, signIns: 0, blockedAt: null };
    r.name = p.app.name;
    if (p.kind !== 'sign-in') {
      r.keys += 1;
      r.lastKeyAt = now;
    }
    if (p.kind !== 'key') {
      r.signIns += 1;
      r.lastSignInAt = now;
    }
    all[p.app.id] = r;
    save(all);
  }

  /** Runs a decision and records it with its outcome, failed ones included. */
  async function audited<T>(action: AuditAction, target: string, op: () => Promise<T>, details: () => Record<string, JsonValue> | null = () => null): Promise<Result<T>> {
    let result: Result<T>;
    try {
      result = ok(await op());
    } catch (e) {
      result = failureOf(isSyncError(e) ? approvalFailure(e) : e);
    }
    try {
      await ctx.record(action, target, result.code === 0 ? 'ok' : resultCodeName(result.code), details());
    } catch (error) {
      if (result.code === 0) return failureOf(error);
    }
    return result;
  }

  return {
    'approvals:list': async () => {
      try {
        return ok({ requests: (await pending()).map(view) });
      } catch (e) {
        return failureOf(isSyncError(e) ? approvalFailure(e) : e);
      }
    },
    'approvals:approve': async ({ id, pin }) => {
      let app: PendingApproval['app'] | null = null;
      let kind = '';
      return audited(
        'approval.approve',
        `approval:${id}`,
        async () => {
          const p = await find(id);
          app = p.app;
          kind = p.kind;
          if (records()[p.app.id]?.blockedAt != null) throw new ServiceError(ResultCode.InvalidState, `You stopped approvals for ${p.app.name}: this request can only be denied.`, { reason: 'blocked' });
          await confirmPin(pin);
          await client().approve(p.id, decide(p, ctx.unlocked()));
          remember(p);
          return { id: p.id, state: 'approved' as const, key: p.kind !== 'sign-in', signIn: p.kind !== 'key' };
        },
        () => (app ? { app: (app as PendingApproval['app']).id, appName: (app as PendingApproval['app']).name, kind } : null),
      );
    },
    'approvals:deny': async ({ id }) => {
      let appId: string | null = null;
      return audited(
        'approval.deny',
        `approval:${id}`,
        async () => {
          const p = await find(id);
          appId = p.app.id;
          await client().deny(p.id);
          return { id: p.id, state: 'denied' as const };
        },
        () => (appId ? { app: appId } : null),
      );
    },
    'approvals:claim': async ({ code }) =>
      audited('approval.claim', 'approval-code', async () => {
        const p = await client().claim(code);
        seen.set(p.id, p);
        return view(p);
      }),
    'apps:list': async () => {
      try {
        const apps = Object.entries(records()).map(([id, r]) => ({
          id,
          name: r.name,
          firstAt: iso(r.firstAt)!,
          lastKeyAt: iso(r.lastKeyAt),
          lastSignInAt: iso(r.lastSignInAt),
          keys: r.keys,
          signIns: r.signIns,
          blockedAt: iso(r.blockedAt),
        }));
        return ok({ apps, note: 'Keys already delivered cannot be taken back; blocking stops future approvals.' });
      } catch (e) {
        return failureOf(e);
      }
    },
    'apps:block': async ({ appId }) =>
      audited(`app.block`, `connected-app:${appId}`, async () => {
        ctx.identity();
        const all = records();
        const now = ctx.now();
        const known = all[appId] ?? [...seen.values()].find((p) => p.app.id === appId)?.app;
        if (!known) throw new ServiceError(ResultCode.NotFound, 'This application never asked this profile for anything.');
        const r = all[appId] ?? { name: known.name, firstAt: now, lastKeyAt: null, lastSignInAt: null, keys: 0, signIns: 0, blockedAt: null };
        r.blockedAt ??= now;
        all[appId] = r;
        save(all);
        return { appId, blockedAt: iso(r.blockedAt)!, note: BLOCK_NOTE };
      }),
  };
}

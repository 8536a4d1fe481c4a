/**
 * The TOTP second factor of the user's account on the key service, relayed for
 * the UI and the CLI (shared/contract-totp.ts). The key service makes, keeps and
 * checks the secret; nothing of it is stored on the desktop. Every change is in
 * the local audit log (never the secret, a code or a recovery code).
 * @module
 */
import { ResultCode, resultCodeName, type Result } from '../../../shared/codes.js';
import type { Handlers } from '../../../shared/contract.js';
import type { Connection } from '../sync/connection.js';
import { totpConfirm, totpDisable, totpSetup, totpStatus } from '../sync/enroll-client.js';
import { isSyncError } from '../sync/errors.js';
import type { AuditAction, JsonValue } from '../vault/audit.js';
import { syncFailure } from './messaging.js';
import type { PublicIdentity } from './profile.js';
import { failureOf, ok, ServiceError } from './results.js';

export interface TotpContext {
  identity(): PublicIdentity;
  /** The key-service connection, or null when the profile is not registered. */
  connection(): Connection | null;
  /** Whether the organisation's policy requires TOTP (requireTotp). */
  required(): boolean;
  record(action: AuditAction, target: string | null, result: string, details?: Record<string, JsonValue> | null): Promise<void>;
}

type TotpChannels = 'totp:status' | 'totp:enable' | 'totp:confirm' | 'totp:disable';

/** The typed code as the key service reads it: no spaces or hyphens, upper case. */
const cleanCode = (code: string) => code.replace(/[\s-]+/g, '').toUpperCase();

export function totpHandlers(ctx: TotpContext): Pick<Handlers, TotpChannels> {
  function conn(): Connection {
    ctx.identity();
    const c = ctx.connection();
    if (!c) throw new ServiceError(ResultCode.DeviceUnregistered, 'This device is not registered with a key service yet.');
    return c;
  }

  async function audited<T>(action: AuditAction, op: () => Promise<T>, details: (v: T) => Record<string, JsonValue> | null = () => null): Promise<Result<T>> {
    let result: Result<T>;
    try {
      result = ok(await op());
    } catch (e) {
      result = failureOf(isSyncError(e) ? syncFailure(e) : e);
    }
    try {
      await ctx.record(action, 'account', result.code === 0 ? 'ok' : resultCodeName(result.code), result.code === 0 ? details(result.value) : null);
    } catch (error) {
      if (result.code === 0) return failureOf(error);
    }
    return result;
  }

  return {
    'totp:status': async () => {
      try {
        const c = conn();
        const s = await c.call((auth) => totpStatus(c.client, auth));
        return ok({ ...s, required: ctx.required() });
      } catch (e) {
        return failureOf(isSyncError(e) ? syncFailure(e) : e);
      }
    },
    'totp:enable': () =>
      audited('totp.enable', async () => {
        const c = conn();
        return c.call((auth) => totpSetup(c.client, auth));
      }),
    'totp:confirm': ({ code }) =>
      audited(
        'totp.confirm',
        async () => {
          const c = conn();
          return c.call((auth) => totpConfirm(c.client, auth, cleanCode(code)));
        },
        (v) => ({ recoveryCodes: v.recoveryCodes.length }),
      ),
    'totp:disable': ({ code }) =>
      audited('totp.disable', async () => {
        const c = conn();
        return c.call((auth) => totpDisable(c.client, auth, cleanCode(code)));
      }),
  };
}

/**
 * The user's devices (docs/security.md "Devices"): the key service's list of
 * them, and revoking one from another. Revoking the device this app runs on is
 * refused here: it would lock this app out of its own key service mid-session;
 * an app admin (or another device) does that.
 * @module
 */
import { ResultCode, resultCodeName, type Result } from '../../../shared/codes.js';
import type { Handlers } from '../../../shared/contract.js';
import type { Connection } from '../sync/connection.js';
import { isSyncError } from '../sync/errors.js';
import type { AuditAction, JsonValue } from '../vault/audit.js';
import { syncFailure } from './messaging.js';
import type { PublicIdentity } from './profile.js';
import { failureOf, ok, ServiceError } from './results.js';

export interface DevicesContext {
  identity(): PublicIdentity;
  /** The key-service connection, or null when the profile is not registered. */
  connection(): Connection | null;
  record(action: AuditAction, target: string | null, result: string, details?: Record<string, JsonValue> | null): Promise<void>;
}

const mapError = (e: unknown): Result<never> => failureOf(isSyncError(e) ? syncFailure(e) : e);

export function deviceHandlers(ctx: DevicesContext): Pick<Handlers, 'devices:list' | 'devices:revoke'> {
  function conn(): Connection {
    ctx.identity();
    const c = ctx.connection();
    if (!c) throw new ServiceError(ResultCode.DeviceUnregistered, 'This device is not registered with a key service yet.');
    return c;
  }

  return {
    'devices:list': async () => {
      try {
        const c = conn();
        const devices = await c.call((auth) => c.client.listDevices(auth));
        const agentTokens = (await c.delegated()) !== null;
        return ok({ devices: devices.map(({ deviceId, createdAt, revokedAt, deviceDid, current }) => ({ deviceId, createdAt, revokedAt, deviceDid, current })), agentTokens });
      } catch (e) {
        return mapError(e);
      }
    },
    'devices:revoke': async ({ deviceId, totp }) => {
      let result: Result<{ deviceId: string; revokedAt: string }>;
      try {
        if (deviceId === ctx.identity().deviceId) {
          throw new ServiceError(ResultCode.InvalidParameter, 'This is the device you are using: revoke it from another device, or ask an app admin.');
        }
        const c = conn();
        result = ok(await c.call((auth) => c.client.revokeDevice(auth, deviceId, totp?.replace(/[\s-]+/g, '').toUpperCase())));
      } catch (e) {
        result = mapError(e);
      }
      try {
        await ctx.record('device.revoke', `device:${deviceId}`, result.code === 0 ? 'ok' : resultCodeName(result.code));
      } catch (error) {
        if (result.code === 0) return failureOf(error);
      }
      return result;
    },
  };
}

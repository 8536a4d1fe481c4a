/**
 * How the messaging handlers turn their work into a Result: sync errors become
 * the result codes the contract documents (offline -> NoInternetAccess,
 * unregistered -> DeviceUnregistered), and audited calls record their outcome
 * (never content, never secrets).
 * @module
 */
import { ResultCode, resultCodeName, type Result } from '../../../shared/codes.js';
import type { AuditAction, JsonValue } from '../vault/audit.js';
import { isSyncError, type SyncError } from '../sync/errors.js';
import type { MessagingContext } from './messaging-context.js';
import { failureOf, ok, ServiceError } from './results.js';

/** A SyncError as a service failure: offline -> NoInternetAccess, unregistered -> DeviceUnregistered. */
export function syncFailure(e: SyncError): ServiceError {
  const details = { ...(e.extra.status !== undefined && { status: e.extra.status }), ...(e.extra.code && { server: e.extra.code }), kind: e.kind };
  switch (e.kind) {
    case 'offline':
      return new ServiceError(ResultCode.NoInternetAccess, e.message, details);
    case 'unregistered':
      return new ServiceError(ResultCode.DeviceUnregistered, e.message, details);
    case 'rejected':
      return new ServiceError(e.extra.status === 404 ? ResultCode.NotFound : e.extra.status === 409 ? ResultCode.Conflict : ResultCode.Failed, e.message, details);
    default:
      return new ServiceError(ResultCode.Failed, e.message, details);
  }
}

/** Anything thrown as a failed Result, sync errors mapped by syncFailure. */
export const mapError = (e: unknown): Result<never> => failureOf(isSyncError(e) ? syncFailure(e) : e);

/** Runs `op` and maps what it returns or throws to a Result. */
export async function run<T>(op: () => Promise<T> | T): Promise<Result<T>> {
  try {
    return ok(await op());
  } catch (e) {
    return mapError(e);
  }
}

/** Runs `op` and records it with its outcome; a failed recording does not change the result. */
export async function audited<T>(
  c: Pick<MessagingContext, 'record'>,
  action: AuditAction,
  target: string | null,
  op: () => Promise<T> | T,
  details: (v: T) => Record<string, JsonValue> | null = () => null,
): Promise<Result<T>> {
  const result = await run(op);
  await c.record(action, target, result.code === 0 ? 'ok' : resultCodeName(result.code), result.code === 0 ? details(result.value) : null).catch(() => undefined);
  return result;
}

/**
 * How a handler of the engine's own channels turns its work into a Result: plainly,
 * or audited (key and data requests are recorded with their outcome, failed ones
 * included). The typed errors become result codes in results.ts.
 * @module
 */
import { resultCodeName, type Result } from '../../../shared/codes.js';
import type { AuditAction } from '../vault/audit.js';
import { failureOf, ok } from './results.js';

/** Writes one audit entry with the request's outcome ('ok' or the result code's name). */
export type RecordOutcome = (action: AuditAction, target: string | null, outcome: string) => Promise<void>;

/** Runs `op` and maps what it returns or throws to a Result. */
export async function plainResult<T>(op: () => Promise<T> | T): Promise<Result<T>> {
  try {
    return ok(await op());
  } catch (error) {
    return failureOf(error);
  }
}

/**
 * Runs a key/data request and records it with its outcome, success or not. A success
 * that could not be recorded is answered with the recording's failure instead.
 */
export async function auditedResult<T>(record: RecordOutcome, action: AuditAction, target: string | null, op: () => Promise<T> | T): Promise<Result<T>> {
  let result: Result<T>;
  try {
    result = ok(await op());
  } catch (error) {
    result = failureOf(error);
  }
  const outcome = result.code === 0 ? 'ok' : resultCodeName(result.code);
  try {
    await record(action, target, outcome);
  } catch (error) {
    if (result.code === 0) return failureOf(error);
  }
  return result;
}

/**
 * One way to call the engine from a screen: the value on success, or a
 * UiError (human sentence + code name) on failure — never a thrown promise
 * and never a blank screen.
 */
import type { Result } from '../../../shared/codes';
import { describeError, type UiError } from '../errors';

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: UiError };

export async function call<T>(pending: Promise<Result<T>>): Promise<Outcome<T>> {
  try {
    const result = await pending;
    return result.code === 0 ? { ok: true, value: result.value } : { ok: false, error: describeError(result) };
  } catch (error) {
    // The bridge itself failed (engine gone, socket closed): still a message, not a crash.
    return { ok: false, error: { text: 'The Sealpost engine is not reachable.', details: `Failed (-1): ${error instanceof Error ? error.message : String(error)}` } };
  }
}

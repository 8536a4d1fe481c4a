/**
 * Exponential backoff with "full jitter" (AWS Architecture Blog, "Exponential
 * Backoff And Jitter", 2015): delay = random(0, min(cap, base * 2^attempt)).
 * Full jitter spreads the retries of many clients that failed together (a key
 * service restart) instead of having them return in lock-step.
 * @module
 */

export interface BackoffPolicy {
  /** First ceiling, ms. */
  baseMs: number;
  /** Largest ceiling, ms. */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 5 * 60_000 };

/**
 * Delay before retry number `attempt` (1 = the first retry).
 * @param random a source in [0, 1) (tests pass a fixed one)
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const n = Math.max(0, Math.min(30, Math.floor(attempt) - 1));
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** n);
  return Math.floor(random() * ceiling);
}

/** A server's Retry-After wins when it asks for longer than our jittered delay. */
export function retryDelay(attempt: number, retryAfterMs: number | undefined, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const jittered = backoffDelay(attempt, policy, random);
  return retryAfterMs !== undefined ? Math.max(retryAfterMs, jittered) : jittered;
}

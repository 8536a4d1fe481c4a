/** Waiting helpers of the live-delivery tests (issue 14): conditions polled with generous deadlines, nothing timed. */
import type { Profile } from './helpers.js';

/** The timer while a test runs: far longer than any deadline, so only the stream can explain a delivery. */
export const FAR = 30 * 60_000;

/** Polls `probe` until it gives a truthy value (returned) or the deadline passes. */
export async function until<T>(probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, what: string, deadlineMs = 90_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** sync:status's stream state. */
export const streamOf = async (p: Profile): Promise<string> => (await p.ok('sync:status', {})).stream;

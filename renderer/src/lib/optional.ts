/**
 * Calls a channel that this build's contract may not have yet (the messaging
 * and sync channels land separately from the screens that use them). The
 * reply is validated here with the caller's schema, so a missing or
 * different channel is a message on screen, not a crash.
 */
import type { z } from 'zod';
import { sealpost } from '../bridge';
import { describeError } from '../errors';
import type { Outcome } from './call';

type Loose = Record<string, Record<string, ((input: unknown) => Promise<unknown>) | undefined> | undefined>;

export async function callOptional<T>(channel: `${string}:${string}`, input: unknown, schema: z.ZodType<T>): Promise<Outcome<T>> {
  const [group, name] = channel.split(':') as [string, string];
  const fn = (sealpost as unknown as Loose)[group]?.[name];
  if (!fn) return { ok: false, error: { text: 'This version of Sealpost cannot do that yet.', details: `InvalidParameter (-29): no ${channel} call in this build` } };
  try {
    const result = (await fn(input)) as { code?: unknown; value?: unknown; message?: unknown };
    if (result.code === 0) {
      const parsed = schema.safeParse(result.value);
      if (parsed.success) return { ok: true, value: parsed.data };
      return { ok: false, error: { text: 'The engine answered in a form this screen does not understand.', details: `Failed (-1): unexpected ${channel} reply` } };
    }
    return { ok: false, error: describeError({ code: typeof result.code === 'number' ? result.code : -1, ...(typeof result.message === 'string' && { message: result.message }) }) };
  } catch (error) {
    return { ok: false, error: { text: 'The Sealpost engine is not reachable.', details: `Failed (-1): ${error instanceof Error ? error.message : String(error)}` } };
  }
}

/**
 * The one entry point from any edge (IPC, WebSocket bridge, CLI) into the
 * engine: validates the input against the channel's schema, runs the
 * handler, and turns anything unexpected into a Failed result — without
 * echoing input values, which may hold secrets.
 */
import { contract, type Channel, type Handlers } from '../../shared/contract.js';
import type { ZodType } from 'zod';
import { ResultCode, type Result } from '../../shared/codes.js';

export function isChannel(name: unknown): name is Channel {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(contract, name);
}

export function dispatch(handlers: Handlers, channel: unknown, input: unknown): Promise<Result<unknown>> {
  return dispatchOn(contract, handlers, channel, input);
}

/** A table of channels, each with its input schema, as shared/contract.ts and shared/contract-desktop.ts build them. */
type Schemas = Record<string, { input: ZodType }>;

/**
 * dispatch() over any such table (the engine's contract, the desktop shell's):
 * an unknown channel or an input its schema refuses is InvalidParameter naming
 * the fields, never their values; a handler's throw is Failed naming only the
 * error's class.
 */
export async function dispatchOn<S extends Schemas>(schemas: S, handlers: { [C in keyof S]: (input: never) => Promise<Result<unknown>> }, channel: unknown, input: unknown): Promise<Result<unknown>> {
  if (typeof channel !== 'string' || !Object.prototype.hasOwnProperty.call(schemas, channel)) {
    return { code: ResultCode.InvalidParameter, message: 'Unknown call.' };
  }
  const parsed = schemas[channel]!.input.safeParse(input ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`);
    return { code: ResultCode.InvalidParameter, message: `Invalid input for ${channel}: ${issues.join('; ')}` };
  }
  try {
    const handler = handlers[channel] as unknown as (input: unknown) => Promise<Result<unknown>>;
    return await handler(parsed.data);
  } catch (error) {
    // Handlers map known errors themselves; this is the backstop. Only the error's
    // class name is reported: messages from deep inside may quote data.
    const kind = error instanceof Error ? error.name : 'Error';
    return { code: ResultCode.Failed, message: `Internal error (${kind}) in ${channel}.` };
  }
}

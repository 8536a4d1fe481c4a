/**
 * What the CLI's commands share: the Command shape, strict option parsing,
 * reading input and writing output files, file-system failures as results,
 * and unlocking with the PIN. The command modules import this, and commands.ts
 * imports them, so nothing imports back.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ResultCode, type Result } from '../../shared/codes.js';
import { failureOf } from '../engine/service/results.js';
import type { CliContext } from './context.js';
import { readPin } from './prompt.js';
import { UsageError } from './usage-error.js';

export interface Command {
  synopsis: string;
  summary: string;
  run(ctx: CliContext): Promise<Result<unknown>>;
}

/** Largest input read from a pipe or given to encrypt (the contract's base64 cap is 64 MiB of text). */
export const MAX_PIPED_BYTES = 48 * 1024 * 1024;

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(ctx: CliContext, options: T, maxPositionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args: ctx.args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (parsed.positionals.length > maxPositionals) throw new UsageError(`unexpected argument "${parsed.positionals[maxPositionals]}"`);
  return parsed;
}

/**
 * Any failure of a command's work as a result: usage errors go up (exit 2),
 * file-system errors name the file, the rest map like contract calls.
 */
export function failedOn(error: unknown, what: string): Result<never> {
  if (error instanceof UsageError) throw error;
  return fsFailure(error, what);
}

/** A file-system failure as a result a person can act on. */
export function fsFailure(error: unknown, what: string): Result<never> {
  const code = (error as NodeJS.ErrnoException)?.code;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or folder',
    EACCES: 'permission denied',
    EISDIR: 'is a folder',
    EEXIST: 'already exists',
    ENOSPC: 'the disk is full',
  };
  if (typeof code === 'string' && reasons[code]) return { code: ResultCode.InvalidParameter, message: `${what}: ${reasons[code]}` };
  return failureOf(error);
}

export async function readInput(file: string | undefined): Promise<Uint8Array> {
  if (file !== undefined) return readFile(file);
  if (process.stdin.isTTY) throw new UsageError('give a file, or pipe the input on standard input');
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    total += (chunk as Buffer).length;
    if (total > MAX_PIPED_BYTES) throw new UsageError('standard input over 48 MiB: give a file path instead');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function writeOutput(out: string | undefined, data: Uint8Array | string): Promise<void> {
  if (out !== undefined) await writeFile(out, data, { mode: 0o600 });
  else process.stdout.write(data);
}

/** Checks the PIN (SEALPOST_PIN or a prompt) so the keys are available for this command. */
export async function unlock(ctx: CliContext): Promise<Result<unknown>> {
  return ctx.call('session:authenticate', { pin: await readPin() });
}

/**
 * `sealpost [--profile DIR] [--json] <command>`: the engine's service for scripts
 * and headless Linux. Every command goes through the same contract dispatch as
 * the app (same validation, same result codes, same audit log). Exit status 0 on
 * Success, 1 otherwise (code name and message on stderr; --json prints the whole
 * result on stdout), 2 for a usage error.
 */
import { ResultCode, resultCodeName } from '../../shared/codes.js';
import { dispatch } from '../engine/dispatch.js';
import { defaultProfileDir } from '../engine/paths.js';
import { openService } from '../engine/service/index.js';
import { TEST_KDF_PARAMS } from '../engine/crypto/pin-kdf.js';
import { loadPolicy } from '../engine/policy/load.js';
import { policyInvalid } from '../engine/policy/enforce.js';
import { commands, usage } from './commands.js';
import type { CliContext } from './context.js';
import { UsageError } from './usage-error.js';

const KEYCHAINS = ['auto', 'file', 'secret-service'] as const;

export type { Call, CliContext } from './context.js';

/**
 * Splits the global options (allowed before or after the command, as in
 * `sealpost inbox --json`) from the command name and the command's own arguments.
 */
function splitGlobals(argv: string[]): { globals: { profile?: string; json: boolean; keychain?: string; help: boolean }; name?: string; args: string[] } {
  const globals: { profile?: string; json: boolean; keychain?: string; help: boolean } = { json: false, help: false };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--profile') globals.profile = value();
    else if (flag === '--keychain') globals.keychain = value();
    else if (a === '--json') globals.json = true;
    else if (a === '--help' || a === '-h') globals.help = true;
    else rest.push(a);
  }
  const [name, ...args] = rest;
  return { globals, ...(name !== undefined && { name }), args };
}

async function main(argv: string[]): Promise<number> {
  const { globals: values, name, args } = splitGlobals(argv);
  if (values.help || !name || name === 'help') {
    process.stdout.write(usage());
    return name || values.help ? 0 : 2;
  }
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command "${name}"`);
  const keychain = (values.keychain ?? process.env.SEALPOST_KEYCHAIN ?? 'auto') as string;
  if (!(KEYCHAINS as readonly string[]).includes(keychain)) throw new UsageError('--keychain must be auto, file or secret-service');

  // An invalid managed policy fails closed before the profile is even opened; only
  // `policy` and `status` run, to say why (docs/deploy.md).
  const policy = await loadPolicy();
  if (policy.state === 'invalid' && name !== 'policy' && name !== 'status') {
    const refused = policyInvalid(policy);
    if (values.json) process.stdout.write(`${JSON.stringify(refused)}\n`);
    else process.stderr.write(`sealpost: ${resultCodeName(refused.code)} (${refused.code}): ${refused.message}\n`);
    return 1;
  }
  const service = await openService({
    policy,
    profileDir: values.profile ?? defaultProfileDir(),
    actor: 'cli',
    keychain: keychain as (typeof KEYCHAINS)[number],
    // Cheap scrypt for test suites only (the profile's blob records its parameters).
    ...(process.env.SEALPOST_INSECURE_TEST_KDF === '1' && { kdfParams: TEST_KDF_PARAMS }),
  });
  try {
    const ctx: CliContext = {
      service,
      call: (channel, input) => dispatch(service.handlers, channel, input) as never,
      json: values.json === true,
      args,
      out: (text) => process.stdout.write(`${text}\n`),
    };
    const result = await command.run(ctx);
    if (ctx.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    if (result.code !== ResultCode.Success) {
      if (!ctx.json) process.stderr.write(`sealpost: ${resultCodeName(result.code)} (${result.code}): ${result.message}\n`);
      return 1;
    }
    return 0;
  } finally {
    service.close();
  }
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`sealpost: ${error.message}\nRun "sealpost help" for the commands.\n`);
      process.exitCode = 2;
      return;
    }
    // Opening the profile failed (unreadable vault, keychain bound but unavailable...).
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`sealpost: ${message}\n`);
    process.exitCode = 1;
  },
);

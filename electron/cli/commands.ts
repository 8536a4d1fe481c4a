/**
 * The CLI's commands. Each parses its own options strictly (an unknown option is
 * a usage error), calls the contract (or, for streamed files, the service's file
 * crypto), prints for people by default and returns the Result for --json.
 */
import { readFile } from 'node:fs/promises';
import { ResultCode } from '../../shared/codes.js';
import { ok } from '../engine/service/results.js';
import { readPin } from './prompt.js';
import { type Command, failedOn, fsFailure, MAX_PIPED_BYTES, parse, readInput, unlock, writeOutput } from './command-kit.js';
import { messagingCommands } from './commands-messaging.js';
import { deviceCommands } from './commands-devices.js';
import { linkingCommands } from './commands-linking.js';
import { recoveryCommands } from './commands-recovery.js';
import { registerCommands } from './commands-register.js';
import { totpCommands } from './commands-totp.js';
import { sharingCommands } from './commands-sharing.js';
import { rotationCommands } from './commands-rotation.js';
import { watchCommands } from './commands-watch.js';
import { approvalCommands } from './commands-approvals.js';
import { policyCommands } from './commands-policy.js';

export { UsageError } from './usage-error.js';
export type { Command } from './command-kit.js';
import { UsageError } from './usage-error.js';

const init: Command = {
  synopsis: 'init [--rsa-bits 2048|3072|4096]',
  summary: 'create the identity of this profile (PIN from SEALPOST_PIN or a prompt; 0 = no PIN)',
  async run(ctx) {
    const { values } = parse(ctx, { 'rsa-bits': { type: 'string' } }, 0);
    const bits = values['rsa-bits'] === undefined ? undefined : Number(values['rsa-bits']);
    if (bits !== undefined && bits !== 2048 && bits !== 3072 && bits !== 4096) throw new UsageError('--rsa-bits must be 2048, 3072 or 4096');
    const pin = await readPin('Choose a PIN (4-12 digits; 0 for none): ');
    if (process.env.SEALPOST_PIN === undefined && (await readPin('Repeat the PIN: ')) !== pin) {
      return { code: ResultCode.InvalidPin, message: 'The two PINs differ.' };
    }
    if (!ctx.json) process.stderr.write(`Making a ${bits ?? 3072}-bit RSA key and the identity key...\n`);
    const result = await ctx.call('identity:create', { pin, ...(bits && { rsaBits: bits as 2048 | 3072 | 4096 }) });
    if (result.code === 0 && !ctx.json) {
      ctx.out(`Identity created.\n  DID:           ${result.value.did}\n  Fingerprint:   ${result.value.fingerprint}\n  Safety number: ${result.value.safetyNumber}`);
      ctx.out(`  Keychain:      ${ctx.service.keychain.backend} (${ctx.service.keychain.reason})`);
      if (pin === '0') process.stderr.write('Warning: no PIN. Anyone who can read this profile and its keychain can use your keys.\n');
    }
    return result;
  },
};

const status: Command = {
  synopsis: 'status',
  summary: 'identity, lock, PIN attempts, keychain backend',
  async run(ctx) {
    parse(ctx, {}, 0);
    const result = await ctx.call('engine:status', {});
    if (result.code === 0 && !ctx.json) {
      const s = result.value;
      ctx.out(
        [
          `Identity:  ${s.hasIdentity ? s.did : s.wiped ? 'erased after too many wrong PINs (restore from recovery)' : 'none (run sealpost init)'}`,
          ...(s.fingerprint ? [`Fingerprint: ${s.fingerprint}`] : []),
          `PIN:       ${s.pinDisabled ? 'disabled (weaker)' : `${s.attemptsLeft} attempts left${s.retryAfterMs ? `, next try in ${Math.ceil(s.retryAfterMs / 1000)} s` : ''}`}`,
          `Keychain:  ${s.keychainBackend} (${ctx.service.keychain.reason})`,
          `Registered with a key service: ${s.registered ? 'yes' : 'no'}`,
        ].join('\n'),
      );
    }
    return result;
  },
};

const fingerprint: Command = {
  synopsis: 'fingerprint',
  summary: 'this identity\'s fingerprint and safety number',
  async run(ctx) {
    parse(ctx, {}, 0);
    const result = await ctx.call('identity:get', {});
    if (result.code === 0 && !ctx.json) ctx.out(`${result.value.fingerprint}\n${result.value.safetyNumber}`);
    return result;
  },
};

const exportPublicKey: Command = {
  synopsis: 'export-public-key [-o FILE]',
  summary: 'the RSA public key (PEM) others seal to',
  async run(ctx) {
    const { values } = parse(ctx, { output: { type: 'string', short: 'o' } }, 0);
    const result = await ctx.call('keys:exportPublic', {});
    if (result.code !== 0 || ctx.json) return result;
    try {
      await writeOutput(values.output, result.value.pem);
    } catch (e) {
      return fsFailure(e, values.output ?? 'stdout');
    }
    return result;
  },
};

const seal: Command = {
  synopsis: 'seal --to PEM [--to PEM...] [FILE] [-o OUT]',
  summary: 'seal a file (streamed; needs -o) or standard input for the holders of the PEM public keys (and you)',
  async run(ctx) {
    const { values, positionals } = parse(ctx, { to: { type: 'string', multiple: true }, output: { type: 'string', short: 'o' } }, 1);
    if (!values.to?.length) throw new UsageError('seal needs at least one --to PEM file');
    const [file] = positionals;
    if (file !== undefined && values.output === undefined) throw new UsageError('sealing a file streams it to a file: add -o OUT');
    let pems: string[];
    try {
      pems = await Promise.all(values.to.map((p) => readFile(p, 'utf8')));
    } catch (e) {
      return fsFailure(e, 'a --to file');
    }
    const unlocked = await unlock(ctx);
    if (unlocked.code !== 0) return unlocked;
    try {
      if (file !== undefined) {
        const info = await ctx.service.files.sealFile(file, values.output!, pems);
        if (!ctx.json) process.stderr.write(`Sealed ${info.bytes} bytes (SHA-256 ${info.sha256}) into ${values.output}.\n`);
        return ok(info);
      }
      const sealed = await ctx.service.files.sealBytes(await readInput(undefined), pems);
      if (!ctx.json) await writeOutput(values.output, sealed);
      return ok({ bytes: sealed.length, ...(ctx.json && values.output === undefined && { sealed: Buffer.from(sealed).toString('base64') }) });
    } catch (e) {
      return failedOn(e, file ?? values.output ?? 'input');
    }
  },
};

const open: Command = {
  synopsis: 'open [FILE] [-o OUT]',
  summary: 'open something sealed to you: a sealed file (needs -o) or a sealed message from FILE or standard input',
  async run(ctx) {
    const { values, positionals } = parse(ctx, { output: { type: 'string', short: 'o' } }, 1);
    const [file] = positionals;
    const unlocked = await unlock(ctx);
    if (unlocked.code !== 0) return unlocked;
    try {
      const head = file !== undefined ? (await readFile(file)).subarray(0, 4) : null;
      if (file !== undefined && head?.toString('latin1') === 'SPFL') {
        if (values.output === undefined) throw new UsageError('a sealed file opens to a file: add -o OUT');
        const info = await ctx.service.files.openFile(file, values.output);
        if (!ctx.json) process.stderr.write(`Opened ${info.bytes} bytes from ${info.fromSelf ? 'you' : info.senderFingerprint} into ${values.output}.\n`);
        return ok(info);
      }
      const opened = await ctx.service.files.openBytes(await readInput(file));
      if (!ctx.json) {
        await writeOutput(values.output, opened.body);
        process.stderr.write(`From ${opened.info.fromSelf ? 'you' : opened.info.senderFingerprint}, sent ${new Date(opened.info.sentAt).toISOString()}.\n`);
      }
      return ok({ ...opened.info, ...(ctx.json && { body: Buffer.from(opened.body).toString('base64') }) });
    } catch (e) {
      return failedOn(e, file ?? values.output ?? 'input');
    }
  },
};

const encrypt: Command = {
  synopsis: 'encrypt [FILE] [--id IDENTIFIER] [-o OUT]',
  summary: 'IDENTOS encrypt: store FILE (or standard input) as a vault item; prints the base64 ciphertext',
  async run(ctx) {
    const { values, positionals } = parse(ctx, { id: { type: 'string' }, output: { type: 'string', short: 'o' } }, 1);
    let data: Uint8Array;
    try {
      data = await readInput(positionals[0]);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      return fsFailure(e, positionals[0] ?? 'input');
    }
    if (data.length > MAX_PIPED_BYTES) return { code: ResultCode.InvalidParameter, message: 'encrypt takes at most 48 MiB (use seal for big files)' };
    const unlocked = await unlock(ctx);
    if (unlocked.code !== 0) return unlocked;
    const result = await ctx.call('vault:encrypt', { data: Buffer.from(data).toString('base64'), ...(values.id !== undefined && { identifier: values.id }) });
    if (result.code === 0 && !ctx.json) {
      await writeOutput(values.output, `${result.value[0]}\n`);
      process.stderr.write(`Identifier: ${result.value[1]}\n`);
    }
    return result;
  },
};

const decrypt: Command = {
  synopsis: 'decrypt [FILE] [-o OUT]',
  summary: 'IDENTOS decrypt: the plaintext of a ciphertext made by encrypt',
  async run(ctx) {
    const { values, positionals } = parse(ctx, { output: { type: 'string', short: 'o' } }, 1);
    let text: string;
    try {
      text = Buffer.from(await readInput(positionals[0])).toString('utf8').trim();
    } catch (e) {
      if (e instanceof UsageError) throw e;
      return fsFailure(e, positionals[0] ?? 'input');
    }
    const unlocked = await unlock(ctx);
    if (unlocked.code !== 0) return unlocked;
    const result = await ctx.call('vault:decrypt', { data: text });
    if (result.code === 0 && !ctx.json) {
      await writeOutput(values.output, Buffer.from(result.value[0], 'base64'));
      process.stderr.write(`Identifier: ${result.value[1]}\n`);
    }
    return result;
  },
};

const devicePackage: Command = {
  synopsis: 'device-package',
  summary: 'IDENTOS devicePackage: the signed package registration sends (JSON)',
  async run(ctx) {
    parse(ctx, {}, 0);
    const result = await ctx.call('device:package', { pin: await readPin() });
    if (result.code === 0 && !ctx.json) ctx.out(JSON.stringify(result.value, null, 2));
    return result;
  },
};

const changePin: Command = {
  synopsis: 'change-pin',
  summary: 'new PIN (old from SEALPOST_PIN, new from SEALPOST_NEW_PIN, or prompts; 0 = no PIN)',
  async run(ctx) {
    parse(ctx, {}, 0);
    const oldPin = await readPin('Current PIN: ');
    const newPin = process.env.SEALPOST_NEW_PIN ?? (await readPin('New PIN: ', { ignoreEnv: true }));
    const result = await ctx.call('pin:change', { oldPin, newPin });
    if (result.code === 0 && !ctx.json) ctx.out(result.value.pinDisabled ? 'PIN disabled (weaker).' : 'PIN changed.');
    return result;
  },
};

const audit: Command = {
  synopsis: 'audit verify | audit list [--limit N] [--action A] [--result R]',
  summary: 'check the hash chain of the local audit log, or list its entries',
  async run(ctx) {
    const { values, positionals } = parse(ctx, { limit: { type: 'string' }, action: { type: 'string' }, result: { type: 'string' } }, 1);
    const [sub] = positionals;
    if (sub === 'verify') {
      const result = await ctx.call('audit:verify', {});
      if (result.code !== 0) return result;
      if (!ctx.json) ctx.out(result.value.ok ? `Audit chain OK (${result.value.entries} entries).` : `AUDIT CHAIN BROKEN: ${result.value.reason} at entry ${result.value.firstBadId ?? '?'}`);
      return result.value.ok ? result : { code: ResultCode.Tampered, message: `audit chain broken: ${result.value.reason}`, details: result.value };
    }
    if (sub === 'list') {
      const limit = values.limit === undefined ? undefined : Number(values.limit);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UsageError('--limit must be a positive integer');
      const result = await ctx.call('audit:list', { ...(limit && { limit }), ...(values.action && { action: values.action }), ...(values.result && { result: values.result }) });
      if (result.code === 0 && !ctx.json) {
        for (const e of result.value) ctx.out(`${e.id}\t${e.ts}\t${e.actor}\t${e.action}\t${e.target ?? '-'}\t${e.result}`);
      }
      return result;
    }
    throw new UsageError('audit needs "verify" or "list"');
  },
};

// ---- messaging and sync (docs/sync.md) ----

export const commands: Record<string, Command> = {
  init,
  status,
  fingerprint,
  'export-public-key': exportPublicKey,
  seal,
  open,
  encrypt,
  decrypt,
  'device-package': devicePackage,
  'change-pin': changePin,
  audit,
  ...registerCommands,
  ...messagingCommands,
  ...recoveryCommands,
  ...linkingCommands,
  ...sharingCommands,
  ...deviceCommands,
  ...rotationCommands,
  ...totpCommands,
  ...watchCommands,
  ...approvalCommands,
  ...policyCommands,
};

export function usage(): string {
  const width = Math.max(...Object.values(commands).map((c) => c.synopsis.length));
  return [
    'Usage: sealpost [--profile DIR] [--json] [--keychain auto|file|secret-service] <command>',
    '',
    'Profile: --profile, else SEALPOST_PROFILE, else the app\'s own profile folder.',
    'PIN: SEALPOST_PIN, else a prompt (hidden).',
    '',
    'Commands:',
    ...Object.values(commands).map((c) => `  ${c.synopsis.padEnd(width)}  ${c.summary}`),
    '',
  ].join('\n');
}

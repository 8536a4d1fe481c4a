/**
 * The CLI's commands. Each parses its own options strictly (an unknown option is
 * a usage error), calls the contract (or, for streamed files, the service's file
 * crypto), prints for people by default and returns the Result for --json.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ResultCode, type Result } from '../../shared/codes.js';
import { failureOf, ok } from '../engine/service/results.js';
import { syncFailure } from '../engine/service/messaging.js';
import { isSyncError } from '../engine/sync/errors.js';
import type { CliContext } from './main.js';
import { readPin } from './prompt.js';
import { deviceCommands } from './commands-devices.js';
import { linkingCommands } from './commands-linking.js';
import { recoveryCommands } from './commands-recovery.js';
import { registerCommands } from './commands-register.js';
import { totpCommands } from './commands-totp.js';
import { sharingCommands } from './commands-sharing.js';
import { rotationCommands } from './commands-rotation.js';
import { watchCommands } from './commands-watch.js';

export { UsageError } from './usage-error.js';
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
function failedOn(error: unknown, what: string): Result<never> {
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

const SENDER_LABEL: Record<string, string> = {
  self: 'you',
  verified: 'verified',
  unverified: 'not verified',
  'key-changed': 'KEY CHANGED',
  unknown: 'UNKNOWN SENDER',
  rejected: 'REJECTED',
};

const contacts: Command = {
  synopsis: 'contacts [add NAME | verify NAME FINGERPRINT | ack NAME]',
  summary: 'list contacts; look one up in the directory; mark a safety number compared; acknowledge a key change',
  async run(ctx) {
    const { positionals } = parse(ctx, {}, 3);
    const [sub, name, fp] = positionals;
    const show = (c: { username: string; userId: string; fingerprint: string; safetyNumber: string; verified: boolean; keyChanged: boolean; keyChangedAt?: number | null | undefined }) =>
      `${c.username}\t${c.userId}\t${c.keyChanged ? 'KEY CHANGED' : c.verified ? 'verified' : 'not verified'}\n  fingerprint   ${c.fingerprint}\n  safety number ${c.safetyNumber}` +
      (!c.keyChanged && c.keyChangedAt ? `\n  rotated key   ${new Date(c.keyChangedAt).toISOString()} (signed by their identity key)` : '');
    if (sub === undefined) {
      const result = await ctx.call('contacts:list', {});
      if (result.code === 0 && !ctx.json) for (const c of result.value) ctx.out(show(c));
      return result;
    }
    if (sub === 'add' && name && !fp) {
      const result = await ctx.call('contacts:lookup', { username: name });
      if (result.code === 0 && !ctx.json) {
        ctx.out(show(result.value));
        if (result.value.keyChanged) process.stderr.write(`WARNING: ${name}'s key changed (was ${result.value.previousFingerprint}). Compare the safety number before trusting it.\n`);
      }
      return result;
    }
    if (sub === 'verify' && name && fp) {
      const result = await ctx.call('contacts:verify', { userId: name, fingerprint: fp });
      if (result.code === 0 && !ctx.json) ctx.out(`${result.value.username} verified.`);
      return result;
    }
    if (sub === 'ack' && name && !fp) return ctx.call('contacts:acknowledgeKeyChange', { userId: name });
    throw new UsageError('contacts takes no argument, "add NAME", "verify NAME FINGERPRINT" or "ack NAME"');
  },
};

const send: Command = {
  synopsis: 'send --to USER [--to USER...] [--subject S] [--text T] [--file F...]',
  summary: 'seal a message (and files) into the outbox and send it at once; queued when the key service is not reachable',
  async run(ctx) {
    const { values } = parse(ctx, { to: { type: 'string', multiple: true }, subject: { type: 'string' }, text: { type: 'string' }, file: { type: 'string', multiple: true } }, 0);
    if (!values.to?.length) throw new UsageError('send needs at least one --to USER');
    const unlocked = await unlock(ctx);
    if (unlocked.code !== 0) return unlocked;
    let lastPct = -1;
    const onProgress = (n: number, total: number) => {
      const pct = total ? Math.floor((n / total) * 100) : 100;
      if (!ctx.json && pct !== lastPct && pct % 10 === 0) process.stderr.write(`Sealing attachments: ${pct}%\n`);
      lastPct = pct;
    };
    const result = await ctx.service.messaging
      .send({
        to: values.to,
        text: values.text ?? '',
        ...(values.subject !== undefined && { subject: values.subject }),
        files: (values.file ?? []).map((f) => ({ path: f })),
        onProgress,
      })
      .then(ok, (e: unknown) => ((e as NodeJS.ErrnoException)?.code ? fsFailure(e, 'a --file') : failureOf(isSyncError(e) ? syncFailure(e) : e)));
    if (result.code !== 0) return result;
    // Sent at once when the key service answers; otherwise it waits in the outbox.
    const flushed = await ctx.service.messaging.sync.flush().then(
      (r) => (r.failed > 0 ? `${r.failed} could not be sent: see "sealpost inbox"` : null),
      (e: unknown) => (e instanceof Error ? e.message : 'the key service could not be reached'),
    );
    const sent = flushed === null;
    const ids = result.value.messageIds.join(', ');
    if (!ctx.json) ctx.out(sent ? `Sent ${result.value.messageIds.length} message(s): ${ids}.` : `Queued ${result.value.messageIds.length} message(s): ${ids}${flushed ? ` (${flushed})` : ''}. "sealpost sync" or a running app sends them.`);
    return ok({ ...result.value, sent });
  },
};

const sync: Command = {
  synopsis: 'sync [--progress]',
  summary: 'send the outbox, pull and open the inbox (--progress: JSON lines on stderr)',
  async run(ctx) {
    const { values } = parse(ctx, { progress: { type: 'boolean' } }, 0);
    const unlocked = await unlock(ctx);
    if (unlocked.code !== 0) return unlocked;
    const off = values.progress ? ctx.service.messaging.sync.onProgress((p) => process.stderr.write(`${JSON.stringify(p)}\n`)) : () => undefined;
    try {
      const result = await ctx.call('sync:now', {});
      if (result.code === 0 && !ctx.json) {
        const r = result.value;
        ctx.out(`Sent ${r.sent}, failed ${r.failed}; pulled ${r.pulled}, received ${r.received}, rejected ${r.rejected}.`);
      }
      return result;
    } finally {
      off();
    }
  },
};

const inbox: Command = {
  synopsis: 'inbox [--unread] [--search TEXT] [--limit N] [--json]',
  summary: 'messages, newest first, with their state and how the sender checked out',
  async run(ctx) {
    const { values } = parse(ctx, { unread: { type: 'boolean' }, search: { type: 'string' }, limit: { type: 'string' } }, 0);
    const limit = values.limit === undefined ? 100 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be 1..1000');
    const unlocked = await unlock(ctx);
    if (unlocked.code !== 0) return unlocked;
    const result = await ctx.call('messages:list', { limit, ...(values.unread && { unreadOnly: true }), ...(values.search && { query: values.search }) });
    if (result.code === 0 && !ctx.json) {
      for (const m of result.value) {
        const when = new Date(m.sentAt ?? m.createdAt).toISOString().slice(0, 16).replace('T', ' ');
        const who = m.direction === 'out' ? `to ${m.peerName ?? m.peer}` : `from ${m.peerName ?? m.peer}`;
        const state = m.direction === 'out' ? m.state + (m.reason && m.state !== 'sent' ? ` (${m.reason})` : '') : `${SENDER_LABEL[m.sender] ?? m.sender}${m.reason ? ` (${m.reason})` : ''}`;
        const line = m.text === null ? '[not shown]' : (m.subject ? `${m.subject}: ` : '') + m.text.replace(/\s+/g, ' ').slice(0, 60);
        ctx.out(`${m.read ? ' ' : '*'} ${m.id}\t${when}\t${who}\t${state}\t${line}${m.attachments.length ? ` [${m.attachments.length} file(s)]` : ''}`);
      }
    }
    return result;
  },
};

const read: Command = {
  synopsis: 'read ID [--save-attachments DIR]',
  summary: 'show one message (marks it read); save its attachments, opened and checked, into DIR',
  async run(ctx) {
    const { values, positionals } = parse(ctx, { 'save-attachments': { type: 'string' } }, 1);
    const id = Number(positionals[0]);
    if (!Number.isInteger(id) || id < 1) throw new UsageError('read needs a message ID');
    const unlocked = await unlock(ctx);
    if (unlocked.code !== 0) return unlocked;
    const result = await ctx.call('messages:read', { id });
    if (result.code !== 0) return result;
    const m = result.value;
    if (!ctx.json) {
      ctx.out(`${m.direction === 'out' ? 'To' : 'From'}: ${m.peerName ?? m.peer} (${SENDER_LABEL[m.sender] ?? m.sender}${m.reason ? `: ${m.reason}` : ''})`);
      if (m.sentAt) ctx.out(`Sent: ${new Date(m.sentAt).toISOString()}`);
      if (m.subject) ctx.out(`Subject: ${m.subject}`);
      for (const a of m.attachments) ctx.out(`Attachment: ${a.name} (${a.size} bytes, ${a.state})`);
      ctx.out('');
      ctx.out(m.text ?? '[This message was rejected and is not shown.]');
    }
    if (values['save-attachments'] === undefined) return result;
    let lastPct = -1;
    const saved = await ctx.service.messaging
      .saveAttachments(id, values['save-attachments'], (n, total) => {
        const pct = total ? Math.floor((n / total) * 100) : 100;
        if (!ctx.json && pct !== lastPct && pct % 10 === 0) process.stderr.write(`Opening attachments: ${pct}%\n`);
        lastPct = pct;
      })
      .then(ok, (e: unknown) => ((e as NodeJS.ErrnoException)?.code ? fsFailure(e, values['save-attachments']!) : failureOf(e)));
    if (saved.code !== 0) return saved;
    if (!ctx.json) for (const f of saved.value.saved) process.stderr.write(`Saved ${f.path} (${f.bytes} bytes, SHA-256 ${f.sha256}).\n`);
    return ok({ ...m, saved: saved.value.saved });
  },
};

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
  contacts,
  send,
  sync,
  inbox,
  read,
  ...recoveryCommands,
  ...linkingCommands,
  ...sharingCommands,
  ...deviceCommands,
  ...rotationCommands,
  ...totpCommands,
  ...watchCommands,
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

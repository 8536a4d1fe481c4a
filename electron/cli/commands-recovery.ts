/**
 * Recovery from the command line (docs/recovery.md): the 24 words after the PIN
 * with their confirm step or "later", the three-share backup, and restoring on a
 * new profile with the words or with the shares + PIN. Same contract channels as
 * the app; the words are printed on stdout once and never written anywhere else.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Result } from '../../shared/codes.js';
import type { Output } from '../../shared/contract.js';
import { ok } from '../engine/service/results.js';
import type { CliContext } from './context.js';
import { newerKeyWarning } from './newer-key-warning.js';
import { readPin } from './prompt.js';
import { UsageError } from './usage-error.js';

interface RecoveryCommand {
  synopsis: string;
  summary: string;
  run(ctx: CliContext): Promise<Result<unknown>>;
}

function parse<T extends NonNullable<ParseArgsConfig['options']>>(ctx: CliContext, options: T) {
  let parsed;
  try {
    parsed = parseArgs({ args: ctx.args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`);
  return parsed;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('--words - reads the words from standard input: pipe them in');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > 4096) throw new UsageError('the words on standard input are too long');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `--confirm` answers: either all 24 words in order, or `POSITION:WORD` pairs
 * for the positions the words screen asked for (e.g. "3:apple 11:zoo 20:cat").
 */
export function parseAnswers(text: string): Array<{ position: number; word: string }> {
  const tokens = text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (tokens.length > 0 && tokens.every((t) => /^\d{1,2}:[a-z]+$/.test(t))) {
    const answers = tokens.map((t) => {
      const [p, word] = t.split(':') as [string, string];
      return { position: Number(p), word };
    });
    if (answers.some((a) => a.position < 1 || a.position > 24)) throw new UsageError('word positions go from 1 to 24');
    if (answers.length < 3) throw new UsageError('--confirm needs at least the three asked words');
    return answers;
  }
  if (tokens.length === 24 && tokens.every((t) => /^[a-z]+$/.test(t))) return tokens.map((word, i) => ({ position: i + 1, word }));
  throw new UsageError('--confirm takes all 24 words in order, or the asked ones as POSITION:WORD (e.g. "3:apple 11:zoo 20:cat")');
}

/** The hint after a refusal for the account's second factor (the key service's own message comes first). */
function totpHint(ctx: CliContext, r: Result<unknown>): void {
  if (r.code !== 0 && !ctx.json && r.details?.server === 'totp_required') {
    process.stderr.write('This account has two-step verification on: add --totp CODE from your authenticator app (or a recovery code).\n');
  }
}

function statusLines(s: Output<'recovery:status'>): string {
  return [
    `Recovery words: ${s.wordsConfirmed ? 'confirmed' : s.postponedAt !== null ? `not confirmed (postponed ${new Date(s.postponedAt).toISOString()})` : 'not confirmed'}`,
    `Share backup:   ${s.backedUpAt !== null ? `stored ${new Date(s.backedUpAt).toISOString()}${s.escrow ? ` (escrow ${s.escrow.url}, app ${s.escrow.appId})` : ''}` : 'none (run sealpost backup)'}`,
    ...(s.nag ? ['Reminder: until both are done, a lost device means a lost identity.'] : []),
  ].join('\n');
}

const recoveryWords: RecoveryCommand = {
  synopsis: 'recovery-words [--confirm "WORDS" | --postpone | --status]',
  summary: 'after the PIN, print the 24 recovery words once; confirm them, postpone (reminded), or show the recovery state',
  async run(ctx) {
    const { values } = parse(ctx, { confirm: { type: 'string' }, postpone: { type: 'boolean' }, status: { type: 'boolean' } });
    const chosen = [values.confirm !== undefined, values.postpone === true, values.status === true].filter(Boolean).length;
    if (chosen > 1) throw new UsageError('give only one of --confirm, --postpone, --status');
    if (values.status) {
      const r = await ctx.call('recovery:status', {});
      if (r.code === 0 && !ctx.json) ctx.out(statusLines(r.value));
      return r;
    }
    if (values.postpone) {
      const r = await ctx.call('recovery:postpone', {});
      if (r.code === 0 && !ctx.json) ctx.out('Postponed. "sealpost recovery-words" shows them again; you will be reminded until they are confirmed.');
      return r;
    }
    if (values.confirm !== undefined) {
      const answers = parseAnswers(values.confirm);
      const unlocked = await ctx.call('session:authenticate', { pin: await readPin() });
      if (unlocked.code !== 0) return unlocked;
      const r = await ctx.call('recovery:confirm', { answers });
      if (r.code === 0 && !ctx.json) ctx.out(`Recovery words confirmed.\n${statusLines(r.value)}`);
      return r;
    }
    const r = await ctx.call('recovery:words', { pin: await readPin() });
    if (r.code !== 0 || ctx.json) return r;
    const { words, ask } = r.value;
    const rows: string[] = [];
    for (let i = 0; i < 24; i += 4) rows.push(words.slice(i, i + 4).map((w, j) => `${String(i + j + 1).padStart(2)}. ${w.padEnd(9)}`).join(' ').trimEnd());
    ctx.out(rows.join('\n'));
    process.stderr.write(
      'Write these 24 words down and keep them offline: with them anyone can restore your identity.\n' +
        `Then confirm words ${ask.join(', ')}: sealpost recovery-words --confirm "${ask.map((p) => `${p}:WORD`).join(' ')}"\n` +
        '(or all 24 words in order), or postpone with: sealpost recovery-words --postpone\n',
    );
    return ok({ shown: true, ask });
  },
};

const backup: RecoveryCommand = {
  synopsis: 'backup [--escrow-url URL --escrow-app-id ID --escrow-client-key KEY] [--totp CODE]',
  summary: 'store the three-share recovery backup on the key service and the escrow service (the escrow is remembered); --totp when two-step verification is on',
  async run(ctx) {
    const { values } = parse(ctx, { 'escrow-url': { type: 'string' }, 'escrow-app-id': { type: 'string' }, 'escrow-client-key': { type: 'string' }, totp: { type: 'string' } });
    const given = [values['escrow-url'], values['escrow-app-id'], values['escrow-client-key']].filter((v) => v !== undefined).length;
    if (given !== 0 && given !== 3) throw new UsageError('name the escrow service with all of --escrow-url, --escrow-app-id and --escrow-client-key');
    const r = await ctx.call('recovery:backup', {
      pin: await readPin(),
      ...(given === 3 && { escrow: { url: values['escrow-url']!, appId: values['escrow-app-id']!, clientKey: values['escrow-client-key']! } }),
      ...(values.totp !== undefined && { totp: values.totp }),
    });
    if (r.code === 0 && !ctx.json) ctx.out(`Recovery shares stored.\n${statusLines(r.value)}`);
    totpHint(ctx, r);
    return r;
  },
};

const restore: RecoveryCommand = {
  synopsis: 'restore --server URL --app-id ID --client-key KEY --username NAME --words W|--shares [--totp CODE]',
  summary:
    'restore the identity into this new profile: --words "..." (or - for stdin) with a new PIN, or --shares --escrow-client-key KEY [--escrow-url URL] with your PIN; --totp CODE (or a recovery code) when two-step verification is on; [--server-key KEY] registers (docs/recovery.md)',
  async run(ctx) {
    const { values } = parse(ctx, {
      server: { type: 'string' },
      'app-id': { type: 'string' },
      'client-key': { type: 'string' },
      username: { type: 'string' },
      words: { type: 'string' },
      shares: { type: 'boolean' },
      'escrow-url': { type: 'string' },
      'escrow-client-key': { type: 'string' },
      'server-key': { type: 'string' },
      totp: { type: 'string' },
    });
    if (!values.server || !values['app-id'] || !values['client-key'] || !values.username) {
      throw new UsageError('restore needs --server, --app-id, --client-key and --username');
    }
    if ((values.words !== undefined) === (values.shares === true)) throw new UsageError('restore needs one of --words "WORDS" (or --words - for standard input) and --shares');
    if (values.words !== undefined && (values['escrow-url'] !== undefined || values['escrow-client-key'] !== undefined)) {
      throw new UsageError('--escrow-url and --escrow-client-key go with --shares');
    }
    if (values.shares && values['escrow-client-key'] === undefined) throw new UsageError('--shares needs --escrow-client-key (the escrow service\'s client key)');
    const serverKey = values['server-key'] ?? process.env.SEALPOST_SERVER_KEY;
    const words = values.words === '-' ? await readStdin() : values.words;
    const pin = await readPin(values.shares ? 'Your PIN: ' : 'Choose a PIN for this device: ');
    const r = await ctx.call('recovery:restore', {
      server: values.server,
      appId: values['app-id'],
      clientKey: values['client-key'],
      username: values.username,
      pin,
      ...(words !== undefined && { words: words.trim().replace(/\s+/g, ' ') }),
      ...(values['escrow-client-key'] !== undefined && { escrowClientKey: values['escrow-client-key'] }),
      ...(values['escrow-url'] !== undefined && { escrowUrl: values['escrow-url'] }),
      ...(values.totp !== undefined && { totp: values.totp }),
    });
    totpHint(ctx, r);
    if (r.code !== 0) return r;
    if (!ctx.json) ctx.out(`Identity restored with the ${r.value.method === 'words' ? 'recovery words' : 'three shares'}.\n  DID:         ${r.value.did}\n  Fingerprint: ${r.value.fingerprint}`);
    if (serverKey === undefined) {
      if (!ctx.json) process.stderr.write('Register this device to sync: sealpost register --enroll LINK (an enrollment code from your admin), or --server URL --app-id ID --server-key KEY --username NAME\n');
      return ok({ ...r.value, registered: false });
    }
    const reg = await ctx.call('device:register', { server: values.server, appId: values['app-id'], serverKey, clientKey: values['client-key'], username: values.username });
    if (reg.code !== 0) {
      return { code: reg.code, message: `The identity was restored, but registering failed: ${reg.message} Run sealpost register.` };
    }
    if (!ctx.json) {
      ctx.out(`Registered as ${reg.value.username} with ${reg.value.server}.`);
      const warning = newerKeyWarning(reg.value.newerKey);
      if (warning) process.stderr.write(warning);
    }
    if (r.value.method === 'words' && !ctx.json) process.stderr.write('A new PIN was set: run sealpost backup so the shares match it.\n');
    return ok({ ...r.value, registered: true });
  },
};

export const recoveryCommands: Record<string, RecoveryCommand> = { 'recovery-words': recoveryWords, backup, restore };

/**
 * Device linking from the command line (docs/recovery.md "Link a new device"):
 *
 *   new device       sealpost link --server URL --app-id ID --client-key KEY --username NAME [--server-key KEY]
 *                    prints the 8-digit code, waits, prints the verification code, finishes
 *                    (PIN for this new profile from SEALPOST_PIN or a prompt, as `restore`)
 *   existing device  sealpost link CODE [--confirm CODE]
 *                    prints the verification code and asks to confirm; --confirm sends only
 *                    if it equals the code this device computed
 *
 * Same contract channels as the app. Progress lines go to stdout for people and
 * to stderr with --json (stdout then holds only the final result).
 */
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ResultCode, type Result } from '../../shared/codes.js';
import { ok } from '../engine/service/results.js';
import type { CliContext } from './context.js';
import { readPin } from './prompt.js';
import { UsageError } from './usage-error.js';

interface LinkCommand {
  synopsis: string;
  summary: string;
  run(ctx: CliContext): Promise<Result<unknown>>;
}

const POLL_MS = 1000;

function say(ctx: CliContext, text: string): void {
  if (ctx.json) process.stderr.write(`${text}\n`);
  else ctx.out(text);
}

/** One line from the terminal, or from a pipe (a script that compares the codes itself); '' when input ends. */
async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY === true });
  try {
    return await new Promise<string>((resolve) => {
      rl.once('close', () => resolve(''));
      rl.question(question, resolve);
    });
  } finally {
    rl.close();
  }
}

/** New device: request, show the code, poll until the identity arrived. */
async function linkNew(ctx: CliContext, values: Record<string, string | boolean | undefined>): Promise<Result<unknown>> {
  const str = (k: string) => values[k] as string | undefined;
  const server = str('server');
  const appId = str('app-id');
  const clientKey = str('client-key');
  const username = str('username');
  if (!server || !appId || !clientKey || !username) throw new UsageError('link needs --server, --app-id, --client-key and --username on the new device (or the CODE on the existing one)');
  const serverKey = str('server-key') ?? process.env.SEALPOST_SERVER_KEY;
  const pin = await readPin('Choose a PIN for this device: ');
  let r = await ctx.call('link:request', { server, appId, clientKey, username, pin, ...(serverKey !== undefined && { serverKey }) });
  if (r.code !== 0) return r;
  say(ctx, `Link code: ${r.value.code}`);
  if (!ctx.json) process.stderr.write(`On your other device (unlocked): sealpost link ${r.value.code}, or Settings > Link a device. Valid for 10 minutes.\n`);
  let shown = false;
  for (;;) {
    await sleep(POLL_MS);
    r = await ctx.call('link:progress', {});
    if (r.code !== 0) return r;
    if (r.value.verificationCode && !shown) {
      shown = true;
      say(ctx, `Verification code: ${r.value.verificationCode}`);
      if (!ctx.json) process.stderr.write('Check that the other device shows the same code, and confirm there.\n');
    }
    if (r.value.state === 'linked') break;
  }
  const v = r.value;
  if (!ctx.json) {
    ctx.out(`Linked.\n  DID:         ${v.did}\n  Fingerprint: ${v.fingerprint}`);
    if (v.registered) ctx.out(`Registered as a new device of ${username} and synced.`);
    else if (serverKey === undefined) process.stderr.write('Register this device to sync: sealpost register --server URL --app-id ID --server-key KEY --username NAME\n');
  }
  if (v.warning) process.stderr.write(`${v.warning}\n`);
  return ok({ did: v.did, fingerprint: v.fingerprint, registered: v.registered === true, ...(v.warning && { warning: v.warning }) });
}

/** Existing device: claim, show the verification code, confirm. */
async function linkExisting(ctx: CliContext, code: string, confirm: string | undefined, totp: string | undefined): Promise<Result<unknown>> {
  const unlocked = await ctx.call('session:authenticate', { pin: await readPin() });
  if (unlocked.code !== 0) return unlocked;
  if (!ctx.json) process.stderr.write('Waiting for the new device...\n');
  const claimed = await ctx.call('link:claim', { code, ...(totp !== undefined && { totp }) });
  if (claimed.code !== 0) return claimed;
  say(ctx, `Verification code: ${claimed.value.verificationCode}`);
  let typed = confirm;
  if (typed === undefined) {
    typed = (await ask('Does the new device show the same code? Type it to confirm (Enter cancels): ')).trim();
    if (typed === '') {
      await ctx.call('link:cancel', {});
      return { code: ResultCode.Failed, message: 'Cancelled: nothing was sent.' };
    }
  }
  const r = await ctx.call('link:confirm', { verificationCode: typed });
  if (r.code === 0 && !ctx.json) ctx.out('Sent. The new device finishes the set-up by itself.');
  return r.code === 0 ? ok({ linked: true, verificationCode: claimed.value.verificationCode }) : r;
}

const link: LinkCommand = {
  synopsis: 'link CODE [--confirm CODE] [--totp CODE] | link --server URL --app-id ID --client-key KEY --username NAME',
  summary:
    'link a new device without the words: on the new profile with the flags (prints a code, then a verification code); on an unlocked registered device with the CODE (compare, then confirm) (docs/recovery.md)',
  async run(ctx) {
    let parsed;
    try {
      parsed = parseArgs({
        args: ctx.args,
        allowPositionals: true,
        strict: true,
        options: {
          server: { type: 'string' },
          'app-id': { type: 'string' },
          'client-key': { type: 'string' },
          username: { type: 'string' },
          'server-key': { type: 'string' },
          confirm: { type: 'string' },
          totp: { type: 'string' },
        },
      });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const { values, positionals } = parsed;
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    const code = positionals[0];
    if (code === undefined) {
      if (values.confirm !== undefined) throw new UsageError('--confirm goes with the CODE, on the existing device');
      return linkNew(ctx, values);
    }
    const newSide = ['server', 'app-id', 'client-key', 'username', 'server-key'].filter((k) => (values as Record<string, unknown>)[k] !== undefined);
    if (newSide.length > 0) throw new UsageError(`--${newSide[0]} goes on the new device, without a CODE`);
    if (!/^\d{4}[- ]?\d{4}$/.test(code.trim())) throw new UsageError('the CODE has 8 digits, as the new device shows it (1234-5678)');
    if (values.confirm !== undefined && !/^\d{3} ?\d{3}$/.test(values.confirm.trim())) throw new UsageError('--confirm takes the 6-digit verification code');
    return linkExisting(ctx, code, values.confirm, values.totp);
  },
};

export const linkingCommands: Record<string, LinkCommand> = { link };

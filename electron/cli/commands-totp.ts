/**
 * `sealpost totp enable|confirm CODE|disable CODE|status`: the two-step
 * verification (TOTP) of this user's account on the key service. Same contract
 * channels as the app's Settings screen.
 */
import type { CliContext } from './context.js';
import { type Command, parse, unlock } from './command-kit.js';
import { UsageError } from './usage-error.js';

const totp: Command = {
  synopsis: 'totp [status | enable | confirm CODE | disable CODE]',
  summary: 'two-step verification for your account: enable shows a secret and an otpauth:// URI once; confirm with the first code',
  async run(ctx: CliContext) {
    const { positionals } = parse(ctx, {}, 2);
    const [sub = 'status', code] = positionals;
    if ((sub === 'confirm' || sub === 'disable') !== (code !== undefined)) throw new UsageError('totp takes status, enable, confirm CODE or disable CODE');
    const unlocked = await unlock(ctx);
    if (unlocked.code !== 0) return unlocked;
    switch (sub) {
      case 'status': {
        const r = await ctx.call('totp:status', {});
        if (r.code === 0 && !ctx.json) {
          const s = r.value;
          ctx.out(
            s.enabled
              ? `Two-step verification is on (since ${s.confirmedAt}); ${s.recoveryCodesLeft} recovery codes left.`
              : s.pending
                ? 'Two-step verification is being set up: run "sealpost totp confirm CODE" with a code from your authenticator app.'
                : `Two-step verification is off.${s.required ? ' Your organization requires it: run "sealpost totp enable".' : ''}`,
          );
        }
        return r;
      }
      case 'enable': {
        const r = await ctx.call('totp:enable', {});
        if (r.code === 0 && !ctx.json) {
          ctx.out(`Add this account to your authenticator app (shown only now):\n  secret  ${r.value.secret}\n  URI     ${r.value.uri}`);
          process.stderr.write('Then turn it on with the first code: sealpost totp confirm CODE\n');
        }
        return r;
      }
      case 'confirm': {
        const r = await ctx.call('totp:confirm', { code: code! });
        if (r.code === 0 && !ctx.json) {
          ctx.out(`Two-step verification is on. Recovery codes (each works once; keep them somewhere safe, shown only now):\n${r.value.recoveryCodes.map((c) => `  ${c}`).join('\n')}`);
        }
        return r;
      }
      case 'disable': {
        const r = await ctx.call('totp:disable', { code: code! });
        if (r.code === 0 && !ctx.json) ctx.out('Two-step verification is off.');
        return r;
      }
      default:
        throw new UsageError('totp takes status, enable, confirm CODE or disable CODE');
    }
  },
};

export const totpCommands: Record<string, Command> = { totp };

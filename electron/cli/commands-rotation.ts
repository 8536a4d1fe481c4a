/**
 * `sealpost rotate-key`: a new encryption key (same size), the old one kept so
 * old messages still open, the change signed by the identity key and published
 * to the key service (docs/security.md "Key rotation"). PIN from SEALPOST_PIN or
 * a hidden prompt, as for the other PIN commands.
 */
import type { Result } from '../../shared/codes.js';
import type { CliContext } from './context.js';
import { readPin } from './prompt.js';
import { UsageError } from './usage-error.js';

interface RotationCommand {
  synopsis: string;
  summary: string;
  run(ctx: CliContext): Promise<Result<unknown>>;
}

const rotateKey: RotationCommand = {
  synopsis: 'rotate-key',
  summary: 'new encryption key, signed by your identity; old messages stay readable',
  async run(ctx) {
    if (ctx.args.length > 0) throw new UsageError(`rotate-key takes no arguments (got "${ctx.args[0]}")`);
    const pin = await readPin();
    const r = await ctx.call('keys:rotate', { pin });
    if (r.code !== 0 || ctx.json) return r;
    const v = r.value;
    ctx.out(
      [
        `Encryption key rotated (${v.previousKeys} older key${v.previousKeys === 1 ? '' : 's'} kept for old messages).`,
        `  Old fingerprint: ${v.previousFingerprint}`,
        `  New fingerprint: ${v.fingerprint}`,
        `  Safety number:   ${v.safetyNumber}`,
      ].join('\n'),
    );
    if (!v.published) process.stderr.write('The key service could not be reached: the change is kept and published by the next sealpost sync (or rotate-key) that reaches it.\n');
    return r;
  },
};

export const rotationCommands: Record<string, RotationCommand> = { 'rotate-key': rotateKey };

/**
 * The user's devices from the command line (docs/recovery.md "Devices"): the key
 * service's list, and revoking another device. Same contract channels as the app.
 */
import type { Output } from '../../shared/contract.js';
import { type Command, parse } from './command-kit.js';
import { UsageError } from './usage-error.js';

function table(v: Output<'devices:list'>): string {
  const rows = v.devices.map((d) =>
    [
      d.deviceId,
      d.current ? 'this device' : d.revokedAt !== null ? `revoked ${d.revokedAt}` : 'active',
      `added ${d.createdAt}`,
      d.deviceDid ? 'delegated' : 'no delegation',
    ].join('  '),
  );
  return [...rows, `This device authenticates with ${v.agentTokens ? 'agent tokens signed by its device key' : 'a device JWT'}.`].join('\n');
}

const devices: Command = {
  synopsis: 'devices [revoke DEVICE_ID [--totp CODE]]',
  summary: "list this user's devices on the key service; revoke another one (its requests are refused from then on)",
  async run(ctx) {
    const { values, positionals } = parse(ctx, { totp: { type: 'string' } }, 2);
    const [sub, id] = positionals;
    if (sub === undefined) {
      const r = await ctx.call('devices:list', {});
      if (r.code === 0 && !ctx.json) ctx.out(table(r.value));
      return r;
    }
    if (sub === 'revoke' && id !== undefined) {
      const r = await ctx.call('devices:revoke', { deviceId: id, ...(values.totp !== undefined && { totp: values.totp }) });
      if (r.code === 0 && !ctx.json) ctx.out(`Device ${r.value.deviceId} revoked at ${r.value.revokedAt}.`);
      return r;
    }
    throw new UsageError('devices takes no argument, or "revoke DEVICE_ID"');
  },
};

export const deviceCommands: Record<string, Command> = { devices };

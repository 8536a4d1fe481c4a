/**
 * `sealpost policy [--json]`: the effective managed policy (docs/deploy.md), per
 * setting its value and where it came from (file path, registry key, plist, or the
 * default). Exits 1 when the policy is invalid, printing the place and the problem.
 */
import { ResultCode } from '../../shared/codes.js';
import type { PolicyValue } from '../../shared/policy.js';
import type { CliContext } from './context.js';
import { type Command, parse } from './command-kit.js';

const show = (value: unknown): string => (value === null ? '-' : typeof value === 'object' ? JSON.stringify(value) : String(value));

function print(ctx: CliContext, p: PolicyValue): void {
  const head = { none: 'no managed policy on this machine', managed: `managed by your organization (${p.sources.join(', ')})`, invalid: 'INVALID' }[p.state];
  ctx.out(`Policy: ${head}`);
  if (p.error) ctx.out(`  ${p.error}`);
  const width = Math.max(...Object.keys(p.settings).map((k) => k.length));
  for (const [key, s] of Object.entries(p.settings)) {
    ctx.out(`  ${key.padEnd(width)}  ${show(s.value).padEnd(32)}  ${s.source === 'policy' ? `locked, from ${s.where ?? '?'}` : 'default'}`);
  }
  const r = p.recoveryBackup;
  if (r) {
    const due = r.dueAt === null ? 'from when the identity is made' : `by ${new Date(r.dueAt).toISOString().slice(0, 10)}`;
    ctx.out(`Recovery backup required within ${r.requiredWithinDays} days (${due}): ${r.done ? 'done' : r.overdue ? 'OVERDUE: run sealpost backup' : 'not done yet'}`);
  }
}

const policy: Command = {
  synopsis: 'policy',
  summary: 'the organisation\'s managed policy: each setting, and where it came from',
  async run(ctx) {
    parse(ctx, {}, 0);
    const result = await ctx.call('policy:get', {});
    if (result.code !== 0) return result;
    if (!ctx.json) print(ctx, result.value);
    if (result.value.state === 'invalid') {
      return { code: ResultCode.PolicyInvalid, message: result.value.error ?? 'the policy is invalid', details: { policy: result.value } };
    }
    return result;
  },
};

export const policyCommands: Record<string, Command> = { policy };

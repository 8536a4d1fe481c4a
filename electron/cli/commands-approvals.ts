/**
 * Connected apps from the command line (docs/connected-apps.md): the requests
 * other applications make for your personal key or a sign-in, your decision,
 * and the applications that received something. Same contract channels as the
 * app's approval card.
 *   sealpost approvals [--json]          pending requests
 *   sealpost approvals claim CODE        a sign-in that named nobody: the code the application shows
 *   sealpost approve ID                  (asks for the PIN when one is set)
 *   sealpost deny ID
 *   sealpost apps [--json]               applications that received a key or a sign-in
 *   sealpost apps block APP_ID           stop future approvals (delivered keys cannot be taken back)
 */
import type { Output } from '../../shared/contract.js';
import type { ApprovalValue } from '../../shared/contract-approvals.js';
import type { CliContext } from './context.js';
import { type Command, parse } from './command-kit.js';
import { readPin } from './prompt.js';
import { UsageError } from './usage-error.js';

const WHAT: Record<ApprovalValue['kind'], string> = { key: 'your personal key', 'sign-in': 'a sign-in', 'sign-in+key': 'a sign-in with your personal key' };

export function describeApproval(a: ApprovalValue): string {
  return [
    `${a.id}  ${a.app.name} (${a.app.id}) asks for ${WHAT[a.kind]}${a.blocked ? '  [blocked: deny only]' : ''}`,
    ...(a.reason ? [`  reason     ${a.reason}`] : []),
    ...(a.returnTo ? [`  returns to ${a.returnTo}`] : []),
    ...(a.app.transitKeyFingerprint ? [`  sealed to  ${a.app.transitKeyFingerprint}`] : []),
    `  from ${a.ip} at ${a.createdAt}; expires ${a.expiresAt}`,
  ].join('\n');
}

function appsTable(v: Output<'apps:list'>): string {
  if (v.apps.length === 0) return 'No application has received a key or a sign-in from this profile.';
  const rows = v.apps.map(
    (a) =>
      `${a.id}  ${a.name}  keys ${a.keys}${a.lastKeyAt ? ` (last ${a.lastKeyAt})` : ''}  sign-ins ${a.signIns}${a.lastSignInAt ? ` (last ${a.lastSignInAt})` : ''}${a.blockedAt ? `  blocked ${a.blockedAt}` : ''}`,
  );
  return [...rows, v.note].join('\n');
}

const approvals: Command = {
  synopsis: 'approvals [claim CODE]',
  summary: "connected apps' pending requests for your personal key or a sign-in; claim a sign-in by the code its page shows",
  async run(ctx: CliContext) {
    const { positionals } = parse(ctx, {}, 2);
    const [sub, code] = positionals;
    if (sub === undefined) {
      const r = await ctx.call('approvals:list', {});
      if (r.code === 0 && !ctx.json) ctx.out(r.value.requests.length === 0 ? 'No pending requests.' : r.value.requests.map(describeApproval).join('\n'));
      return r;
    }
    if (sub === 'claim' && code !== undefined) {
      const r = await ctx.call('approvals:claim', { code });
      if (r.code === 0 && !ctx.json) ctx.out(`${describeApproval(r.value)}\nApprove with: sealpost approve ${r.value.id}`);
      return r;
    }
    throw new UsageError('approvals takes no argument, or "claim CODE"');
  },
};

const approve: Command = {
  synopsis: 'approve ID',
  summary: "approve a connected app's request: its personal key is sealed to the app and the sign-in signed (asks for the PIN)",
  async run(ctx: CliContext) {
    const { positionals } = parse(ctx, {}, 1);
    const [id] = positionals;
    if (id === undefined) throw new UsageError('approve takes the request id (see sealpost approvals)');
    const status = await ctx.call('engine:status', {});
    if (status.code !== 0) return status;
    const pin = status.value.pinDisabled ? undefined : await readPin();
    const r = await ctx.call('approvals:approve', { id, ...(pin !== undefined && { pin }) });
    if (r.code === 0 && !ctx.json) ctx.out(`Approved: ${[r.value.signIn && 'sign-in signed', r.value.key && 'personal key sealed to the application'].filter(Boolean).join(', ')}.`);
    return r;
  },
};

const deny: Command = {
  synopsis: 'deny ID',
  summary: "deny a connected app's request (it stays denied)",
  async run(ctx: CliContext) {
    const { positionals } = parse(ctx, {}, 1);
    const [id] = positionals;
    if (id === undefined) throw new UsageError('deny takes the request id (see sealpost approvals)');
    const r = await ctx.call('approvals:deny', { id });
    if (r.code === 0 && !ctx.json) ctx.out(`Denied ${r.value.id}.`);
    return r;
  },
};

const apps: Command = {
  synopsis: 'apps [block APP_ID]',
  summary: 'applications that received your personal key or a sign-in, and when; block stops future approvals',
  async run(ctx: CliContext) {
    const { positionals } = parse(ctx, {}, 2);
    const [sub, appId] = positionals;
    if (sub === undefined) {
      const r = await ctx.call('apps:list', {});
      if (r.code === 0 && !ctx.json) ctx.out(appsTable(r.value));
      return r;
    }
    if (sub === 'block' && appId !== undefined) {
      const r = await ctx.call('apps:block', { appId });
      if (r.code === 0 && !ctx.json) ctx.out(`Blocked ${r.value.appId}. ${r.value.note}`);
      return r;
    }
    throw new UsageError('apps takes no argument, or "block APP_ID"');
  },
};

export const approvalCommands: Record<string, Command> = { approvals, approve, deny, apps };

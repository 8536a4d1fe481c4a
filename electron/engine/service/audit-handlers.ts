/**
 * Reading the local audit log (vault/audit.ts) and verifying its hash chain; neither
 * adds an entry to the log.
 * @module
 */
import type { Handlers } from '../../../shared/contract.js';
import type { EngineCore } from './engine-core.js';

export function auditHandlers(core: EngineCore): Pick<Handlers, 'audit:list' | 'audit:verify'> {
  return {
    'audit:list': (input) =>
      core.plain(() =>
        core.audit.list({ ...(input.limit && { limit: input.limit }), ...(input.action && { action: input.action }), ...(input.result && { result: input.result }) }).map((e) => ({
          id: e.id,
          ts: new Date(e.ts).toISOString(),
          actor: e.actor,
          action: e.action,
          target: e.target,
          result: e.result,
          details: e.details,
          hash: e.hash,
        })),
      ),
    'audit:verify': () =>
      core.plain(async () => {
        const v = await core.audit.verify();
        return { ok: v.ok, entries: v.entries, ...(v.firstBadId !== undefined && { firstBadId: v.firstBadId }), ...(v.reason && { reason: v.reason }) };
      }),
  };
}

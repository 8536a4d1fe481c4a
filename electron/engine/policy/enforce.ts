/**
 * The engine enforces the managed policy itself, not only the UI: every channel goes
 * through {@link withPolicy}, so the UI, the browser bridge and the CLI are refused
 * alike, with PolicyForbidden and a message naming the policy key (rules.ts).
 * Where the policy presets a value the caller left out (the client key, the escrow,
 * the RSA size), it is filled in here.
 *
 * An invalid policy (load.ts) fails closed: every channel but engine:status and
 * policy:get answers PolicyInvalid with the place and the problem, before its handler
 * runs, so nothing in the profile is changed (not even an audit entry).
 * @module
 */
import { ResultCode, type Result } from '../../../shared/codes.js';
import type { Channel, Handlers } from '../../../shared/contract.js';
import type { LoadedPolicy } from './load.js';
import { checkAutoLock, checkEscrow, checkExport, checkKeyService, checkNewPin, checkPreviews, checkReceipts, checkRsaBits, rsaBitsFor, type Refusal } from './rules.js';

/** What still answers under an invalid policy: enough for the UI to say why. */
const OPEN_WHEN_INVALID: ReadonlySet<Channel> = new Set<Channel>(['engine:status', 'policy:get']);

type Input<C extends Channel> = Parameters<Handlers[C]>[0];
type Guards = { [C in Channel]?: (input: Input<C>) => { refusal: Refusal | null; input?: Input<C> } };

const forbidden = (r: Refusal): Result<never> => ({ code: ResultCode.PolicyForbidden, message: r.message, details: { policy: r.key } });

/** The policy-invalid result every refused channel answers. */
export function policyInvalid(policy: LoadedPolicy): Exclude<Result<never>, { code: 0 }> {
  return {
    code: ResultCode.PolicyInvalid,
    message: `Your organization's Sealpost policy cannot be used, so nothing can be changed until IT fixes it: ${policy.error ?? 'unknown problem'}`,
    details: { sources: policy.sources },
  };
}

/** The guards per channel; a guard may return the input with presets filled in. */
function guards(loaded: LoadedPolicy): Guards {
  const p = loaded.values;
  const first = (...rs: (Refusal | null)[]): Refusal | null => rs.find((r) => r !== null) ?? null;
  return {
    'identity:create': (input) => {
      const rsaBits = input.rsaBits ?? rsaBitsFor(p, 3072);
      return { refusal: first(checkNewPin(p, input.pin), checkRsaBits(p, rsaBits)), input: { ...input, rsaBits } };
    },
    'pin:change': (input) => ({ refusal: checkNewPin(p, input.newPin) }),
    'identity:import': (input) => ({ refusal: checkNewPin(p, input.pin) }),
    'session:setAutoLock': (input) => ({ refusal: checkAutoLock(p, input.ms) }),
    'identity:export': () => ({ refusal: checkExport(p) }),
    'notifications:set': (input) => ({ refusal: checkPreviews(p, input.showText) }),
    'readReceipts:set': (input) => ({ refusal: checkReceipts(p, input.enabled) }),
    'device:register': (input) => ({
      refusal: checkKeyService(p, input.server, input.appId),
      input: input.clientKey === undefined && p.clientKey !== undefined && (p.appId === undefined || p.appId === input.appId) ? { ...input, clientKey: p.clientKey } : input,
    }),
    'link:request': (input) => ({ refusal: first(checkNewPin(p, input.pin), checkKeyService(p, input.server, input.appId)) }),
    'recovery:backup': (input) => {
      const escrow = input.escrow ?? p.escrow;
      return { refusal: checkEscrow(p, escrow?.url, escrow?.appId), input: escrow ? { ...input, escrow } : input };
    },
    'recovery:restore': (input) => {
      const escrowUrl = input.escrowUrl ?? p.escrow?.url;
      const escrowClientKey = input.escrowClientKey ?? (escrowUrl !== undefined && p.escrow ? p.escrow.clientKey : undefined);
      return {
        refusal: first(checkNewPin(p, input.pin), checkKeyService(p, input.server, input.appId), checkEscrow(p, escrowUrl)),
        input: { ...input, ...(escrowUrl !== undefined && { escrowUrl }), ...(escrowClientKey !== undefined && { escrowClientKey }) },
      };
    },
  };
}

/**
 * Wraps every handler with the policy: PolicyInvalid for all but status and
 * policy:get when the policy is invalid; the guards above when it is managed.
 */
export function withPolicy(loaded: LoadedPolicy, handlers: Handlers): Handlers {
  if (loaded.state === 'none') return handlers;
  const wrapped: Record<string, (input: never) => Promise<Result<unknown>>> = {};
  const table = guards(loaded) as Record<string, (input: unknown) => { refusal: Refusal | null; input?: unknown }>;
  for (const channel of Object.keys(handlers) as Channel[]) {
    const handler = handlers[channel] as (input: unknown) => Promise<Result<unknown>>;
    if (loaded.state === 'invalid') {
      wrapped[channel] = OPEN_WHEN_INVALID.has(channel) ? handler : async () => policyInvalid(loaded);
      continue;
    }
    const guard = table[channel];
    wrapped[channel] = guard
      ? async (input: unknown) => {
          const { refusal, input: filled } = guard(input);
          return refusal ? forbidden(refusal) : handler(filled ?? input);
        }
      : handler;
  }
  return wrapped as unknown as Handlers;
}

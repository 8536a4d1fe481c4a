/**
 * The checks the managed policy imposes, as pure functions over the validated policy:
 * each returns null when allowed, or the refusal (PolicyForbidden) that names the
 * policy key, e.g. "Your organization requires a PIN (policy: requirePin)."
 * enforce.ts applies them to the contract's channels.
 * @module
 */
import type { Policy, PolicyKey } from '../../../shared/policy.js';

export interface Refusal {
  key: PolicyKey;
  message: string;
}

const refuse = (key: PolicyKey, text: string): Refusal => ({ key, message: `${text} (policy: ${key}).` });

/** A PIN being set (identity:create, pin:change, restore, link, import). "0" = no PIN. */
export function checkNewPin(policy: Policy, pin: string): Refusal | null {
  if (pin === '0') return policy.requirePin ? refuse('requirePin', 'Your organization requires a PIN') : null;
  if (policy.pinMinLength !== undefined && /^\d+$/.test(pin) && pin.length < policy.pinMinLength) {
    return refuse('pinMinLength', `Your organization requires a PIN of at least ${policy.pinMinLength} digits`);
  }
  return null;
}

/** session:setAutoLock: 0 (never) or longer than the maximum is refused. */
export function checkAutoLock(policy: Policy, ms: number): Refusal | null {
  const max = policy.autoLockMaxMs;
  if (max === undefined || (ms > 0 && ms <= max)) return null;
  return refuse('autoLockMaxMs', `Your organization requires the keys to lock after at most ${minutes(max)} without use`);
}

/** The auto-lock the engine runs with: the user's choice, capped at the maximum (0 = never is capped too). */
export const cappedAutoLock = (policy: Policy, ms: number): number => {
  const max = policy.autoLockMaxMs;
  return max !== undefined && (ms === 0 || ms > max) ? max : ms;
};

export function checkExport(policy: Policy): Refusal | null {
  return policy.allowIdentityExport === false ? refuse('allowIdentityExport', 'Your organization does not allow exporting the identity file') : null;
}

/** The key services registration, linking and restoring may use: allowedKeyServices, else the preset keyServiceUrl alone. */
function allowedServices(policy: Policy): { key: PolicyKey; list: string[] } | null {
  if (policy.allowedKeyServices) return { key: 'allowedKeyServices', list: policy.allowedKeyServices };
  if (policy.keyServiceUrl) return { key: 'keyServiceUrl', list: [policy.keyServiceUrl] };
  return null;
}

/** A key service URL (and app id) the user names: refused unless the policy allows it. */
export function checkKeyService(policy: Policy, server: string, appId?: string): Refusal | null {
  const allowed = allowedServices(policy);
  if (allowed && !allowed.list.some((entry) => urlWithin(server, entry))) {
    return refuse(allowed.key, `Your organization allows only ${allowed.list.length === 1 ? 'the key service' : 'these key services'}: ${allowed.list.join(', ')}`);
  }
  if (appId !== undefined && policy.appId !== undefined && appId !== policy.appId) {
    return refuse('appId', `Your organization's app on the key service is ${policy.appId}`);
  }
  return null;
}

/** The escrow service a recovery backup or restore names: refused unless it is the policy's. */
export function checkEscrow(policy: Policy, url: string | undefined, appId?: string): Refusal | null {
  if (!policy.escrow || url === undefined) return null;
  if (urlWithin(url, policy.escrow.url) && (appId === undefined || appId === policy.escrow.appId)) return null;
  return refuse('escrow', `Your organization's recovery escrow is ${policy.escrow.url} (app ${policy.escrow.appId})`);
}

export function checkRsaBits(policy: Policy, bits: number): Refusal | null {
  return policy.minRsaBits !== undefined && bits < policy.minRsaBits ? refuse('minRsaBits', `Your organization requires RSA keys of at least ${policy.minRsaBits} bits`) : null;
}

/** The RSA size of a new key: at least the policy's minimum. */
export const rsaBitsFor = (policy: Policy, wanted: 2048 | 3072 | 4096): 2048 | 3072 | 4096 =>
  policy.minRsaBits !== undefined && policy.minRsaBits > wanted ? policy.minRsaBits : wanted;

export function checkPreviews(policy: Policy, showText: boolean): Refusal | null {
  return showText && policy.notificationPreviews === 'off' ? refuse('notificationPreviews', 'Your organization turned message text in notifications off') : null;
}

export const previewsAllowed = (policy: Policy): boolean => policy.notificationPreviews !== 'off';

/** readReceipts:set: turning receipts on is refused when the policy forces them off (turning them off is always allowed). */
export function checkReceipts(policy: Policy, enabled: boolean): Refusal | null {
  return enabled && policy.readReceipts === false ? refuse('readReceipts', 'Your organization turned read receipts off') : null;
}

/** False when the policy forces read receipts off; unset or true leaves the user's choice. */
export const receiptsAllowed = (policy: Policy): boolean => policy.readReceipts !== false;

/**
 * Is `url` within `entry`? Same origin (scheme, host, port), and when the entry has a
 * path, the URL's path starts with it. Anything unparseable is not within.
 */
export function urlWithin(url: string, entry: string): boolean {
  let u: URL;
  let e: URL;
  try {
    u = new URL(url);
    e = new URL(entry);
  } catch {
    return false;
  }
  if (u.origin !== e.origin) return false;
  const base = e.pathname.replace(/\/+$/, '');
  const path = u.pathname.replace(/\/+$/, '');
  return base === '' || path === base || path.startsWith(`${base}/`);
}

function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m >= 60 && m % 60 === 0 ? `${m / 60} h` : `${m} min`;
}

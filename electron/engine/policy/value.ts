/**
 * policy:get: the effective policy as the UI needs it: per setting the value, whether
 * the organisation set (and so locked) it and where it came from, plus the recovery-
 * backup reminder (recoveryBackupRequiredDays) computed from the identity's creation
 * and the last backup. Answers under an invalid policy too (state and error).
 * trustedCertificates are shown as "subject (SHA-256 fingerprint, valid until)".
 * @module
 */
import { POLICY_DEFAULTS, POLICY_KEYS, type PolicyKey, type PolicyValue } from '../../../shared/policy.js';
import { describeCertificate } from './certificates.js';
import type { LoadedPolicy } from './load.js';

const DAY_MS = 24 * 60 * 60_000;

export interface PolicyValueContext {
  /** When this profile's identity was made (ms), or null without one. */
  identityCreatedAt(): number | null;
  /** When the last recovery backup was made (ms), or null. */
  backedUpAt(): Promise<number | null>;
  now(): number;
}

/** A value as the UI and `sealpost policy` show it: certificates by subject and fingerprint, not kilobytes of PEM. */
function shown(key: PolicyKey, value: unknown): unknown {
  return key === 'trustedCertificates' && Array.isArray(value) ? value.map((item) => describeCertificate(String(item))) : value;
}

export async function policyValue(loaded: LoadedPolicy, c: PolicyValueContext): Promise<PolicyValue> {
  const settings: PolicyValue['settings'] = {};
  for (const key of POLICY_KEYS) {
    const set = loaded.values[key] !== undefined;
    settings[key] = {
      value: set ? shown(key, loaded.values[key]) : POLICY_DEFAULTS[key],
      source: set ? 'policy' : 'default',
      where: set ? (loaded.where[key] ?? null) : null,
      locked: set,
    };
  }
  let recoveryBackup: PolicyValue['recoveryBackup'] = null;
  const days = loaded.values.recoveryBackupRequiredDays;
  if (days !== undefined) {
    const created = c.identityCreatedAt();
    const backedUpAt = await c.backedUpAt();
    const dueAt = created === null ? null : created + days * DAY_MS;
    const done = backedUpAt !== null;
    recoveryBackup = { requiredWithinDays: days, dueAt, done, overdue: !done && dueAt !== null && c.now() > dueAt };
  }
  return { state: loaded.state, sources: loaded.sources, error: loaded.error, settings, recoveryBackup };
}

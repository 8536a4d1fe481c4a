/**
 * A policy that exists but cannot be used: unreadable, not parseable, or not valid
 * against the schema (shared/policy.ts). The message names the place (file path,
 * registry key, plist) and the problem; the engine then refuses changes
 * (PolicyInvalid) until IT fixes it. Never a value from the policy in the message
 * beyond key names (a client key is not for logs).
 * @module
 */
export class PolicyError extends Error {
  constructor(
    /** The file path, registry key or plist the problem is in. */
    readonly where: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${where}: ${problem}`, options);
    this.name = 'PolicyError';
  }
}

/**
 * Typed failures of talking to the key service. The service maps them once to
 * result codes (service/messaging-results.ts): 'offline' -> NoInternetAccess (-200),
 * 'unregistered' -> DeviceUnregistered (-50), the rest -> Failed (-1) with the
 * server's machine code in `details`. Messages never quote request content,
 * tokens or keys (they end up in the UI and in outbox rows).
 * @module
 */

/**
 * - offline: no TCP connection, DNS failure, timeout: the network or the service is down.
 * - server: 5xx / 503 (shutting down, store down): transient, back off.
 * - rate-limited: 429: wait `retryAfterMs`.
 * - auth: 401 (bad or expired JWT, bad key): renew the JWT once, then give up.
 * - denied: 403 (revoked device or app): permanent until an admin acts.
 * - rejected: any other 4xx: the request itself is wrong; retrying will not help.
 * - bad-response: the service answered something that fails its documented schema.
 * - unregistered: this profile has no registration or credentials yet.
 * - untrusted: the TLS certificate the service presented does not verify (unknown CA,
 *   expired, wrong host): not "offline", the message names the problem (tls-trust.ts).
 *   Retried like an outage (IT may fix the certificate or the trustedCertificates
 *   policy; a captive portal goes away), so queued messages wait instead of failing.
 */
export type SyncErrorKind = 'offline' | 'server' | 'rate-limited' | 'auth' | 'denied' | 'rejected' | 'bad-response' | 'unregistered' | 'untrusted';

export class SyncError extends Error {
  constructor(
    readonly kind: SyncErrorKind,
    message: string,
    readonly extra: { status?: number; code?: string; retryAfterMs?: number } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SyncError';
  }

  /** Worth trying again later (network, 5xx, 429, a certificate that may be fixed); the others need a person or a fix. */
  get transient(): boolean {
    return this.kind === 'offline' || this.kind === 'server' || this.kind === 'rate-limited' || this.kind === 'untrusted';
  }
}

export const isSyncError = (e: unknown): e is SyncError => e instanceof SyncError;

import type { AuditLog } from './audit.js';
import type { JwtVerifier } from './auth/jwt.js';
import type { ResolvedOptions } from './config.js';
import type { VerifiedSecretCache } from './crypto/secrets.js';
import type { RateLimiter } from './rate-limit.js';
import type { Store } from './store/types.js';
import type { EventBus } from './stream/bus.js';
import type { StreamRegistry } from './stream/registry.js';

/** Everything a route needs, built once per server instance (index.ts). */
export interface ServerContext {
  store: Store;
  options: ResolvedOptions;
  /** HMAC key for stored API keys and key tokens (shared by all instances through the database). */
  pepper: Buffer;
  /** HS256 key for device JWTs. */
  jwtSecret: Buffer;
  jwtVerifier: JwtVerifier;
  /** keyedHash(pepper, token), memoised per instance (key tokens arrive on every request). */
  tokenHash(token: string): string;
  /** Per-instance cache of privatekeyhash checks that succeeded (an optimisation only). */
  verified: VerifiedSecretCache;
  rateLimiter: RateLimiter;
  audit: AuditLog;
  /** Push-stream events: routes publish after their write succeeded (stream/publish.ts). */
  events: EventBus;
  /** This instance's open push streams (stream/registry.ts). */
  streams: StreamRegistry;
}

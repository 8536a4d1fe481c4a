/**
 * Who a request comes from (set by the auth hook, authenticate.ts) and how a
 * route is authenticated. Its own module: the audit log and the routes need
 * the type without importing the hook and what it imports.
 */
import 'fastify';

export type Caller =
  | { kind: 'device'; appId: string; deviceId: string; userId: string }
  | { kind: 'client'; appId: string }
  | { kind: 'server'; appId: string }
  | { kind: 'none' };

/**
 * none     no credential (health)
 * body     the handler checks appid + serverkey itself (user/register, gen-jwt)
 * device   device JWT or client key (the seed's key routes)
 * user     device JWT only (items, grants)
 * lookup   device JWT, client key or server key (directory)
 * audit    device JWT (own entries) or server key (the app's)
 * server   server key only
 */
export type AuthMode = 'none' | 'body' | 'device' | 'user' | 'lookup' | 'audit' | 'server';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthMode;
  }
  interface FastifyRequest {
    caller: Caller;
  }
}

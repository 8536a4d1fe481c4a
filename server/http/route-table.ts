/**
 * The server's own list of its routes, recorded as they are registered (an
 * onRoute hook, so a route added anywhere — a plugin, a WebSocket route — is
 * listed without anyone remembering to add it). Tools that must cover every
 * route read it: the hostile-input sweep (test/integration/server/hostile*.test.ts)
 * walks each route's zod schemas to make wrong input for it.
 */
import type { FastifyInstance } from 'fastify';

export interface RouteEntry {
  method: string;
  url: string;
  /** The zod schemas the route validates (params, querystring, body), as given. */
  schema: { params?: unknown; querystring?: unknown; body?: unknown };
  /** The route's `config.auth` (auth/authenticate.ts), if any. */
  auth: string | undefined;
  /** A WebSocket route: a GET without an upgrade must get a 4xx. */
  websocket: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: readonly RouteEntry[];
  }
}

/** Call before any route is registered. */
export function recordRoutes(app: FastifyInstance): void {
  const table: RouteEntry[] = [];
  app.decorate('routeTable', table);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const schema = (route.schema ?? {}) as RouteEntry['schema'];
    const auth = (route.config as { auth?: string } | undefined)?.auth;
    const websocket = (route as { websocket?: boolean }).websocket === true;
    for (const method of methods) {
      table.push({ method: String(method), url: route.url ?? route.path, schema: { params: schema.params, querystring: schema.querystring, body: schema.body }, auth, websocket });
    }
  });
}

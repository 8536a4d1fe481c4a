/** GET /health: liveness and store status, for load balancers (no credentials, not rate-limited). */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { API_VERSION, CommonQuery } from '../../shared/wire.js';
import type { ServerContext } from '../context.js';

const started = Date.now();

export function healthRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/health', { config: { auth: 'none' }, schema: { querystring: z.strictObject(CommonQuery) } }, async (_request, reply) => {
    const t0 = performance.now();
    let ok = true;
    try {
      await ctx.store.ping();
    } catch {
      ok = false;
    }
    const body = {
      status: ok ? 'ok' : 'degraded',
      version: String(API_VERSION),
      uptimeSeconds: Math.round((Date.now() - started) / 1000),
      store: { kind: ctx.store.kind, ok, latencyMs: Math.round((performance.now() - t0) * 1000) / 1000 },
    };
    return reply.code(ok ? 200 : 503).send(body);
  });
}

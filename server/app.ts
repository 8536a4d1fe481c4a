/**
 * The Fastify application: plugins, hooks and routes, in the order requests
 * meet them:
 *   onRequest       WebSocket upgrade marker (@fastify/websocket, routes/stream.ts);
 *                   CORS; format + version (respond.ts); credentials and rate
 *                   limits (auth/authenticate.ts) — before any body is read
 *   parsing         JSON / XML / form (body-parsers.ts), multipart (sends only)
 *   preValidation   multipart parts -> fields + files (messages.ts)
 *   validation      zod schemas from shared/wire.ts
 *   handler         routes/*.ts
 *   onSend          audit entry (audit.ts); XML serialisation (respond.ts)
 */
import cors from '@fastify/cors';
import multipart from '@fastify/multipart';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerAuth } from './auth/authenticate.js';
import type { ServerContext } from './context.js';
import { registerBodyParsers } from './http/body-parsers.js';
import { ApiError } from './http/errors.js';
import { REDACT_PATHS, logSerializers } from './http/redact.js';
import { clientErrorHandler, frameworkErrors, registerResponder } from './http/respond.js';
import { auditRoutes } from './routes/audit.js';
import { deviceRoutes } from './routes/devices.js';
import { keyChangeRoutes } from './routes/key-changes.js';
import { genJwtRoutes } from './routes/gen-jwt.js';
import { grantRoutes } from './routes/grants.js';
import { healthRoutes } from './routes/health.js';
import { itemRoutes } from './routes/items.js';
import { keyRoutes } from './routes/keys.js';
import { linkRoutes } from './routes/link.js';
import { messageRoutes } from './routes/messages.js';
import { enrollRoutes } from './routes/enroll.js';
import { recoveryRoutes } from './routes/recovery.js';
import { totpRoutes } from './routes/totp.js';
import { streamRoutes } from './routes/stream.js';
import { userRoutes } from './routes/users.js';
import { connectedAppRoutes } from './connected/app-routes.js';
import { approvalRoutes } from './connected/device-routes.js';

const SEND_ROUTE = '/v1/keys/:token/messages';

export async function buildApp(ctx: ServerContext): Promise<FastifyInstance> {
  const o = ctx.options;
  const app = Fastify({
    logger: o.logger
      ? { level: o.logger.level ?? 'info', ...(o.logger.stream ? { stream: o.logger.stream } : {}), serializers: logSerializers, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }
      : false,
    bodyLimit: o.bodyLimitBytes,
    // proxy-addr also takes a hop count; Fastify's types omit it.
    trustProxy: o.trustProxy as boolean | string,
    return503OnClosing: true,
    forceCloseConnections: true,
    connectionTimeout: 120_000,
    requestTimeout: 120_000,
    frameworkErrors,
    clientErrorHandler,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
    // HTTPS (and wss for /v1/stream) when configured (config.ts TlsOptions), else plain HTTP.
    ...(o.tls && { https: { cert: o.tls.cert, key: o.tls.key } }),
  });

  // First, so its onRequest hook (which marks upgrade requests, and closes their socket after a refusal) runs before any hook that can refuse.
  await app.register(websocket, {
    options: { maxPayload: 4096, clientTracking: false },
    // Streams close with 1001 (and the server waits briefly for the clients' answers) before the listener stops.
    preClose: (done) => {
      ctx.streams.shutdown().then(() => done(), done);
    },
    errorHandler: (error, socket, request) => {
      request.log.debug({ err: error }, 'stream socket error');
      socket.terminate();
    },
  });
  registerResponder(app);
  registerBodyParsers(app);
  await app.register(cors, {
    origin: o.corsOrigin,
    methods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['Content-Type', 'Accept', 'Authorization', 'X-Client-Key', 'X-Server-Key', 'X-Passphrase', 'X-Private-Key-Hash', 'X-Sealpost-Totp'],
    exposedHeaders: ['Retry-After', 'WWW-Authenticate'],
    maxAge: 600,
  });
  await app.register(multipart, {
    limits: {
      fileSize: o.fileLimitBytes,
      files: o.maxFiles,
      fields: 20,
      fieldSize: o.bodyLimitBytes,
      parts: o.maxFiles + 20,
      headerPairs: 100,
    },
  });
  app.addHook('preValidation', (request, _reply, done) => {
    if (request.isMultipart() && request.routeOptions.url !== SEND_ROUTE) {
      done(new ApiError(415, 'unsupported_media_type', 'multipart/form-data is accepted only by PUT /v1/keys/{token}/messages'));
      return;
    }
    done();
  });
  registerAuth(app, ctx);
  ctx.audit.register(app);

  healthRoutes(app, ctx);
  keyRoutes(app, ctx);
  messageRoutes(app, ctx);
  userRoutes(app, ctx);
  deviceRoutes(app, ctx);
  keyChangeRoutes(app, ctx);
  genJwtRoutes(app, ctx);
  itemRoutes(app, ctx);
  grantRoutes(app, ctx);
  auditRoutes(app, ctx);
  recoveryRoutes(app, ctx);
  linkRoutes(app, ctx);
  enrollRoutes(app, ctx);
  totpRoutes(app, ctx);
  streamRoutes(app, ctx);
  connectedAppRoutes(app, ctx);
  approvalRoutes(app, ctx);
  return app;
}

/**
 * GET /v1/stream: the push stream, a WebSocket (docs/api.md "Push stream",
 * shared/stream-wire.ts). Authenticated like every device route (device JWT
 * or agent token in the Authorization header, in onRequest, with the rate
 * limits); a client key names no device and is refused. Everything that can
 * refuse happens before the upgrade, so a refusal is an ordinary HTTP error in
 * the service's shape (401, 403, 426, 429); once open, the stream is closed
 * only with the codes of StreamClose.
 *
 * A refused upgrade is audited by the onSend hook like any request; an opened
 * stream gets one entry (status 101) here, since a hijacked reply has no onSend.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CommonQuery } from '../../shared/wire.js';
import { singleHeader } from '../auth/authenticate.js';
import type { ServerContext } from '../context.js';
import { isAgentToken, verifyAgentTokenSignature } from '../crypto/delegation.js';
import { ApiError, badRequest, unauthorized } from '../http/errors.js';

export const STREAM_ROUTE = '/v1/stream';

declare module 'fastify' {
  interface FastifyRequest {
    /** When the stream's credential expires (ms), from preHandler for the wsHandler. */
    streamExpiresAt: number;
  }
}

/** RFC 6455: a base64 16-byte nonce and version 13. ws would refuse others with a bare 400 of its own. */
const WS_KEY = /^[+/0-9A-Za-z]{21}[AQgw]==$/;

/** When the credential the request authenticated with expires (ms): the stream closes with 4401 then. */
function credentialExpiry(ctx: ServerContext, request: FastifyRequest): number {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(singleHeader(request, 'authorization') ?? '');
  const token = match?.[1];
  if (!token) return 0;
  if (isAgentToken(token)) {
    const verified = verifyAgentTokenSignature(token);
    return verified.ok ? verified.claims.exp * 1000 : 0;
  }
  const verified = ctx.jwtVerifier.verify(token);
  return verified.ok ? verified.claims.exp * 1000 : 0;
}

export function streamRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.decorateRequest('streamExpiresAt', 0);

  app.route({
    method: 'GET',
    url: STREAM_ROUTE,
    config: { auth: 'user', audit: 'stream.connect' },
    schema: { querystring: z.strictObject(CommonQuery) },
    preHandler: (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void) => {
      try {
        const caller = request.caller;
        if (caller.kind !== 'device') throw unauthorized('the stream needs a device JWT or agent token');
        request.auditTarget = `device:${caller.deviceId}`;
        if (!request.ws) {
          throw new ApiError(426, 'upgrade_required', 'GET /v1/stream is a WebSocket: send Connection: Upgrade and Upgrade: websocket', {}, { Upgrade: 'websocket', Connection: 'Upgrade' });
        }
        if (singleHeader(request, 'sec-websocket-version') !== '13') {
          throw new ApiError(426, 'upgrade_required', 'the stream speaks WebSocket version 13', {}, { 'Sec-WebSocket-Version': '13' });
        }
        if (!WS_KEY.test(singleHeader(request, 'sec-websocket-key') ?? '')) throw badRequest('Sec-WebSocket-Key must be a base64 16-byte nonce', 'bad_upgrade');
        const expiresAt = credentialExpiry(ctx, request);
        if (expiresAt <= Date.now()) throw unauthorized('the credential has expired', 'token_expired');
        request.streamExpiresAt = expiresAt;
        const release = ctx.streams.reserveAddress(request.ip);
        request.raw.socket.once('close', release);
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    handler: async () => {
      // Reached only without an upgrade, which preHandler refuses already.
      throw new ApiError(426, 'upgrade_required', 'GET /v1/stream is a WebSocket');
    },
    wsHandler: (socket, request) => {
      const caller = request.caller;
      if (caller.kind !== 'device') {
        socket.close(1011, 'no device');
        return;
      }
      const heartbeatMs = ctx.options.stream.heartbeatSeconds * 1000;
      ctx.streams.add(
        socket,
        { appId: caller.appId, deviceId: caller.deviceId, userId: caller.userId, ip: request.ip, expiresAt: request.streamExpiresAt },
        { type: 'hello', deviceId: caller.deviceId, heartbeatMs },
      );
      // The reply object of a hijacked request is not used: only its status goes into the entry.
      const entry = ctx.audit.entryFor(request, { statusCode: 101 } as FastifyReply, 'stream.connect');
      ctx.audit.append(entry).catch((err: unknown) => request.log.error({ err }, 'audit entry could not be written'));
    },
  });
}

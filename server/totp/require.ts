/**
 * The TOTP check of a protected request: the code comes in the X-Sealpost-Totp
 * header (a header, so routes keep their body schemas and the code stays out of
 * URLs and logs). A no-op for users without TOTP.
 * @module
 */
import type { FastifyRequest } from 'fastify';
import { TOTP_HEADER, TotpCode } from '../../shared/enroll-wire.js';
import { singleHeader } from '../auth/authenticate.js';
import type { ServerContext } from '../context.js';
import { badRequest } from '../http/errors.js';
import { totpService } from './totp-service.js';

/** @throws {ApiError} 400 malformed header, 403 totp_required / totp_invalid, 429 */
export async function requireTotp(ctx: ServerContext, request: FastifyRequest, appId: string, userId: string): Promise<void> {
  const raw = singleHeader(request, TOTP_HEADER);
  let code: string | undefined;
  if (raw !== undefined) {
    const parsed = TotpCode.safeParse(raw);
    if (!parsed.success) throw badRequest(`${TOTP_HEADER}: ${parsed.error.issues[0]?.message ?? 'malformed'}`, 'invalid_totp_header');
    code = parsed.data;
  }
  await totpService(ctx).require(appId, userId, code, request.ip);
}

/**
 * The key service `npm start` runs, as the desktop app (Electron's main
 * process, started by the launcher) learns of it: one environment variable
 * with its address, the desktop app's id and client key, and where and how to
 * ask the launcher for a one-time enrollment code (electron/launcher/code-issuer-endpoint.ts).
 * The main process reads it once and removes it, so no child process inherits it.
 * @module
 */
import { z } from 'zod';
import type { LocalKeyService } from './local-key-service.js';

export const LOCAL_KEY_SERVICE_ENV = 'SEALPOST_LOCAL_KEY_SERVICE';

/** Only this computer: the launcher listens on loopback. */
const LoopbackUrl = z
  .string()
  .url()
  .refine((u) => {
    const url = new URL(u);
    return url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]');
  }, 'must be an http URL on this computer (127.0.0.1)');

const Described = z
  .object({
    url: LoopbackUrl,
    appId: z.string().min(1).max(200),
    clientKey: z.string().min(1).max(500),
    issuer: LoopbackUrl,
    token: z.string().min(32).max(200),
  })
  .strict();
export type LocalKeyServiceDescription = z.infer<typeof Described>;

/** The variable's value for the app the launcher starts. */
export const encodeLocalKeyService = (d: LocalKeyServiceDescription): string => JSON.stringify(Described.parse(d));

/**
 * The local key service from `env`, or undefined when the variable is unset.
 * @throws {Error} when it is set but not a valid description (a clear message, nothing of its value)
 */
export function localKeyServiceFromEnv(env: NodeJS.ProcessEnv, fetchImpl: typeof fetch = fetch): LocalKeyService | undefined {
  const raw = env[LOCAL_KEY_SERVICE_ENV];
  if (raw === undefined || raw === '') return undefined;
  let d: LocalKeyServiceDescription;
  try {
    d = Described.parse(JSON.parse(raw));
  } catch {
    throw new Error(`${LOCAL_KEY_SERVICE_ENV} is not a valid description of the local key service`);
  }
  return {
    url: d.url,
    appId: d.appId,
    clientKey: d.clientKey,
    async issueEnrollmentCode(username) {
      let res: Response;
      try {
        res = await fetchImpl(d.issuer, {
          method: 'POST',
          headers: { authorization: `Bearer ${d.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ username }),
        });
      } catch {
        throw new Error('the Sealpost launcher does not answer (was it stopped?)');
      }
      const body = (await res.json().catch(() => ({}))) as { code?: unknown; message?: unknown };
      if (!res.ok || typeof body.code !== 'string') throw new Error(typeof body.message === 'string' ? body.message : `the launcher answered ${res.status}`);
      return body.code;
    },
  };
}

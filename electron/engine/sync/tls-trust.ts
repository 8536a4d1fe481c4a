/**
 * Which certificate authorities the engine trusts for the key service and the escrow
 * (every KeyServiceClient request, client.ts, and the push stream, stream.ts):
 * Node's built-in public roots, plus the organisation's own CAs from the managed
 * policy's `trustedCertificates` (docs/deploy.md "Private CAs"). The installed app
 * cannot use NODE_EXTRA_CA_CERTS (the NODE_OPTIONS fuse is off), so this is the one way
 * to add a CA, and only IT's policy sets it: process-wide, once at start (openService).
 *
 * Without extra CAs nothing changes: the global fetch and ws's defaults are used.
 * With them, requests go through undici's own fetch with an Agent whose `ca` is
 * Node's roots plus the extra ones (a `ca` replaces the default list, so the public
 * roots are repeated), loaded only then.
 *
 * A certificate the peer presents that does not verify is not "offline": it becomes
 * SyncError 'untrusted' with a message naming the problem and the policy that helps.
 * @module
 */
import { rootCertificates } from 'node:tls';
import type { Agent } from 'undici';
import { certificatePem } from '../policy/certificates.js';
import { SyncError } from './errors.js';

let extra: string[] | null = null;
let agent: Promise<Agent> | null = null;

/**
 * Trust these CA certificates (PEM, or base64 DER on one line, as the policy carries
 * them) besides the public roots; an empty list, null or undefined = the public roots only.
 * @throws {Error} for an item that is not a certificate (the policy loader refuses those first); the trust is then unchanged
 */
export function setTrustedCertificates(certs: readonly string[] | null | undefined): void {
  const pems = (certs ?? []).map(certificatePem);
  const old = agent;
  extra = pems.length > 0 ? pems : null;
  agent = null;
  // Requests already under way finish on the old agent; close() waits for them.
  if (old) void old.then((a) => a.close()).catch(() => undefined);
}

/** The CA list for TLS when extra CAs are set (Node's roots + them), else null: only the default roots. */
export function trustedCa(): string[] | null {
  return extra ? [...rootCertificates, ...extra] : null;
}

export interface FetchInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}

/** fetch() with the engine's trust: the global fetch unless extra CAs are set. */
export async function trustedFetch(url: string, init: FetchInit): Promise<Response> {
  const ca = trustedCa();
  if (!ca) return fetch(url, init);
  agent ??= import('undici').then(({ Agent }) => new Agent({ connect: { ca } }));
  const [{ fetch: undiciFetch }, dispatcher] = await Promise.all([import('undici'), agent]);
  // undici's Response is the class Node's own fetch is built on; the types differ only nominally.
  return (await undiciFetch(url, { ...init, dispatcher })) as unknown as Response;
}

/** OpenSSL's verification failures (X509_V_ERR_*, as Node names them) and Node's host-name check. */
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * When `e` (or an error it wraps: fetch's TypeError has the socket's error as its cause)
 * is a certificate the peer presented that did not verify: "<what is wrong> (<CODE>)". Else null.
 */
export function certificateProblem(e: unknown): string | null {
  let err: unknown = e;
  for (let depth = 0; depth < 4 && typeof err === 'object' && err !== null; depth++) {
    const { code, message } = err as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && CERTIFICATE_CODES.has(code)) {
      const what = typeof message === 'string' && message ? message.slice(0, 200) : 'the certificate does not verify';
      return `${what} (${code})`;
    }
    err = (err as { cause?: unknown }).cause;
  }
  return null;
}

/** The message of an untrusted certificate, the same for requests and the push stream. */
export const untrustedMessage = (problem: string, where: string): string =>
  `The key service's certificate is not trusted: ${problem} at ${where}; if your organisation uses its own CA, IT can add it with the trustedCertificates policy.`;

/** The failure of a request whose TLS handshake refused the certificate, or null for any other failure. */
export function untrustedError(e: unknown, where: string): SyncError | null {
  const problem = certificateProblem(e);
  return problem === null ? null : new SyncError('untrusted', untrustedMessage(problem, where), {}, { cause: e });
}

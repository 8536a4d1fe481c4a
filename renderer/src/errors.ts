/**
 * Failed calls in the app's voice: a sentence a person understands, what to
 * check when we know it, and the result code's name (with the engine's
 * message) in a details line. Key-service failures carry the HTTP status and
 * the server's code in `details` (electron/engine/service/messaging.ts
 * syncFailure), which say whether a key, a user name, the URL or this
 * device's standing is the problem.
 */
import { resultCodeName } from '../../shared/codes.js';

const HUMAN: Record<string, string> = {
  Failed: 'Something went wrong. Your data is unchanged.',
  InvalidState: 'That is not possible right now.',
  InvalidParameter: 'Some of what was entered is not valid.',
  DeviceUnregistered: 'This device is not registered with a key service yet.',
  InvalidPin: 'A PIN is 4 to 12 digits (or 0 to use no PIN).',
  WrongPin: 'That PIN is not right.',
  NoInternetAccess: 'The key service cannot be reached. Everything local keeps working.',
  LockedOut: 'Too many wrong PINs. Wait before trying again.',
  Locked: 'Sealpost is locked. Enter your PIN first.',
  NotFound: 'That item was not found.',
  Conflict: 'Someone changed this at the same time. Both versions were kept.',
  Tampered: 'This data was changed or damaged after it was sealed, or is not for this key.',
  UnsupportedVersion: 'This was made by a newer Sealpost. Update to open it.',
  BadSignature: 'The sender signature does not check out. Do not trust this content.',
  NoIdentity: 'No identity on this device yet.',
  PolicyForbidden: 'Your organization’s policy does not allow that.',
  PolicyInvalid: 'Your organization’s policy for Sealpost is not valid, so nothing can be changed until IT fixes it.',
};

export interface UiError {
  /** What happened, in a sentence. */
  text: string;
  /** What to check or do about it, when that is known. */
  hint?: string;
  /** The result code's name and number, and the engine's message. */
  details: string;
  /** The key service asks for (another) two-step verification code: the form shows its field. */
  totp?: boolean;
}

export interface RawFailure {
  code: number;
  message?: string;
  details?: Record<string, unknown>;
}

type Words = { text: string; hint?: string };

/** The HTTP status of a key-service failure: from details, else from the engine's "... failed with 401" message. */
function httpStatus(raw: RawFailure): number | null {
  const status = raw.details?.status;
  if (typeof status === 'number') return status;
  const m = / failed with (\d{3})\b/.exec(raw.message ?? '');
  return m ? Number(m[1]) : null;
}

/** The key-service request that failed ("POST /v1/user/register"), when the message names one. */
function requestOf(raw: RawFailure): string {
  return /^(?:GET|POST|PUT|PATCH|DELETE) (\/\S+)/.exec(raw.message ?? '')?.[1] ?? '';
}

function unreachable(message: string): Words {
  if (/ENOTFOUND|EAI_AGAIN|EAI_NONAME/.test(message)) {
    return { text: 'No key service was found at that address.', hint: 'Check the spelling of the host name in the key service URL, and that this computer is online.' };
  }
  if (/ECONNREFUSED/.test(message)) {
    return { text: 'Nothing answers at that key service address.', hint: 'Check the port in the key service URL and that the key service is running.' };
  }
  if (/Timeout|ETIMEDOUT|AbortError/.test(message)) {
    return { text: 'The key service did not answer in time.', hint: 'Check this computer’s network and the key service URL, then try again.' };
  }
  if (/Invalid URL|ERR_INVALID_URL|unsupported protocol/i.test(message)) {
    return { text: 'That key service URL is not a web address.', hint: 'It looks like http://host:port or https://host (check for typing mistakes).' };
  }
  return { text: HUMAN.NoInternetAccess ?? '', hint: 'Check the key service URL and this computer’s network. Messages wait in the outbox until it is back.' };
}

/** The key service's own error code (details.server), for the cases that need their own words. */
function serverCodeWords(raw: RawFailure, status: number | null): Words | null {
  switch (raw.details?.server) {
    case 'invalid_enrollment_code':
      return { text: 'That enrollment code does not work: it was mistyped, used already, expired, or is for another user name.', hint: 'Check the user name and the code; if they are right, ask your administrator for a new code.' };
    case 'totp_required':
      return { text: 'This account has two-step verification on.', hint: 'Enter the current code from your authenticator app (or one of your recovery codes), then connect again.' };
    case 'totp_invalid':
      return { text: 'That two-step verification code is not right, or was used already.', hint: 'Wait for the next code in your authenticator app and try again.' };
  }
  if (status === 429 && /\/enroll|totp/.test(`${requestOf(raw)} ${String(raw.details?.server ?? '')}`)) {
    return { text: 'Too many wrong codes were tried.', hint: 'Wait a few minutes before trying again. If it keeps failing, ask your administrator.' };
  }
  return null;
}

function keyServiceWords(name: string, raw: RawFailure): Words | null {
  if (name === 'NoInternetAccess') return unreachable(raw.message ?? '');
  // The key service's TLS certificate did not verify (engine SyncError 'untrusted'); the message says why.
  if (raw.details?.kind === 'untrusted') {
    return { text: 'The key service’s certificate is not trusted, so Sealpost did not connect.', hint: 'If your organisation runs the key service with its own certificate authority, IT can add it with the trustedCertificates policy. Messages wait in the outbox.' };
  }
  const status = httpStatus(raw);
  const own = serverCodeWords(raw, status);
  if (own) return own;
  if (status === null) return null;
  const path = requestOf(raw);
  const registering = /\/register|\/enroll/.test(path);
  if (status === 401) {
    return registering
      ? { text: 'The key service did not accept the app’s keys.', hint: 'Check the app id, the server key (or enrollment code) and the client key: copy them again from whoever runs the key service.' }
      : { text: 'The key service did not accept this device’s sign-in.', hint: 'Check the client key in Settings; if the app’s keys were changed on the key service, connect again with the new ones.' };
  }
  if (status === 403) {
    return { text: 'The key service refused this device: it was revoked, or its app was turned off.', hint: 'If you revoked it from another desktop, link it again or set it up anew; otherwise ask whoever runs the key service.' };
  }
  if (status === 404) {
    if (raw.details?.server === 'no_such_route') return { text: 'That address answers, but not as a Sealpost key service.', hint: 'Check the key service URL: the host, the port and any path after it.' };
    if (/\/users?\b|\/keys|\/directory/.test(path) || !path) return { text: 'The key service has no user by that name.', hint: 'Check the spelling of the user name, and that they use the same key service and app as you.' };
  }
  if (status === 429) return { text: 'The key service asks Sealpost to slow down.', hint: 'Wait a minute, then try again.' };
  if (status >= 500) return { text: 'The key service has a problem of its own right now.', hint: 'Try again later. Nothing here was lost.' };
  return null;
}

export function describeError(result: RawFailure): UiError {
  const name = resultCodeName(result.code);
  const details = `${name} (${result.code})${result.message ? `: ${result.message}` : ''}`;
  const words = keyServiceWords(name, result);
  const totp = result.details?.server === 'totp_required' || result.details?.server === 'totp_invalid';
  if (words) return { ...words, details, ...(totp && { totp }) };
  // A policy refusal's message names the rule ("Your organization requires a PIN (policy: requirePin)").
  if (name === 'PolicyForbidden' && result.message) return { text: result.message, details };
  return { text: HUMAN[name] ?? 'Something went wrong.', details };
}

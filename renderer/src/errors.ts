import { resultCodeName } from '../../shared/codes';

/** A sentence a person understands for each result code; the code's name goes in a details line. */
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
};

export interface UiError {
  /** What happened, in a sentence. */
  text: string;
  /** What to check or do about it, when that is known. */
  hint?: string;
  /** The result code's name and number, and the engine's message. */
  details: string;
}

export function describeError(result: { code: number; message?: string }): UiError {
  const name = resultCodeName(result.code);
  return { text: HUMAN[name] ?? 'Something went wrong.', details: `${name} (${result.code})${result.message ? `: ${result.message}` : ''}` };
}

/**
 * Result codes returned by every contract call.
 *
 * The first eight are the IDENTOS SDK's codes, kept exactly so scripts written
 * against that SDK read our results the same way. The rest are Sealpost's own
 * additions, used only where none of the SDK's codes fits (docs/codes.md).
 */
export const ResultCode = {
  Success: 0,
  Failed: -1,
  InvalidState: -2,
  InvalidParameter: -29,
  DeviceUnregistered: -50,
  InvalidPin: -101,
  WrongPin: -102,
  NoInternetAccess: -200,
  // Sealpost additions
  /** Too many wrong PINs: wait `retryAfterMs`, or (after the limit) key material was wiped. */
  LockedOut: -103,
  /** The engine is locked: authenticate(pin) first. */
  Locked: -104,
  NotFound: -404,
  /** Stale version or a concurrent change: fetch, merge, retry. */
  Conflict: -409,
  /** Ciphertext failed authentication, was truncated, or is for another key. */
  Tampered: -420,
  /** Format version newer than this build understands. */
  UnsupportedVersion: -421,
  /** Sender signature missing or invalid. */
  BadSignature: -422,
  /** No key is stored for this profile yet: run init. */
  NoIdentity: -51,
  /** The organisation's managed policy forbids this; `details.policy` names the setting (docs/deploy.md). */
  PolicyForbidden: -430,
  /** The managed policy cannot be read or is invalid: nothing is changed until IT fixes it (docs/deploy.md). */
  PolicyInvalid: -431,
} as const;

export type ResultCodeName = keyof typeof ResultCode;
export type ResultCodeValue = (typeof ResultCode)[ResultCodeName];

const names = new Map<number, ResultCodeName>(
  (Object.keys(ResultCode) as ResultCodeName[]).map((name) => [ResultCode[name], name]),
);

/** The name of a numeric result code, or "Unknown" for a code this build does not know. */
export function resultCodeName(code: number): ResultCodeName | 'Unknown' {
  return names.get(code) ?? 'Unknown';
}

/** What every contract call returns. */
export type Result<T> =
  | { code: 0; value: T }
  | { code: Exclude<ResultCodeValue, 0>; message: string; details?: Record<string, unknown> };

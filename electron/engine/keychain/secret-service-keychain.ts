/**
 * The OS keychain through keytar (libsecret / Secret Service on Linux, Keychain on
 * macOS, Credential Manager on Windows). keytar's repository is archived; this
 * adapter and the {@link Keychain} interface are what let us swap it.
 *
 * Entries: service "Sealpost", account "<profile>/<purpose>", value base64 of the
 * sealed bytes (keytar stores strings). keytar's not-found (null/false) maps to
 * null/false; every keytar failure becomes a KeychainError 'unavailable'.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  checkAccount,
  checkOsKeychainFit,
  checkProfileName,
  checkValue,
  entryName,
  fromBase64,
  type Keychain,
  type KeychainAccount,
  KeychainError,
  KEYCHAIN_SERVICE,
  toBase64,
} from './types.js';

/** The part of keytar's API we use (injectable, so tests can fake a hanging keyring). */
export interface KeytarApi {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

/**
 * Loads keytar (CommonJS, native). Returns the reason instead of throwing, because
 * a missing or mis-built native module is a reason to fall back, not to crash.
 */
export function loadKeytar(): { keytar: KeytarApi } | { error: string } {
  try {
    const required = createRequire(import.meta.url)('keytar') as KeytarApi & { default?: KeytarApi };
    const keytar = typeof required.getPassword === 'function' ? required : required.default;
    if (!keytar || typeof keytar.getPassword !== 'function') return { error: 'keytar has an unexpected shape' };
    return { keytar };
  } catch (e) {
    return { error: `keytar could not be loaded: ${(e as Error).message.split('\n')[0] ?? 'unknown error'}` };
  }
}

/** A {@link Keychain} in the OS keychain. Use {@link probeSecretService} before choosing it. */
export class SecretServiceKeychain implements Keychain {
  readonly backend = 'secret-service' as const;
  private readonly profileName: string;

  /** @throws {KeychainError} 'invalid-input' for a bad profile name */
  constructor(
    private readonly keytar: KeytarApi,
    profileName: string,
    private readonly service: string = KEYCHAIN_SERVICE,
  ) {
    this.profileName = checkProfileName(profileName);
  }

  async get(account: KeychainAccount): Promise<Uint8Array | null> {
    const name = entryName(this.profileName, checkAccount(account));
    const value = await this.call(() => this.keytar.getPassword(this.service, name));
    return value === null || value === undefined ? null : fromBase64(value, 'keychain entry');
  }

  async set(account: KeychainAccount, value: Uint8Array): Promise<void> {
    const name = entryName(this.profileName, checkAccount(account));
    // Refused here, on every OS, rather than by Credential Manager on Windows only.
    const encoded = checkOsKeychainFit(toBase64(checkValue(value)), account);
    await this.call(() => this.keytar.setPassword(this.service, name, encoded));
  }

  async delete(account: KeychainAccount): Promise<boolean> {
    const name = entryName(this.profileName, checkAccount(account));
    return (await this.call(() => this.keytar.deletePassword(this.service, name))) === true;
  }

  private async call<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (e) {
      throw new KeychainError('unavailable', `the OS keychain refused the request: ${firstLine(e)}`, { cause: e });
    }
  }
}

export interface ProbeOptions {
  profileName: string;
  service?: string;
  /** Give up after this long (default 3000 ms): a wedged D-Bus peer can take 25 s to time out. */
  timeoutMs?: number;
  /** keytar to use; default {@link loadKeytar}. */
  keytar?: KeytarApi;
  /** Environment to inspect (default process.env). */
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
}

export type ProbeResult = { ok: true; keytar: KeytarApi } | { ok: false; reason: string };

/**
 * Does a Secret Service answer? Cheap checks first (on Linux: is there a D-Bus
 * session address, does its socket exist), then a bounded round trip (set, get,
 * delete a probe entry): a read alone can succeed where a write fails (e.g. a
 * keyring daemon with no default collection), and we must be able to write.
 *
 * Never throws. On timeout the keytar call may still finish later on a libuv
 * thread; the D-Bus default timeout (25 s) bounds it.
 */
export async function probeSecretService(options: ProbeOptions): Promise<ProbeResult> {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const timeoutMs = options.timeoutMs ?? 3000;
  if (platform !== 'darwin' && platform !== 'win32') {
    const busProblem = dbusProblem(env);
    if (busProblem) return { ok: false, reason: busProblem };
  }
  let keytar = options.keytar;
  if (!keytar) {
    const loaded = loadKeytar();
    if ('error' in loaded) return { ok: false, reason: loaded.error };
    keytar = loaded.keytar;
  }
  const service = options.service ?? KEYCHAIN_SERVICE;
  let account: string;
  try {
    account = entryName(checkProfileName(options.profileName), '.probe');
  } catch (e) {
    return { ok: false, reason: firstLine(e) };
  }
  const token = randomBytes(12).toString('base64');
  const k = keytar;
  const roundTrip = async (): Promise<ProbeResult> => {
    await k.setPassword(service, account, token);
    const back = await k.getPassword(service, account);
    await k.deletePassword(service, account);
    return back === token ? { ok: true, keytar: k } : { ok: false, reason: 'the Secret Service did not return what was stored' };
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: `no answer from the Secret Service within ${timeoutMs} ms` }), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([
      roundTrip().catch((e: unknown): ProbeResult => ({ ok: false, reason: `the Secret Service refused: ${firstLine(e)}` })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Why libsecret cannot reach a session bus, or null when it may. Without
 * DBUS_SESSION_BUS_ADDRESS libdbus can only autolaunch under X11; an address whose
 * unix sockets all do not exist fails at once. Abstract/TCP addresses are left to
 * the round trip.
 */
export function dbusProblem(env: NodeJS.ProcessEnv): string | null {
  const address = env.DBUS_SESSION_BUS_ADDRESS;
  if (!address) return env.DISPLAY ? null : 'no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)';
  const entries = address.split(';').filter((a) => a.length > 0);
  const paths = entries.map((entry) => /^unix:(?:.*,)?path=([^,]+)/.exec(entry)?.[1]);
  if (paths.length > 0 && paths.every((p) => p !== undefined && !existsSync(decodeDbus(p)))) {
    return 'the D-Bus session socket does not exist';
  }
  return null;
}

/** D-Bus addresses %-escape bytes. */
const decodeDbus = (p: string): string => {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
};

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]?.slice(0, 200) ?? 'unknown error';

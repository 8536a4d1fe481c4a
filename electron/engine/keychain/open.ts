/**
 * Chooses the keychain backend for a profile (design §3): the OS Secret Service
 * when one answers, otherwise the sealed file fallback, and says why.
 *
 * Choice is sticky per profile, so keys never seem to vanish:
 * - a profile whose keychain.json already holds entries keeps using the file
 *   (keys are not silently migrated; the UI can offer that);
 * - a profile that once chose the Secret Service (marker file `keychain-backend`)
 *   refuses to fall back when the Secret Service is not answering now, e.g. a CLI
 *   over SSH without the desktop session. Falling back would show "no identity" and
 *   invite creating a second one; an error saying where the keys are is better.
 * `prefer: 'file'` or `'secret-service'` overrides both.
 * @module
 */
import { readFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { FileKeychain, writeAtomic } from './file-keychain.js';
import { type KeytarApi, probeSecretService, SecretServiceKeychain } from './secret-service-keychain.js';
import { checkProfileName, type Keychain, KeychainError, KEYCHAIN_SERVICE } from './types.js';

/** Marker file recording that this profile keeps its keys in the Secret Service. */
export const BACKEND_MARKER = 'keychain-backend';

export interface OpenKeychainOptions {
  /** The profile directory (keychain.json and the marker live here). */
  profileDir: string;
  /** Names the profile in OS keychain accounts ("<profileName>/<purpose>"). */
  profileName: string;
  /** 'auto' (default): Secret Service if it answers, else file. */
  prefer?: 'auto' | 'file' | 'secret-service';
  /** Probe timeout (default 3000 ms). */
  probeTimeoutMs?: number;
  /** OS keychain service name (default "Sealpost"). */
  service?: string;
  /** For tests: the keytar to use. */
  keytar?: KeytarApi;
  /** For tests: the environment the probe inspects. */
  env?: NodeJS.ProcessEnv;
}

/**
 * A keychain plus a one-line, user-presentable reason for the backend choice, and
 * the profile folder (where the PIN vault keeps the sealed identity file).
 */
export type OpenedKeychain = Keychain & { readonly reason: string; readonly profileDir: string };

/**
 * @throws {KeychainError} 'invalid-input' (bad profile name); 'unavailable' when
 *   prefer is 'secret-service', or the profile is marked as using it, and no
 *   Secret Service answers; 'io' when the marker cannot be read or written
 */
export async function openKeychain(options: OpenKeychainOptions): Promise<OpenedKeychain> {
  const profileName = checkProfileName(options.profileName);
  const prefer = options.prefer ?? 'auto';
  const file = new FileKeychain(options.profileDir, profileName);
  if (prefer === 'file') return withReason(file, 'file keychain requested', options.profileDir);
  if (prefer === 'auto' && (await file.hasEntries())) return withReason(file, 'this profile already keeps its keys in keychain.json', options.profileDir);

  const service = options.service ?? KEYCHAIN_SERVICE;
  const probe = await probeSecretService({
    profileName,
    service,
    ...(options.probeTimeoutMs !== undefined && { timeoutMs: options.probeTimeoutMs }),
    ...(options.keytar && { keytar: options.keytar }),
    ...(options.env && { env: options.env }),
  });
  const markerPath = path.join(options.profileDir, BACKEND_MARKER);
  if (probe.ok) {
    await writeMarker(options.profileDir, markerPath);
    return withReason(new SecretServiceKeychain(probe.keytar, profileName, service), 'the OS Secret Service answered', options.profileDir);
  }
  if (prefer === 'secret-service') {
    throw new KeychainError('unavailable', `the OS keychain is not available: ${probe.reason}`);
  }
  if ((await readMarker(markerPath)) === 'secret-service') {
    throw new KeychainError(
      'unavailable',
      `this profile keeps its keys in the OS keychain (Secret Service), which is not available now: ${probe.reason}`,
    );
  }
  return withReason(file, `no Secret Service (${probe.reason}); keys are PIN-sealed in keychain.json`, options.profileDir);
}

function withReason<K extends Keychain>(keychain: K, reason: string, profileDir: string): K & { readonly reason: string; readonly profileDir: string } {
  Object.defineProperty(keychain, 'reason', { value: reason, enumerable: true });
  if (!('profileDir' in keychain)) Object.defineProperty(keychain, 'profileDir', { value: profileDir, enumerable: true });
  return keychain as K & { readonly reason: string; readonly profileDir: string };
}

async function readMarker(markerPath: string): Promise<string | null> {
  try {
    return (await readFile(markerPath, 'utf8')).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new KeychainError('io', `cannot read ${BACKEND_MARKER}`, { cause: e });
  }
}

async function writeMarker(profileDir: string, markerPath: string): Promise<void> {
  try {
    if ((await readMarker(markerPath)) === 'secret-service') return;
    await mkdir(profileDir, { recursive: true, mode: 0o700 });
    await writeAtomic(markerPath, 'secret-service\n');
  } catch (e) {
    if (e instanceof KeychainError) throw e;
    throw new KeychainError('io', `cannot write ${BACKEND_MARKER}`, { cause: e });
  }
}

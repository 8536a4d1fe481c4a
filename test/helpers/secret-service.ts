/**
 * A real Secret Service for the keychain tests: a private D-Bus session bus plus
 * gnome-keyring-daemon with a throwaway, unlocked "login" keyring in a temp
 * XDG_DATA_HOME, so tests never touch a developer's own keyring.
 *
 * Under scripts/with-keyring.sh (SEALPOST_KEYRING_READY and GNOME_KEYRING_CONTROL
 * set) the keyring that script made is reused. libsecret reads
 * DBUS_SESSION_BUS_ADDRESS at its first call, so set it (see {@link useSecretService})
 * before the first keytar call in the test process; vitest's forks pool gives each
 * test file its own process.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface SecretService {
  /** Environment pointing at the bus (also the keyring's XDG dirs). */
  env: { DBUS_SESSION_BUS_ADDRESS: string; XDG_DATA_HOME?: string };
  /** True when an already prepared keyring (with-keyring.sh) is used. */
  reused: boolean;
  stop(): Promise<void>;
}

const BINARIES = ['dbus-daemon', 'gnome-keyring-daemon'];

function onPath(bin: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir, bin), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Why no Secret Service can be started here, or null when it can. Synchronous, for describe.skipIf. */
export function secretServiceMissing(): string | null {
  if (process.platform !== 'linux') return `the Secret Service test runs on Linux (this is ${process.platform})`;
  if (reusable()) return null;
  const missing = BINARIES.filter((b) => !onPath(b));
  return missing.length ? `not installed: ${missing.join(', ')} (Debian: apt-get install dbus gnome-keyring)` : null;
}

const reusable = (): boolean =>
  !!process.env.SEALPOST_KEYRING_READY && !!process.env.GNOME_KEYRING_CONTROL && !!process.env.DBUS_SESSION_BUS_ADDRESS;

/**
 * Starts (or reuses) a private bus + unlocked gnome-keyring.
 * @throws when something is missing or does not come up within 10 s
 */
export async function startSecretService(): Promise<SecretService> {
  if (reusable()) {
    return { env: { DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS! }, reused: true, stop: async () => undefined };
  }
  const missing = secretServiceMissing();
  if (missing) throw new Error(`no Secret Service for the keychain tests: ${missing}`);
  const root = mkdtempSync(path.join(os.tmpdir(), 'sealpost-keyring-'));
  const data = path.join(root, 'data');
  const run = path.join(root, 'run');
  mkdirSync(data, { mode: 0o700 });
  mkdirSync(run, { mode: 0o700 });
  const baseEnv: NodeJS.ProcessEnv = { ...process.env, XDG_DATA_HOME: data, XDG_RUNTIME_DIR: run, HOME: root };
  delete baseEnv.DBUS_SESSION_BUS_ADDRESS;
  const bus = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { env: baseEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = async (): Promise<void> => {
    await killAndWait(bus);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const address = await firstLine(bus, 10_000);
    await new Promise<void>((resolve, reject) => {
      const child = execFile(
        'gnome-keyring-daemon',
        ['--unlock', '--components=secrets'],
        { env: { ...baseEnv, DBUS_SESSION_BUS_ADDRESS: address }, timeout: 10_000 },
        (err) => (err ? reject(new Error(`gnome-keyring-daemon failed: ${err.message}`)) : resolve()),
      );
      child.stdin?.end('pass');
    });
    return { env: { DBUS_SESSION_BUS_ADDRESS: address, XDG_DATA_HOME: data }, reused: false, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Starts a Secret Service and points this process's libsecret at it. */
export async function useSecretService(): Promise<SecretService> {
  const service = await startSecretService();
  process.env.DBUS_SESSION_BUS_ADDRESS = service.env.DBUS_SESSION_BUS_ADDRESS;
  return service;
}

function firstLine(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`dbus-daemon printed no address within ${timeoutMs} ms: ${err}`)), timeoutMs);
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl).trim());
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dbus-daemon exited (${code}): ${err}`));
    });
  });
}

/** SIGTERM the bus (gnome-keyring-daemon exits when its bus goes away). */
async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

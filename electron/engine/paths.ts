/**
 * Where a profile lives when nobody says otherwise. The desktop app, the browser
 * mode and the CLI agree on it, so `sealpost` in a terminal opens the same
 * profile as the app: SEALPOST_PROFILE, else the OS's per-user app data folder
 * (Linux: $XDG_CONFIG_HOME/Sealpost, macOS: ~/Library/Application Support/Sealpost,
 * Windows: %APPDATA%\Sealpost) + "/profile".
 * @module
 */
import os from 'node:os';
import path from 'node:path';

export function appDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Sealpost');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Sealpost');
  return path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'Sealpost');
}

export function defaultProfileDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.SEALPOST_PROFILE || path.join(appDataDir(env), 'profile');
}

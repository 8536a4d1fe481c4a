/**
 * Finds an installed Electron binary without trying to download one.
 *
 * `require('electron')` is not usable for the question "is there a binary?":
 * since Electron 45 it starts a download when the binary is missing, which
 * here fails after a network attempt and prints a stack. This reads the same
 * files it does (path.txt + dist/, or ELECTRON_OVERRIDE_DIST_PATH) instead.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Absolute path of the Electron executable, or null when none is installed. */
export function findElectronBinary(env: NodeJS.ProcessEnv = process.env): string | null {
  let packageDir: string;
  try {
    packageDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return null;
  }
  const pathFile = join(packageDir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  const candidate = env.ELECTRON_OVERRIDE_DIST_PATH
    ? join(env.ELECTRON_OVERRIDE_DIST_PATH, relative || 'electron')
    : relative
      ? join(packageDir, 'dist', relative)
      : null;
  return candidate && existsSync(candidate) ? candidate : null;
}

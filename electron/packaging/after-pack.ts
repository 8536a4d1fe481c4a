/**
 * electron-builder's afterPack hook (electron-builder.yml `afterPack`, run from the
 * tsc build in dist/): flips the Electron fuses of the packed app (fuses.ts), then
 * reads them back. It runs after the app and its extra resources are in place and
 * before electron-builder signs, so the signature covers the flipped bits.
 *
 * Fails the package rather than ship a binary that is not hardened, or one that
 * cannot start (OnlyLoadAppFromAsar without an app.asar).
 * @module
 */
import { existsSync } from 'node:fs';
import { flipFuses, getCurrentFuseWire, FuseV1Options, type FuseV1Config } from '@electron/fuses';
import { asarPath, electronBinaryPath, fuseConfig, parsePackedApp, SEALPOST_FUSES, type FuseName } from './fuses.js';

/** The fuse wire stores each fuse as an ASCII digit ('r' = removed by Electron). */
const WIRE_ON = '1'.charCodeAt(0);
const WIRE_OFF = '0'.charCodeAt(0);

/** What the hook does to files; @electron/fuses unless a test passes its own. */
export interface FuseTools {
  flipFuses: (pathToElectron: string, config: FuseV1Config) => Promise<number>;
  readFuses: (pathToElectron: string) => Promise<Record<string, unknown>>;
  exists: (file: string) => boolean;
  /** One line in electron-builder's output saying what was flipped where. */
  log: (line: string) => void;
}

/** @electron/fuses on the real files. */
export const defaultFuseTools: FuseTools = {
  flipFuses,
  readFuses: async (file) => (await getCurrentFuseWire(file)) as unknown as Record<string, unknown>,
  exists: existsSync,
  log: (line) => console.log(line),
};

/** Fuses whose state in the binary differs from SEALPOST_FUSES, as "Name (found x)". */
export function fuseMismatches(wire: Record<string, unknown>): string[] {
  const wrong: string[] = [];
  for (const [name, on] of Object.entries(SEALPOST_FUSES) as [FuseName, boolean][]) {
    const found = wire[FuseV1Options[name]];
    if (found !== (on ? WIRE_ON : WIRE_OFF)) {
      wrong.push(`${name} (found ${typeof found === 'number' ? String.fromCharCode(found) : 'nothing'})`);
    }
  }
  return wrong;
}

/** The hook, with the file tools it uses (tests pass their own for what needs macOS). */
export function createAfterPack(tools: FuseTools = defaultFuseTools): (context: unknown) => Promise<void> {
  return async (context) => {
    const app = parsePackedApp(context);
    const asar = asarPath(app);
    if (!tools.exists(asar)) {
      throw new Error(`afterPack: ${asar} is missing; with OnlyLoadAppFromAsar on the app would not start (keep asar packing on in electron-builder.yml)`);
    }
    const binary = electronBinaryPath(app);
    try {
      await tools.flipFuses(binary, fuseConfig(app));
    } catch (error) {
      throw new Error(`afterPack: could not flip the Electron fuses in ${binary}: ${(error as Error).message}`);
    }
    const wrong = fuseMismatches(await tools.readFuses(binary));
    if (wrong.length > 0) throw new Error(`afterPack: fuses not as configured in ${binary}: ${wrong.join(', ')}`);
    const summary = Object.entries(SEALPOST_FUSES).map(([name, on]) => `${name}=${on ? 'on' : 'off'}`).join(' ');
    tools.log(`  • fuses flipped and read back  ${binary}: ${summary}`);
  };
}

/** electron-builder looks for this export by the hook's name. */
export const afterPack = createAfterPack();
export default afterPack;

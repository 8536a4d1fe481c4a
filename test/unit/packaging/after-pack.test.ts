/**
 * The afterPack hook (electron/packaging/): the fuse configuration, and the hook run on
 * fake packed-app folders laid out as electron-builder leaves them for Linux, Windows
 * and macOS, with the real @electron/fuses flipping the bytes and reading them back.
 *
 * No Electron binary can be downloaded here, so the "binary" is a synthetic file that
 * carries what @electron/fuses looks for: the sentinel, wire version 1 and a 9-fuse
 * wire in Electron 45's default states. That proves the path, the bytes written and
 * the read-back; it does not prove that a real Electron honours them (docs/deploy.md
 * says how IT checks a built package). Where the real library would run macOS's
 * `codesign` (arm64 builds), the test passes the hook its own file tools instead.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FuseV1Options, FuseVersion, getCurrentFuseWire, type FuseV1Config } from '@electron/fuses';
import { Arch } from 'electron-builder';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAfterPack, defaultFuseTools, fuseMismatches, type FuseTools } from '../../../electron/packaging/after-pack.js';
import { fuseConfig, parsePackedApp, SEALPOST_FUSES } from '../../../electron/packaging/fuses.js';

/** The marker Electron's build writes right before the fuse wire. */
const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
/** Electron 43+ defaults, in wire order (the 9th, WasmTrapHandlers, is unknown to @electron/fuses 1.x). */
const ELECTRON_DEFAULT_WIRE = '101100011';
/** What the hook must leave: SEALPOST_FUSES in wire order, WasmTrapHandlers untouched. */
const HARDENED_WIRE = '010011011';

const PREFIX = Buffer.alloc(4096, 0x7f);
const SUFFIX = Buffer.from('\0rest of the binary\0'.repeat(50));

function fakeElectron(wire = ELECTRON_DEFAULT_WIRE): Buffer {
  return Buffer.concat([PREFIX, Buffer.from(SENTINEL), Buffer.from([1, wire.length]), Buffer.from(wire), SUFFIX]);
}

/** The wire bytes of a synthetic binary, checking nothing else in it changed. */
function wireOf(file: string): string {
  const bytes = readFileSync(file);
  const at = PREFIX.length + SENTINEL.length + 2;
  expect(bytes.length).toBe(fakeElectron().length);
  expect(bytes.subarray(0, at).equals(fakeElectron().subarray(0, at))).toBe(true);
  expect(bytes.subarray(at + ELECTRON_DEFAULT_WIRE.length).equals(SUFFIX)).toBe(true);
  return bytes.subarray(at, at + ELECTRON_DEFAULT_WIRE.length).toString('latin1');
}

/** The hook as electron-builder runs it (real @electron/fuses), its log line kept for asserts. */
const logged: string[] = [];
const afterPack = createAfterPack({ ...defaultFuseTools, log: (line) => logged.push(line) });

function writeFile(file: string, content: Buffer | string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

let dir: string;
beforeEach(() => {
  logged.length = 0;
  dir = mkdtempSync(path.join(os.tmpdir(), 'sealpost-afterpack-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

type Platform = 'linux' | 'win32' | 'darwin' | 'mas';
function context(platform: Platform, arch = Arch.x64) {
  const packager = platform === 'linux' ? { appInfo: { productFilename: 'Sealpost' }, executableName: 'sealpost' } : { appInfo: { productFilename: 'Sealpost' } };
  return { appOutDir: dir, electronPlatformName: platform, arch, packager, outDir: path.dirname(dir), targets: [] };
}

/** A packed app folder as electron-builder leaves it; returns the file that holds the fuse wire. */
function packedApp(platform: 'linux' | 'win32' | 'darwin'): string {
  if (platform === 'darwin') {
    writeFile(path.join(dir, 'Sealpost.app', 'Contents', 'Resources', 'app.asar'), 'asar');
    writeFile(path.join(dir, 'Sealpost.app', 'Contents', 'MacOS', 'Sealpost'), 'launcher stub');
    return writeFile(path.join(dir, 'Sealpost.app', 'Contents', 'Frameworks', 'Electron Framework.framework', 'Electron Framework'), fakeElectron());
  }
  writeFile(path.join(dir, 'resources', 'app.asar'), 'asar');
  return writeFile(path.join(dir, platform === 'win32' ? 'Sealpost.exe' : 'sealpost'), fakeElectron());
}

/** File tools that record the flip and answer the read-back, for what needs macOS. */
function recordingTools(answer: string = HARDENED_WIRE) {
  const flips: { file: string; config: FuseV1Config }[] = [];
  const tools: FuseTools = {
    flipFuses: async (file, config) => {
      flips.push({ file, config });
      return 1;
    },
    readFuses: async () => ({ version: '1', ...Object.fromEntries([...answer].map((c, i) => [i, c.charCodeAt(0)])) }),
    exists: () => true,
    log: () => {},
  };
  return { flips, tools };
}

describe('fuse configuration', () => {
  it('sets every fuse @electron/fuses knows, to the hardened state', () => {
    const config = fuseConfig(parsePackedApp(context('linux'))) as unknown as Record<string | number, unknown>;
    expect(config.version).toBe(FuseVersion.V1);
    expect(config.strictlyRequireAllFuses).toBe(false);
    expect(config[FuseV1Options.RunAsNode]).toBe(false);
    expect(config[FuseV1Options.EnableNodeOptionsEnvironmentVariable]).toBe(false);
    expect(config[FuseV1Options.EnableNodeCliInspectArguments]).toBe(false);
    expect(config[FuseV1Options.EnableCookieEncryption]).toBe(true);
    expect(config[FuseV1Options.EnableEmbeddedAsarIntegrityValidation]).toBe(true);
    expect(config[FuseV1Options.OnlyLoadAppFromAsar]).toBe(true);
    expect(config[FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]).toBe(false);
    // Kept on: the renderer is loaded from file:// inside app.asar (fuses.ts says why).
    expect(config[FuseV1Options.GrantFileProtocolExtraPrivileges]).toBe(true);
    const known = Object.values(FuseV1Options).filter((v): v is number => typeof v === 'number');
    expect(known.filter((index) => typeof config[index] !== 'boolean')).toEqual([]);
    expect(Object.keys(SEALPOST_FUSES).sort()).toEqual(known.map((index) => FuseV1Options[index]).sort());
  });

  it('resets the ad-hoc signature only for Apple Silicon macOS builds', () => {
    const reset = (platform: Platform, arch: Arch) => fuseConfig(parsePackedApp(context(platform, arch))).resetAdHocDarwinSignature;
    expect(reset('darwin', Arch.arm64)).toBe(true);
    expect(reset('darwin', Arch.universal)).toBe(true);
    expect(reset('darwin', Arch.x64)).toBe(false);
    expect(reset('mas', Arch.arm64)).toBe(false);
    expect(reset('linux', Arch.arm64)).toBe(false);
    expect(reset('win32', Arch.arm64)).toBe(false);
  });

  it('refuses a context it was not written for, naming the field', () => {
    expect(() => parsePackedApp({ ...context('linux'), packager: { appInfo: { productFilename: 'Sealpost' } } })).toThrow(/executableName missing for linux/);
    expect(() => parsePackedApp({ ...context('win32'), packager: { appInfo: {} } })).toThrow(/packager\.appInfo\.productFilename/);
    expect(() => parsePackedApp({ ...context('linux'), electronPlatformName: 'aix' })).toThrow(/electronPlatformName/);
    expect(() => parsePackedApp(null)).toThrow(/unexpected electron-builder context/);
  });
});

describe('afterPack with the real @electron/fuses on a synthetic binary', () => {
  it.each(['linux', 'win32', 'darwin'] as const)('%s: flips the fuses in the packed binary and nothing else', async (platform) => {
    const binary = packedApp(platform);
    // On Linux the executable is `sealpost` (executableName), not the product name.
    const decoy = platform === 'linux' ? writeFile(path.join(dir, 'Sealpost'), fakeElectron()) : null;

    await afterPack(context(platform));

    expect(wireOf(binary)).toBe(HARDENED_WIRE);
    if (decoy) expect(wireOf(decoy)).toBe(ELECTRON_DEFAULT_WIRE);
    expect(logged).toEqual([expect.stringMatching(/fuses flipped and read back .*RunAsNode=off .*OnlyLoadAppFromAsar=on/)]);
    // Read back by @electron/fuses itself, as `npx @electron/fuses read` does.
    const appPath = platform === 'darwin' ? path.join(dir, 'Sealpost.app') : binary;
    expect(fuseMismatches((await getCurrentFuseWire(appPath)) as unknown as Record<string, unknown>)).toEqual([]);
  });

  it('is idempotent: a second run leaves the same bytes', async () => {
    const binary = packedApp('win32');
    await afterPack(context('win32'));
    await afterPack(context('win32'));
    expect(wireOf(binary)).toBe(HARDENED_WIRE);
  });

  it('refuses a build without app.asar (OnlyLoadAppFromAsar would leave an app that cannot start) and flips nothing', async () => {
    const binary = packedApp('linux');
    rmSync(path.join(dir, 'resources', 'app.asar'));
    await expect(afterPack(context('linux'))).rejects.toThrow(/resources\/app\.asar is missing; with OnlyLoadAppFromAsar on the app would not start/);
    expect(wireOf(binary)).toBe(ELECTRON_DEFAULT_WIRE);
  });

  it('fails the build when the binary has no fuse wire, naming the file', async () => {
    packedApp('win32');
    writeFileSync(path.join(dir, 'Sealpost.exe'), Buffer.alloc(8192, 0x90));
    await expect(afterPack(context('win32'))).rejects.toThrow(/could not flip the Electron fuses in .*Sealpost\.exe: Could not find sentinel/);
  });

  it('fails the build when the Electron wire is too short for a configured fuse', async () => {
    const binary = packedApp('linux');
    writeFileSync(binary, Buffer.concat([PREFIX, Buffer.from(SENTINEL), Buffer.from([1, 4]), Buffer.from('1011'), SUFFIX]));
    await expect(afterPack(context('linux'))).rejects.toThrow(/could not flip the Electron fuses in .*sealpost: .*not long enough/);
  });
});

describe('afterPack with recording file tools (macOS arm64 would run codesign)', () => {
  it('darwin arm64: flips the .app bundle with the ad-hoc signature reset', async () => {
    const { flips, tools } = recordingTools();
    await createAfterPack(tools)(context('darwin', Arch.arm64));
    expect(flips).toHaveLength(1);
    expect(flips[0]?.file).toBe(path.join(dir, 'Sealpost.app'));
    expect(flips[0]?.config).toEqual(fuseConfig(parsePackedApp(context('darwin', Arch.arm64))));
    expect(flips[0]?.config.resetAdHocDarwinSignature).toBe(true);
  });

  it('fails the build when the read-back differs, naming each fuse and what was found', async () => {
    const stillOpen = `11${HARDENED_WIRE.slice(2, 7)}r${HARDENED_WIRE.slice(8)}`;
    const { tools } = recordingTools(stillOpen);
    await expect(createAfterPack(tools)(context('win32'))).rejects.toThrow(
      /fuses not as configured in .*Sealpost\.exe: RunAsNode \(found 1\), GrantFileProtocolExtraPrivileges \(found r\)/,
    );
    expect(fuseMismatches({ version: '1' })).toHaveLength(Object.keys(SEALPOST_FUSES).length);
  });
});

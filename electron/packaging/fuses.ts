/**
 * The Electron fuses of the packaged app, and where electron-builder puts the
 * binary that carries them. Build time only (electron-builder's afterPack hook,
 * after-pack.ts); nothing here ships in the app.
 *
 * Fuses are bits in the Electron binary, flipped before code signing so the OS
 * signature check keeps them from being flipped back. docs/deploy.md "Packaging
 * hardening" says why each is set as it is and how IT reads them off a package.
 * @module
 */
import path from 'node:path';
import { FuseV1Options, FuseVersion, type FuseV1Config } from '@electron/fuses';
import { Arch } from 'electron-builder';
import { z } from 'zod';

/**
 * Every fuse the installed @electron/fuses knows, set explicitly (`satisfies` fails
 * the type check when an upgrade adds one, so a new fuse is a decision, not a default).
 */
export const SEALPOST_FUSES = {
  // ELECTRON_RUN_AS_NODE would turn the signed binary into a plain Node runtime.
  // The app forks nothing (the engine runs in the main process).
  RunAsNode: false,
  // Chromium's cookie store encrypted with the OS key store (Keychain, DPAPI, Secret Service).
  EnableCookieEncryption: true,
  // NODE_OPTIONS (e.g. --require) would inject code into the main process, where the
  // keys live. This also makes the app ignore NODE_EXTRA_CA_CERTS (docs/deploy.md).
  EnableNodeOptionsEnvironmentVariable: false,
  // --inspect / SIGUSR1 would open a debugger on the main process.
  EnableNodeCliInspectArguments: false,
  // app.asar checked against the hash electron-builder embeds (macOS Info.plist,
  // Windows resource). Electron has no such check on Linux.
  EnableEmbeddedAsarIntegrityValidation: true,
  // Only resources/app.asar is loaded, never a loose resources/app folder dropped beside it.
  OnlyLoadAppFromAsar: true,
  // Electron's default: one V8 snapshot for every process.
  LoadBrowserProcessSpecificV8Snapshot: false,
  // Kept ON (Electron's default) on purpose: the window loads the renderer from
  // file:// inside app.asar (electron/main/index.ts loadFile). With this fuse off,
  // Electron serves file:// without its asar loader and without file access from
  // file pages, so index.html and its module scripts would not load. Turning it off
  // first needs the renderer served from a custom privileged protocol.
  GrantFileProtocolExtraPrivileges: true,
} as const satisfies Record<keyof typeof FuseV1Options, boolean>;

export type FuseName = keyof typeof SEALPOST_FUSES;

/** What the hook needs of electron-builder's AfterPackContext, checked at the edge. */
const PackedAppSchema = z.object({
  appOutDir: z.string().min(1),
  electronPlatformName: z.enum(['linux', 'win32', 'darwin', 'mas']),
  arch: z.enum(Arch),
  packager: z.object({
    appInfo: z.object({ productFilename: z.string().min(1) }),
    // Only the Linux packager has it: the executable there is not the product name.
    executableName: z.string().min(1).optional(),
  }),
});
export type PackedApp = z.infer<typeof PackedAppSchema>;

/**
 * Parses electron-builder's afterPack context.
 * @throws Error naming the field when the context is not what this hook was written for.
 */
export function parsePackedApp(context: unknown): PackedApp {
  const parsed = PackedAppSchema.safeParse(context);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`afterPack: unexpected electron-builder context (${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'})`);
  }
  if (parsed.data.electronPlatformName === 'linux' && !parsed.data.packager.executableName) {
    throw new Error('afterPack: unexpected electron-builder context (packager.executableName missing for linux)');
  }
  return parsed.data;
}

const isMac = (app: PackedApp) => app.electronPlatformName === 'darwin' || app.electronPlatformName === 'mas';

/**
 * The path flipFuses takes: the executable on Linux and Windows, the .app bundle on
 * macOS (@electron/fuses finds the framework binary inside it). Same naming as
 * electron-builder's own packagers.
 */
export function electronBinaryPath(app: PackedApp): string {
  const product = app.packager.appInfo.productFilename;
  if (isMac(app)) return path.join(app.appOutDir, `${product}.app`);
  if (app.electronPlatformName === 'win32') return path.join(app.appOutDir, `${product}.exe`);
  return path.join(app.appOutDir, app.packager.executableName as string);
}

/** Where the packed app.asar must be for OnlyLoadAppFromAsar to find it. */
export function asarPath(app: PackedApp): string {
  const resources = isMac(app)
    ? path.join(app.appOutDir, `${app.packager.appInfo.productFilename}.app`, 'Contents', 'Resources')
    : path.join(app.appOutDir, 'resources');
  return path.join(resources, 'app.asar');
}

/**
 * The flipFuses configuration for one packed app. resetAdHocDarwinSignature for
 * Apple Silicon slices: flipping breaks the binary's ad-hoc signature, and an
 * unsigned (no identity) arm64 build would not start without a new one; a real
 * identity signs after this hook anyway.
 */
export function fuseConfig(app: PackedApp): FuseV1Config {
  const wire: Partial<Record<FuseV1Options, boolean>> = {};
  for (const [name, on] of Object.entries(SEALPOST_FUSES) as [FuseName, boolean][]) wire[FuseV1Options[name]] = on;
  return {
    version: FuseVersion.V1,
    resetAdHocDarwinSignature: app.electronPlatformName === 'darwin' && (app.arch === Arch.arm64 || app.arch === Arch.universal),
    // Electron 43+ has fuses this @electron/fuses (1.x) does not name (WasmTrapHandlers):
    // they keep Electron's defaults instead of failing the build.
    strictlyRequireAllFuses: false,
    ...wire,
  };
}

/**
 * electron-builder.yml as packaging will read it: accepted by electron-builder's own
 * schema check, the afterPack hook it names resolves (through electron-builder's own
 * loader) to the built electron/packaging/after-pack, nothing flips the fuses twice,
 * per-machine installers, and the policy templates shipped (docs/deploy.md).
 *
 * The afterPack check loads dist/ (the tsc build `npm test` and `npm run package`
 * make first; run `npm run build:node` when running this file alone).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { validateConfiguration } from 'app-builder-lib/out/util/config/config.js';
import { resolveFunction } from 'app-builder-lib/out/util/resolve.js';
import { DebugLogger } from 'builder-util';
import type { Configuration } from 'electron-builder';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const ROOT = path.resolve(import.meta.dirname, '../../..');
// js-yaml is the YAML parser electron-builder itself uses (no types shipped: parsed as unknown, checked below).
const yaml = createRequire(import.meta.url)('js-yaml') as { load: (text: string) => unknown };

/** The parts of the config this file checks; the rest is electron-builder's schema's business. */
const Checked = z.object({
  afterPack: z.string(),
  asar: z.unknown().optional(),
  electronFuses: z.unknown().optional(),
  files: z.array(z.string()),
  extraResources: z.array(z.object({ from: z.string(), to: z.string() })),
  linux: z.object({ target: z.array(z.string()) }),
  deb: z.object({ fpm: z.array(z.string()) }),
  win: z.object({ target: z.array(z.string()) }),
  nsis: z.object({ oneClick: z.boolean(), perMachine: z.boolean(), allowElevation: z.boolean() }),
  msi: z.object({ perMachine: z.boolean() }),
});

const raw = yaml.load(readFileSync(path.join(ROOT, 'electron-builder.yml'), 'utf8'));
const config = Checked.parse(raw);

describe('electron-builder.yml', () => {
  it('passes electron-builder\'s own configuration schema', async () => {
    await expect(validateConfiguration(raw as Configuration, new DebugLogger(false))).resolves.toBeUndefined();
    // The check is real: a misspelt option is refused.
    const misspelt = { ...(raw as Configuration), msi: { perMachne: true } } as unknown as Configuration;
    await expect(validateConfiguration(misspelt, new DebugLogger(false))).rejects.toThrow(/configuration\.msi/);
  });

  it('runs the fuse hook from the tsc build of electron/packaging/after-pack.ts, built before packaging', () => {
    expect(config.afterPack).toBe('./dist/electron/packaging/after-pack.js');
    expect(existsSync(path.join(ROOT, 'electron/packaging/after-pack.ts'))).toBe(true);
    const tsconfig = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.node.json'), 'utf8')) as { compilerOptions: { outDir: string; rootDir: string }; include: string[] };
    expect(tsconfig.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: '.' });
    expect(tsconfig.include).toContain('electron/**/*.ts');
    const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.package).toMatch(/^npm run build && electron-builder /);
    expect(scripts.build).toContain('npm run build:node');
    // Build-time code stays out of the app.
    expect(config.files.some((pattern) => pattern.startsWith('dist'))).toBe(false);
  });

  it('names a hook electron-builder can load: its loader returns our afterPack', async () => {
    const built = path.join(ROOT, config.afterPack);
    expect(existsSync(built), `${built} is missing: run npm run build:node`).toBe(true);
    const hook = await resolveFunction<(context: unknown) => Promise<void>>(undefined, config.afterPack, 'afterPack', ROOT);
    expect(typeof hook).toBe('function');
    await expect(hook({ appOutDir: '/nowhere' })).rejects.toThrow(/^afterPack: unexpected electron-builder context \(electronPlatformName/);
  });

  it('installs the Linux app as sealpost-desktop, so it does not shadow the `sealpost` command line', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(Object.keys(pkg.bin)).toContain('sealpost');
    expect((raw as { linux: { executableName?: string } }).linux.executableName).toBe('sealpost-desktop');
  });

  it('flips the fuses in one place only, and packs app.asar (OnlyLoadAppFromAsar needs it)', () => {
    expect(config.electronFuses).toBeUndefined();
    expect(config.asar).not.toBe(false);
  });

  it('builds per-machine Windows installers: the MSI always (ALLUSERS=1), NSIS on /allusers', () => {
    expect(config.win.target).toEqual(expect.arrayContaining(['nsis', 'msi']));
    expect(config.msi.perMachine).toBe(true);
    // The assisted installer reads /allusers and /currentuser; the one-click one does not.
    expect(config.nsis).toMatchObject({ oneClick: false, allowElevation: true });
  });

  it('ships the policy templates in every package, and the Linux example in the deb', () => {
    expect(config.linux.target).toEqual(expect.arrayContaining(['deb', 'AppImage']));
    expect(config.extraResources).toContainEqual({ from: 'resources/policy', to: 'policy' });
    for (const file of ['sealpost.admx', 'en-US/sealpost.adml', 'sealpost.mobileconfig', 'policy.example.json', 'README.md']) {
      expect(existsSync(path.join(ROOT, 'resources/policy', file)), file).toBe(true);
    }
    for (const mapping of config.deb.fpm) {
      const [from, to] = mapping.split('=');
      expect(existsSync(path.join(ROOT, from ?? '')), mapping).toBe(true);
      expect(to, mapping).toMatch(/^\/usr\/share\/doc\/sealpost\//);
    }
    expect(config.deb.fpm.map((m) => m.split('=')[1])).toContain('/usr/share/doc/sealpost/policy.example.json');
  });
});

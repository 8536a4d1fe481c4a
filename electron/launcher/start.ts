/**
 * `npm start` (after the build): a local key service, then the desktop app.
 *
 * 1. Starts the key service in this process: SQLite in <app data>/keyservice.db,
 *    127.0.0.1, port 8787 when free (SEALPOST_KEY_SERVICE_PORT to choose), else
 *    any free port. On first start it creates an app for the desktop and keeps its
 *    id and keys in <app data>/keyservice-app.json (mode 0600). In browser mode the
 *    first-run screen offers it: the user types a user name, this process issues a
 *    one-time enrollment code for it and the engine registers with that
 *    (device:registerLocal), so nobody copies keys out of the file.
 * 2. Runs Electron on the built app (out/) when an Electron binary is installed,
 *    telling it of this key service in SEALPOST_LOCAL_KEY_SERVICE: the app asks
 *    for the first-run enrollment code over a loopback endpoint with a token
 *    (code-issuer-endpoint.ts).
 * 3. Where none is (no download possible), says so in one line and serves the
 *    same UI in browser mode (electron/webhost) on 127.0.0.1 and prints its URL.
 *
 * SEALPOST_BROWSER_MODE=1 chooses browser mode even with Electron installed.
 * Ctrl-C (SIGINT) or SIGTERM stops everything: Electron, the web host, the
 * engine (keys wiped from memory) and the key service.
 * Plain Node: no `electron` import (the app itself is started as a child).
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { appDataDir, defaultProfileDir } from '../engine/paths.js';
import { openService, type Service } from '../engine/service/index.js';
import { startServer, type RunningServer } from '../../server/index.js';
import { EnrollmentIssuer } from '../../server/enrollment/codes.js';
import { startWebhost, type Webhost } from '../webhost/server.js';
import { encodeLocalKeyService, LOCAL_KEY_SERVICE_ENV } from '../engine/service/local-key-service-env.js';
import { startCodeIssuer, type CodeIssuerEndpoint } from './code-issuer-endpoint.js';
import { findElectronBinary } from './electron-binary.js';

const DEFAULT_PORT = 8787;
/** A code issued for the first-run screen is used at once: it need not live long. */
const LOCAL_CODE_TTL_MS = 10 * 60_000;
/** The project root: this file runs from dist/electron/launcher/. */
const ROOT = resolve(import.meta.dirname, '../../..');

const SavedApp = z.object({ url: z.string(), appId: z.string(), serverKey: z.string(), clientKey: z.string() });

/** Listens on the preferred port, or on any free one when it is taken. */
async function startKeyService(dataDir: string): Promise<RunningServer> {
  const db = join(dataDir, 'keyservice.db');
  const wanted = Number(process.env.SEALPOST_KEY_SERVICE_PORT ?? DEFAULT_PORT);
  try {
    return await startServer({ host: '127.0.0.1', port: wanted, db });
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
    return startServer({ host: '127.0.0.1', port: 0, db });
  }
}

/** The desktop app's credentials on this key service, created once. */
async function desktopApp(server: RunningServer, dataDir: string): Promise<{ file: string; appId: string; clientKey: string }> {
  const file = join(dataDir, 'keyservice-app.json');
  if (existsSync(file)) {
    const saved = SavedApp.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    const known = saved.success && (await server.admin.listApps()).some((a) => a.id === saved.data.appId);
    if (saved.success && known) {
      writeFileSync(file, JSON.stringify({ ...saved.data, url: server.url }, null, 2), { mode: 0o600 });
      return { file, appId: saved.data.appId, clientKey: saved.data.clientKey };
    }
  }
  const created = await server.admin.createApp({ name: 'Sealpost desktop (local)' });
  writeFileSync(file, JSON.stringify({ url: server.url, ...created }, null, 2), { mode: 0o600 });
  return { file, appId: created.appId, clientKey: created.clientKey };
}

async function main(): Promise<void> {
  const dataDir = appDataDir();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const keyService = await startKeyService(dataDir);
  const app = await desktopApp(keyService, dataDir);
  console.log(`Key service: ${keyService.url} (app id ${app.appId}; its keys are in ${app.file})`);

  let electron: ChildProcess | null = null;
  let codes: CodeIssuerEndpoint | null = null;
  let webhost: Webhost | null = null;
  let service: Service | null = null;
  let stopping = false;

  async function stop(code = 0): Promise<void> {
    if (stopping) return;
    stopping = true;
    if (electron && electron.exitCode === null) electron.kill('SIGTERM');
    await codes?.close();
    await webhost?.close();
    service?.close();
    await keyService.close();
    console.log('Sealpost stopped.');
    process.exit(code);
  }
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  // SEALPOST_BROWSER_MODE=1 serves the browser UI even where Electron is installed.
  const binary = process.env.SEALPOST_BROWSER_MODE === '1' ? null : findElectronBinary();
  // The first-run screen offers this key service: a user name is all it takes (a one-time code issued here).
  const issuer = await EnrollmentIssuer.open(keyService.store, keyService.url);
  const issueCode = async (username: string) => (await issuer.issue({ appId: app.appId, username, ttlMs: LOCAL_CODE_TTL_MS })).code;
  if (binary) {
    // The app is its own process: it asks for codes over loopback, with a token only it is given.
    codes = await startCodeIssuer(issueCode);
    const local = encodeLocalKeyService({ url: keyService.url, appId: app.appId, clientKey: app.clientKey, issuer: codes.url, token: codes.token });
    electron = spawn(binary, [ROOT], { stdio: 'inherit', env: { ...process.env, [LOCAL_KEY_SERVICE_ENV]: local } });
    electron.on('exit', (code) => void stop(code ?? 0));
    return;
  }

  console.log('No Electron runtime is installed (it could not be downloaded), so Sealpost runs in browser mode.');
  service = await openService({
    profileDir: defaultProfileDir(),
    actor: 'webhost',
    localKeyService: {
      url: keyService.url,
      appId: app.appId,
      clientKey: app.clientKey,
      issueEnrollmentCode: issueCode,
    },
  });
  service.messaging.sync.start();
  webhost = await startWebhost({ handlers: service.handlers, onEvent: service.onEvent, rendererDir: join(ROOT, 'out', 'renderer') });
  console.log(`Open Sealpost in your browser: ${webhost.url}`);
  console.log('Press Ctrl-C to stop.');
}

main().catch((error: unknown) => {
  console.error(`Sealpost could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

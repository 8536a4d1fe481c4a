/**
 * Electron and browser-mode security regressions:
 * - electronegativity (Doyensec's static scanner, run as `-i .` would) reports
 *   no high-severity finding, and none of the isolation checks fire at all; a
 *   deliberately unsafe window proves the scanner does find what it should;
 * - the webhost only talks to its own page: token and Origin checked on the
 *   WebSocket, loopback only, no path escapes, CSP on every file.
 * The scanner is kept offline: its translation download is stubbed and the
 * Electron-releases check (a network fetch) is left out.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ROOT, startApp, type RunningApp } from './harness.js';

const require = createRequire(import.meta.url);

const Issue = z.object({ id: z.string(), severity: z.object({ name: z.string() }).passthrough(), file: z.string() }).passthrough();
const ScanResult = z.object({ issues: z.array(Issue), errors: z.array(z.unknown()) }).passthrough();
type ScanResult = z.infer<typeof ScanResult>;

function electronegativity(): (options: Record<string, unknown>) => Promise<unknown> {
  const pkgDir = dirname(require.resolve('@doyensec/electronegativity/package.json'));
  // Stub `got` (translations download) before the scanner loads it: tests stay on loopback.
  const gotPath = require.resolve('got', { paths: [pkgDir] });
  const offline = () => Promise.reject(new Error('network disabled in tests'));
  require.cache[gotPath] = { id: gotPath, filename: gotPath, loaded: true, exports: Object.assign(offline, { default: offline }) } as unknown as NodeJS.Module;
  return require('@doyensec/electronegativity') as (options: Record<string, unknown>) => Promise<unknown>;
}

async function scan(input: string): Promise<ScanResult> {
  const electronVersion = (require('electron/package.json') as { version: string }).version;
  const run = electronegativity();
  return ScanResult.parse(
    await run({
      input,
      output: null,
      isSarif: false,
      customScan: [],
      excludeFromScan: ['AvailableSecurityFixesGlobalCheck'],
      isRelative: true,
      isVerbose: false,
      electronVersionOverride: electronVersion,
    }),
  );
}

describe('electronegativity', () => {
  it('finds no high-severity issue in the project, and no isolation check fires', async () => {
    const result = await scan(ROOT);
    const high = result.issues.filter((i) => i.severity.name === 'HIGH');
    expect(high.map((i) => `${i.id} ${i.file}`)).toEqual([]);
    const isolation = ['CONTEXT_ISOLATION_JS_CHECK', 'NODE_INTEGRATION_JS_CHECK', 'SANDBOX_JS_CHECK', 'WEB_SECURITY_JS_CHECK', 'INSECURE_CONTENT_JS_CHECK', 'EXPERIMENTAL_FEATURES_JS_CHECK', 'REMOTE_MODULE_JS_CHECK', 'AUXCLICK_JS_CHECK'];
    const ours = result.issues.filter((i) => i.file.startsWith('electron/'));
    expect(ours.filter((i) => isolation.includes(i.id)).map((i) => `${i.id} ${i.file}`)).toEqual([]);
    // Navigation limits and the permission handler (window-security.ts) are seen as in place.
    expect(result.issues.filter((i) => ['LIMIT_NAVIGATION_GLOBAL_CHECK', 'PERMISSION_REQUEST_HANDLER_GLOBAL_CHECK'].includes(i.id)).map((i) => i.id)).toEqual([]);
    // The renderer's CSP is found (a missing one is reported as "No CSP has been detected").
    expect(result.issues.some((i) => i.id === 'CSP_GLOBAL_CHECK' && i.file === 'N/A')).toBe(false);
  });

  it('does flag an unsafe window (the scan is real)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-eneg-'));
    try {
      mkdirSync(join(dir, 'main'));
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bad', devDependencies: { electron: '45.0.0' } }));
      writeFileSync(
        join(dir, 'main', 'index.js'),
        "const { BrowserWindow } = require('electron');\nnew BrowserWindow({ webPreferences: { nodeIntegration: true, contextIsolation: false, sandbox: false } });\n",
      );
      const result = await scan(dir);
      const ids = result.issues.filter((i) => i.severity.name === 'HIGH').map((i) => i.id);
      expect(ids).toContain('CONTEXT_ISOLATION_JS_CHECK');
      // No will-navigate / window-open handler anywhere in that app.
      expect(ids).toContain('LIMIT_NAVIGATION_GLOBAL_CHECK');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens the bridge socket; resolves with the first reply to an engine:status call, or rejects with the HTTP refusal. */
function bridgeCall(url: string, origin: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { Origin: origin } });
    ws.on('unexpected-response', (_req, res) => {
      reject(new Error(`refused ${res.statusCode}`));
      ws.terminate();
    });
    ws.on('error', (e) => reject(e));
    ws.on('open', () => ws.send(JSON.stringify({ id: 1, channel: 'engine:status', input: {} })));
    ws.on('message', (data) => {
      resolve(JSON.parse(String(data)));
      ws.close();
    });
  });
}

describe('webhost (browser mode) guards', () => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startApp('guards');
  });
  afterAll(async () => {
    await app?.close();
  });

  it('listens on loopback and serves the UI with a strict CSP', async () => {
    expect(new URL(app.webhost.origin).hostname).toBe('127.0.0.1');
    const res = await get(`${app.webhost.origin}/`);
    expect(res.status).toBe(200);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    // Image attachments are shown from memory through blob: URLs; nothing wider (no http:, no *).
    expect(csp).toContain("img-src 'self' data: blob:;");
  });

  it('does not serve files outside the built UI', async () => {
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/..%2f..%2fpackage.json']) {
      const res = await get(`${app.webhost.origin}${path}`);
      expect([403, 404]).toContain(res.status);
    }
  });

  it('answers the contract only with the token and from its own origin', async () => {
    const bridge = `ws://127.0.0.1:${new URL(app.webhost.origin).port}/bridge`;
    const ok = (await bridgeCall(`${bridge}?token=${app.webhost.token}`, app.webhost.origin)) as { id: number; result: { code: number } };
    expect(ok).toMatchObject({ id: 1, result: { code: 0 } });
    await expect(bridgeCall(`${bridge}?token=wrong`, app.webhost.origin)).rejects.toThrow('refused 403');
    await expect(bridgeCall(`${bridge}?token=${app.webhost.token}`, 'http://evil.example')).rejects.toThrow('refused 403');
    await expect(bridgeCall(`${bridge}?token=${app.webhost.token}`, 'http://localhost:1')).rejects.toThrow('refused 403');
  });

  it('validates every call with the contract schemas', async () => {
    const bridge = `ws://127.0.0.1:${new URL(app.webhost.origin).port}/bridge?token=${app.webhost.token}`;
    const reply = await new Promise<{ result: { code: number; message: string } }>((resolve, reject) => {
      const ws = new WebSocket(bridge, { headers: { Origin: app.webhost.origin } });
      ws.on('error', reject);
      ws.on('open', () => ws.send(JSON.stringify({ id: 7, channel: 'identity:create', input: { pin: '1234', extra: 'x' } })));
      ws.on('message', (d) => {
        resolve(JSON.parse(String(d)));
        ws.close();
      });
    });
    expect(reply.result.code).toBe(-29);
    expect(reply.result.message).toContain('identity:create');
  });
});

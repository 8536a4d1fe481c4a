/**
 * The key service CLI: admin commands in-process (runCli), and the built
 * entry point (dist/server/cli.js, what `npm run server` runs) as a child
 * process: it listens, answers /health and stops cleanly on SIGTERM.
 */
import { execFile as execFileCb, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, serverOptionsFrom } from '../../../server/cli.js';
import { startServer } from '../../../server/index.js';
import { apiRequest, makeDevice } from '../../helpers/key-service.js';

const execFile = promisify(execFileCb);
const root = join(import.meta.dirname, '../../..');
const built = join(root, 'dist/server/cli.js');

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env });
  return { code, stdout, stderr };
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

describe('key service CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-cli-'));
  const db = join(dir, 'cli.db');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--help documents every option and command', async () => {
    const { code, stdout } = await cli(['--help']);
    expect(code).toBe(0);
    for (const word of ['--port', '--host', '--db', '--data-dir', '--database-url', 'DATABASE_URL', 'SEALPOST_JWT_SECRET', 'PORT', 'HOST', 'SEALPOST_DB', '--rate-ip', '--rate-device', '--trust-proxy', 'create-app', 'list-apps', 'revoke-app', 'list-devices', 'revoke-device', 'verify-audit', '--json']) {
      expect(stdout, word).toContain(word);
    }
  });

  it('create-app --json prints exactly appId, serverKey and clientKey; the keys work', async () => {
    const { code, stdout } = await cli(['create-app', '--name', 'Desk', '--json', '--db', db]);
    expect(code).toBe(0);
    const created = JSON.parse(stdout) as Record<string, string>;
    expect(Object.keys(created)).toEqual(['appId', 'serverKey', 'clientKey']);
    expect(created.serverKey).not.toBe(created.clientKey);
    const human = await cli(['create-app', '--name', 'Other', '--db', db]);
    expect(human.stdout).toMatch(/appId\s+app_[0-9a-f]{16}/);

    const server = await startServer({ host: '127.0.0.1', port: 0, db });
    try {
      const device = makeDevice();
      const reg = await apiRequest(server.url, 'POST', '/v1/user/register', { body: { appid: created.appId, serverkey: created.serverKey, username: 'cli-user', devicePackage: device.pkg } });
      expect(reg.status).toBe(200);
      const tok = await apiRequest<{ jwt: string }>(server.url, 'POST', '/v1/gen-jwt', { serverKey: created.serverKey, body: { instance_id: device.deviceId } });
      expect((await apiRequest(server.url, 'GET', '/v1/users/cli-user', { clientKey: created.clientKey })).status).toBe(200);
      // The server now holds the app and the device in its authentication cache; the CLI's revokes (another process) must still count.
      expect((await apiRequest(server.url, 'GET', '/v1/users/cli-user', { jwt: tok.json.jwt })).status).toBe(200);

      const listed = await cli(['list-devices', '--app', created.appId!, '--json', '--db', db]);
      expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ deviceId: device.deviceId, revokedAt: null })]);
      expect((await cli(['revoke-device', '--app', created.appId!, '--device', device.deviceId, '--db', db])).code).toBe(0);
      expect((await apiRequest(server.url, 'GET', '/v1/users/cli-user', { jwt: tok.json.jwt })).status).toBe(403);

      const audit = await cli(['verify-audit', '--app', created.appId!, '--db', db]);
      expect(audit).toMatchObject({ code: 0 });
      expect(audit.stdout).toMatch(/intact: \d+ entries/);

      const apps = await cli(['list-apps', '--json', '--db', db]);
      expect(JSON.parse(apps.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ id: created.appId, users: 1, devices: 1, revokedAt: null })]));
      expect((await cli(['revoke-app', '--app', created.appId!, '--db', db])).code).toBe(0);
      expect((await apiRequest(server.url, 'GET', '/v1/users/cli-user', { clientKey: created.clientKey })).status).toBe(403);
      expect((await cli(['list-apps', '--db', db])).stdout).toContain('REVOKED');
    } finally {
      await server.close();
    }
  });

  it('imports chosen keys (warning when short) and refuses duplicates', async () => {
    const r = await cli(['create-app', '--name', 'Imported', '--app-id', 'imported', '--server-key', 'servicekey', '--client-key', 'clientkey1', '--db', db]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning');
    const again = await cli(['create-app', '--name', 'Dup', '--app-id', 'imported', '--db', db]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
  });

  it('usage errors exit 2 with a message', async () => {
    expect((await cli(['create-app', '--db', db])).code).toBe(2);
    expect((await cli(['--bogus'])).code).toBe(2);
    expect((await cli(['frobnicate', '--db', db])).code).toBe(2);
    expect((await cli(['revoke-device', '--app', 'nope', '--device', 'x', '--db', db])).stderr).toContain('no device');
    expect(() => serverOptionsFrom({ port: 'eighty' }, {})).toThrow(/--port/);
  });

  it('maps flags and environment variables to server options (flags win)', () => {
    const o = serverOptionsFrom({ port: '9000' }, { PORT: '8000', HOST: '0.0.0.0', SEALPOST_DB: '/x/y.db', SEALPOST_JWT_SECRET: 's'.repeat(40), SEALPOST_RATE_IP: '50', SEALPOST_TRUST_PROXY: '1' });
    expect(o).toMatchObject({ port: 9000, host: '0.0.0.0', db: '/x/y.db', jwtSecret: 's'.repeat(40), rateLimit: { perIp: 50 }, trustProxy: 1 });
    expect(serverOptionsFrom({ 'data-dir': '/srv/sealpost' }, {}).db).toBe('/srv/sealpost/sealpost-keyservice.db');
    expect(serverOptionsFrom({}, { DATABASE_URL: 'postgres://u@h/db' }).databaseUrl).toBe('postgres://u@h/db');
  });

  describe('the built entry point (npm run server)', () => {
    beforeAll(async () => {
      const stale = !existsSync(built) || statSync(built).mtimeMs < Math.max(newestSource(join(root, 'server')), newestSource(join(root, 'shared')));
      if (stale) await execFile('npx', ['tsc', '-p', 'tsconfig.node.json'], { cwd: root }).catch(() => undefined);
      expect(existsSync(built)).toBe(true);
    }, 120_000);

    it('listens where told, answers /health and stops on SIGTERM', async () => {
      const child = spawn(process.execPath, [built, '--port', '0', '--log-level', 'warn'], { env: { ...process.env, SEALPOST_DB: join(dir, 'spawned.db'), DATABASE_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          err += d.toString();
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
        setTimeout(() => reject(new Error(`no listening line: ${err}`)), 20_000);
      });
      expect(err).toContain('spawned.db');
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    });

    it('runs admin commands', async () => {
      const { stdout } = await execFile(process.execPath, [built, 'create-app', '--name', 'spawned', '--json', '--db', join(dir, 'spawned.db')]);
      expect(Object.keys(JSON.parse(stdout) as object)).toEqual(['appId', 'serverKey', 'clientKey']);
    });
  });
});

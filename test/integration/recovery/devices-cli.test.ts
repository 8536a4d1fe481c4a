/**
 * Devices from the command line (bin/sealpost.js -> dist/, `npm run build:node`
 * first) against a real key service on loopback: registering publishes the
 * device's delegation and the engine then signs agent tokens (one per request,
 * seen in the key service's database); `devices --json` lists both desktops of
 * one user; one revokes the other, whose next sync is refused (403
 * device_revoked), while the first carries on; revoking oneself is refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFor, requireBuiltCli } from '../../helpers/cli.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sealpost-devices-cli-'));
const PIN = '482913';
const cli = cliFor(work, { pin: PIN, env: { SEALPOST_PASSPHRASE: 'identity file passphrase' } });
const sealpost = cli.run;
const ok = cli.ok;

interface DeviceList {
  devices: Array<{ deviceId: string; current: boolean; revokedAt: string | null; deviceDid: string | null }>;
  agentTokens: boolean;
}
const listDevices = async (who: string): Promise<DeviceList> => (JSON.parse((await ok(who, ['--json', 'devices'])).stdout) as { value: DeviceList }).value;

describe('sealpost devices', () => {
  let ks: KeyService;
  const dbFile = path.join(work, 'ks.db');
  const register = (who: string) => ok(who, ['register', '--server', ks.url, '--app-id', ks.app.appId, '--server-key', ks.app.serverKey, '--client-key', ks.app.clientKey, '--username', 'alice']);
  const agentTokensUsed = () => {
    const db = new Database(dbFile, { readonly: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM agent_token_jtis').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    requireBuiltCli();
    ks = await startKeyService({ db: dbFile });
    await ok('desk', ['init', '--rsa-bits', '2048']);
    await register('desk');
    await ok('desk', ['export-identity', '-o', path.join(work, 'alice.identity')]);
    await ok('laptop', ['import-identity', path.join(work, 'alice.identity')]);
    await register('laptop');
  });

  afterAll(async () => {
    await ks?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('both desktops are listed, each delegated, and requests carry single-use agent tokens', async () => {
    const before = agentTokensUsed();
    const desk = await listDevices('desk');
    expect(desk.agentTokens).toBe(true);
    expect(desk.devices).toHaveLength(2);
    expect(desk.devices.every((d) => d.revokedAt === null && d.deviceDid?.startsWith('did:key:z'))).toBe(true);
    expect(desk.devices.filter((d) => d.current)).toHaveLength(1);
    await ok('desk', ['sync']);
    expect(agentTokensUsed()).toBeGreaterThan(before + 1);

    const text = (await ok('desk', ['devices'])).stdout;
    expect(text).toContain('this device');
    expect(text).toContain('agent tokens signed by its device key');
  });

  it('one desktop revokes the other; the revoked one is refused from its next request, the first carries on', async () => {
    const laptopId = (await listDevices('laptop')).devices.find((d) => d.current)!.deviceId;
    const deskId = (await listDevices('desk')).devices.find((d) => d.current)!.deviceId;

    const self = await sealpost('desk', ['devices', 'revoke', deskId]);
    expect(self.code).toBe(1);
    expect(self.stderr).toMatch(/device you are using/);
    const bad = await sealpost('desk', ['devices', 'revoke', 'not-a-device']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/32 lowercase hex/);
    const unknown = await sealpost('desk', ['devices', 'revoke', 'f'.repeat(32)]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no such device/i);

    const revoked = await ok('desk', ['devices', 'revoke', laptopId]);
    expect(revoked.stdout).toContain(`Device ${laptopId} revoked`);

    const refused = await sealpost('laptop', ['sync']);
    expect(refused.code).toBe(1);
    expect(refused.stderr + refused.stdout).toMatch(/device_revoked|revoked/);
    const listRefused = await sealpost('laptop', ['--json', 'devices']);
    expect(listRefused.code).toBe(1);
    expect(JSON.parse(listRefused.stdout)).toMatchObject({ details: expect.objectContaining({ server: 'device_revoked' }) });

    await ok('desk', ['sync']);
    const after = await listDevices('desk');
    expect(after.devices.find((d) => d.deviceId === laptopId)?.revokedAt).not.toBeNull();
    const audit = JSON.parse((await ok('desk', ['--json', 'audit', 'list'])).stdout) as { value: Array<{ action: string; target: string | null; result: string }> };
    expect(audit.value.some((e) => e.action === 'device.revoke' && e.target === `device:${laptopId}` && e.result === 'ok')).toBe(true);
  });
});

/**
 * Key-service failures in plain words (renderer/src/errors.ts): the engine's
 * real failures against a real key service on loopback — a wrong server key
 * (401), an unknown user (404), a port where nothing listens — and the
 * answers that a test cannot provoke on loopback (a misspelt host name, a
 * revoked device) from the engine's own message and details shapes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Channel } from '../../../shared/contract.js';
import { TEST_KDF_PARAMS } from '../../../electron/engine/crypto/pin-kdf.js';
import { dispatch } from '../../../electron/engine/dispatch.js';
import { openService, type Service } from '../../../electron/engine/service/index.js';
import { startServer, type CreatedApp, type RunningServer } from '../../../server/index.js';
import { describeError } from '../../../renderer/src/errors.js';

let dir: string;
let service: Service;
let ks: RunningServer;
let app: CreatedApp;

const call = (channel: Channel, input: unknown) => dispatch(service.handlers, channel, input);

async function failure(channel: Channel, input: unknown) {
  const r = await call(channel, input);
  if (r.code === 0) throw new Error(`${channel} succeeded`);
  return describeError(r);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealpost-ui-errors-'));
  ks = await startServer({ host: '127.0.0.1', port: 0, db: join(dir, 'ks.db'), rsaBits: 2048, rateLimit: { perIp: 1_000_000, perDevice: 1_000_000, secretFailures: 1000 } });
  app = await ks.admin.createApp({ name: 'ui errors' });
  service = await openService({ profileDir: join(dir, 'profile'), actor: 'ui', keychain: 'file', kdfParams: TEST_KDF_PARAMS });
  const created = await call('identity:create', { pin: '2580', rsaBits: 2048 });
  expect(created.code).toBe(0);
});

afterAll(async () => {
  service?.close();
  await ks?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('key-service errors in plain words', () => {
  it('a wrong server key says to check the app id and keys, with the code in the details', async () => {
    const e = await failure('device:register', { server: ks.url, appId: app.appId, serverKey: 'not-the-server-key', clientKey: app.clientKey, username: 'alice' });
    expect(e.text).toBe('The key service did not accept the app’s keys.');
    expect(e.hint).toContain('server key');
    expect(e.details).toMatch(/^Failed \(-1\): POST \/v1\/\S+ failed with 401/);
  });

  it('a port where nothing listens says to check the port and that the service runs', async () => {
    const spare = await startServer({ host: '127.0.0.1', port: 0, db: join(dir, 'spare.db'), rsaBits: 2048 });
    const url = spare.url;
    await spare.close();
    const e = await failure('device:register', { server: url, appId: app.appId, serverKey: app.serverKey, clientKey: app.clientKey, username: 'alice' });
    expect(e.text).toBe('Nothing answers at that key service address.');
    expect(e.hint).toContain('port');
    expect(e.details).toMatch(/^NoInternetAccess \(-200\)/);
  });

  it('an unknown user in the directory says to check the spelling', async () => {
    const registered = await call('device:register', { server: ks.url, appId: app.appId, serverKey: app.serverKey, clientKey: app.clientKey, username: 'alice' });
    expect(registered.code).toBe(0);
    const e = await failure('contacts:lookup', { username: 'nobody-here' });
    expect(e.text).toBe('The key service has no user by that name.');
    expect(e.hint).toContain('spelling of the user name');
  });

  it('a misspelt host, a revoked device and a wrong route read as what to check', () => {
    const dns = describeError({ code: -200, message: 'The key service at http://keyservce.example:8787 cannot be reached (ENOTFOUND).', details: { kind: 'offline' } });
    expect(dns.text).toBe('No key service was found at that address.');
    expect(dns.hint).toContain('spelling of the host name');
    const revoked = describeError({ code: -1, message: 'GET /v1/messages failed with 403 device_revoked: this device was revoked', details: { status: 403, server: 'device_revoked', kind: 'denied' } });
    expect(revoked.text).toContain('revoked');
    expect(revoked.hint).toContain('link it again');
    const route = describeError({ code: -1, message: 'POST /api/v1/user/register failed with 404 no_such_route: no POST route at this path', details: { status: 404, server: 'no_such_route', kind: 'rejected' } });
    expect(route.text).toBe('That address answers, but not as a Sealpost key service.');
    // Anything else keeps the general sentence; the code is always in the details.
    expect(describeError({ code: -1, message: 'boom' })).toEqual({ text: 'Something went wrong. Your data is unchanged.', details: 'Failed (-1): boom' });
  });
});

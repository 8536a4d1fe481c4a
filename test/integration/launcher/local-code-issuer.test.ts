/**
 * The desktop app started by `npm start` registers with the key service the
 * launcher runs by a user name alone, though it is another process: the
 * launcher's loopback endpoint issues the one-time enrollment code
 * (electron/launcher/code-issuer-endpoint.ts) to the app it gave the token
 * (SEALPOST_LOCAL_KEY_SERVICE, electron/engine/service/local-key-service-env.ts).
 * Real key service, real enrollment issuer, real engine; anything else than
 * the app's own well-formed request gets a clear refusal.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultCode } from '../../../shared/codes.js';
import { TEST_KDF_PARAMS } from '../../../electron/engine/crypto/pin-kdf.js';
import { dispatch } from '../../../electron/engine/dispatch.js';
import { openService } from '../../../electron/engine/service/index.js';
import { encodeLocalKeyService, LOCAL_KEY_SERVICE_ENV, localKeyServiceFromEnv } from '../../../electron/engine/service/local-key-service-env.js';
import { type CodeIssuerEndpoint, startCodeIssuer } from '../../../electron/launcher/code-issuer-endpoint.js';
import { EnrollmentIssuer } from '../../../server/enrollment/codes.js';
import { startServer, type RunningServer } from '../../../server/index.js';

describe('the launcher issues the first-run enrollment code to the app it started', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sealpost-local-issuer-'));
  let ks: RunningServer;
  let app: { appId: string; clientKey: string };
  let endpoint: CodeIssuerEndpoint;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    ks = await startServer({ host: '127.0.0.1', port: 0, db: path.join(dir, 'ks.db'), rsaBits: 2048 });
    app = await ks.admin.createApp({ name: 'local desktop' });
    const issuer = await EnrollmentIssuer.open(ks.store, ks.url);
    endpoint = await startCodeIssuer(async (username) => (await issuer.issue({ appId: app.appId, username, ttlMs: 10 * 60_000 })).code);
    env = { [LOCAL_KEY_SERVICE_ENV]: encodeLocalKeyService({ url: ks.url, appId: app.appId, clientKey: app.clientKey, issuer: endpoint.url, token: endpoint.token }) };
  });

  afterAll(async () => {
    await endpoint?.close();
    await ks?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a new profile registers by a user name through device:registerLocal', async () => {
    const local = localKeyServiceFromEnv(env)!;
    expect(local.url).toBe(ks.url);
    const service = await openService({ profileDir: path.join(dir, 'dana'), keychain: 'file', kdfParams: TEST_KDF_PARAMS, actor: 'test', localKeyService: local });
    try {
      const call = (channel: string, input: unknown) => dispatch(service.handlers, channel, input);
      expect((await call('engine:status', {})) as { value: { localKeyService: unknown } }).toMatchObject({ code: 0, value: { localKeyService: { url: ks.url } } });
      expect((await call('identity:create', { pin: '0', rsaBits: 2048 })).code).toBe(0);
      const registered = await call('device:registerLocal', { username: 'dana' });
      expect(registered).toMatchObject({ code: 0, value: { username: 'dana', server: ks.url } });
      // Not a user name: refused at the contract, before any code is asked for.
      expect((await call('device:registerLocal', { username: 'not a name!' })).code).toBe(ResultCode.InvalidParameter);
    } finally {
      service.close();
    }
  });

  it('refuses anything but the app’s own request: another token, another method or path, not JSON, too large', async () => {
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(endpoint.url, { method: 'POST', headers: { authorization: `Bearer ${endpoint.token}`, 'content-type': 'application/json', ...headers }, body });
    expect((await post('{"username":"erin"}', { authorization: 'Bearer not-the-token' })).status).toBe(401);
    expect((await post('{"username":"erin"}', { authorization: '' })).status).toBe(401);
    expect((await fetch(endpoint.url, { headers: { authorization: `Bearer ${endpoint.token}` } })).status).toBe(405);
    expect((await fetch(endpoint.url.replace('/enrollment-code', '/other'), { method: 'POST' })).status).toBe(404);
    expect((await post('{"username":"erin"}', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post('{"username":')).status).toBe(400);
    expect((await post('{"username":"erin","extra":1}')).status).toBe(400);
    expect((await post(JSON.stringify({ username: 'x'.repeat(5000) }))).status).toBe(413);
    // The launcher's reason when it gives no code (here a user name the issuer refuses).
    const refused = await post('{"username":"not a name!"}');
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { message: string }).message).toMatch(/not a valid user name/);
    const good = await post('{"username":"erin"}');
    expect(good.status).toBe(200);
    expect(((await good.json()) as { code: string }).code).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);
  });

  it('takes only a loopback description from the environment, and says so without echoing it', async () => {
    expect(localKeyServiceFromEnv({})).toBeUndefined();
    const bad = { url: ks.url, appId: app.appId, clientKey: 'secret-client-key', issuer: 'http://evil.example/enrollment-code', token: 'x'.repeat(43) };
    expect(() => localKeyServiceFromEnv({ [LOCAL_KEY_SERVICE_ENV]: JSON.stringify(bad) })).toThrow(/SEALPOST_LOCAL_KEY_SERVICE is not a valid description/);
    expect(() => encodeLocalKeyService(bad)).toThrow();
    let message = '';
    try {
      localKeyServiceFromEnv({ [LOCAL_KEY_SERVICE_ENV]: '{"clientKey":"secret-client-key"' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).not.toContain('secret-client-key');
    // The launcher gone: a sentence, not a stack.
    const gone = localKeyServiceFromEnv({ [LOCAL_KEY_SERVICE_ENV]: encodeLocalKeyService({ url: ks.url, appId: app.appId, clientKey: app.clientKey, issuer: 'http://127.0.0.1:9/enrollment-code', token: endpoint.token }) })!;
    await expect(gone.issueEnrollmentCode('erin')).rejects.toThrow(/launcher does not answer/);
  });
});

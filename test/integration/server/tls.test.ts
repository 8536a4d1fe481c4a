/**
 * The key service serving TLS itself (ServerOptions.tls; --tls-cert/--tls-key or
 * SEALPOST_TLS_CERT_FILE/SEALPOST_TLS_KEY_FILE): HTTPS with the configured
 * certificate from a private CA made in the test, the push stream as wss, a
 * certificate and key that do not parse or do not belong together refused at
 * start, and the CLI refusing half a configuration with a usage error.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, serverOptionsFrom } from '../../../server/cli.js';
import { startServer } from '../../../server/index.js';
import { makeDevice, startKeyService, type KeyService } from '../../helpers/key-service.js';
import { makeTestCa } from '../../helpers/test-ca.js';

const ca = makeTestCa();

describe('key service over TLS', () => {
  let ks: KeyService;
  const trusting = new Agent({ connect: { ca: [ca.certPem] } });

  beforeAll(async () => {
    ks = await startKeyService({ tls: ca.issue() });
  });
  afterAll(async () => {
    await trusting.close();
    await ks?.close();
  });

  it('serves HTTPS with its certificate: a client that trusts the CA is answered, one that does not is refused', async () => {
    expect(ks.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await undiciFetch(`${ks.url}/health`, { dispatcher: trusting });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
    const refused = await fetch(`${ks.url}/health`).then(
      () => null,
      (e: unknown) => e as { cause?: { code?: string } },
    );
    expect(refused?.cause?.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('serves the push stream over wss', async () => {
    // Registration through inject(): the helper's own requests use the global fetch, which does not trust the test CA.
    const device = makeDevice();
    const reg = await ks.server.app.inject({
      method: 'POST',
      url: '/v1/user/register',
      payload: { appid: ks.app.appId, serverkey: ks.app.serverKey, username: 'tess', devicePackage: device.pkg },
    });
    expect(reg.statusCode).toBe(200);
    const tok = await ks.server.app.inject({ method: 'POST', url: '/v1/gen-jwt', headers: { 'x-server-key': ks.app.serverKey }, payload: { instance_id: device.deviceId } });
    const jwt = (tok.json() as { jwt: string }).jwt;

    const ws = new WebSocket(`${ks.url.replace(/^https/, 'wss')}/v1/stream`, { headers: { authorization: `Bearer ${jwt}` }, ca: [ca.certPem] });
    try {
      const first = await new Promise<Record<string, unknown>>((resolve, reject) => {
        ws.once('message', (data) => resolve(JSON.parse(data.toString()) as Record<string, unknown>));
        ws.once('error', reject);
      });
      expect(first.type).toBe('hello');
    } finally {
      ws.terminate();
    }
  });

  it('refuses at start a certificate that does not parse, or a key that is not the certificate\'s', async () => {
    const good = ca.issue();
    const other = ca.issue();
    await expect(startServer({ port: 0, db: ':memory:', tls: { cert: 'not a certificate', key: good.key } })).rejects.toThrow(/the TLS certificate is not a PEM certificate/);
    await expect(startServer({ port: 0, db: ':memory:', tls: { cert: good.cert, key: 'not a key' } })).rejects.toThrow(/the TLS key is not an unencrypted PEM private key/);
    await expect(startServer({ port: 0, db: ':memory:', tls: { cert: good.cert, key: other.key } })).rejects.toThrow(/the TLS key is not the private key of the certificate \(CN=127\.0\.0\.1\)/);
  });
});

describe('key service CLI: TLS options', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-tls-cli-'));
  const issued = ca.issue();
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  writeFileSync(certFile, issued.cert);
  writeFileSync(keyFile, issued.key, { mode: 0o600 });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
    let stderr = '';
    const code = await runCli(args, { stdout: () => undefined, stderr: (t) => void (stderr += t), env });
    return { code, stderr };
  }

  it('--help documents the TLS flags and variables', async () => {
    let stdout = '';
    await runCli(['--help'], { stdout: (t) => void (stdout += t), stderr: () => undefined, env: {} });
    for (const word of ['--tls-cert', '--tls-key', 'SEALPOST_TLS_CERT_FILE', 'SEALPOST_TLS_KEY_FILE']) expect(stdout, word).toContain(word);
  });

  it('a certificate without a key (or a key without a certificate) is a usage error, before anything starts', async () => {
    const noKey = await cli(['--port', '0', '--db', join(dir, 'a.db'), '--tls-cert', certFile]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/^error: TLS needs both a certificate and its key: .* \(only the certificate was given\)/);
    const noCert = await cli(['--port', '0', '--db', join(dir, 'a.db')], { SEALPOST_TLS_KEY_FILE: keyFile });
    expect(noCert.code).toBe(2);
    expect(noCert.stderr).toMatch(/only the key was given/);
  });

  it('an unreadable or invalid file is a clear error naming it', async () => {
    const missing = join(dir, 'missing.pem');
    expect(() => serverOptionsFrom({ 'tls-cert': missing, 'tls-key': keyFile }, {})).toThrow(`cannot read the TLS certificate file ${missing} (ENOENT)`);
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'hello');
    expect(() => serverOptionsFrom({ 'tls-cert': certFile, 'tls-key': garbage }, {})).toThrow(/the TLS key is not an unencrypted PEM private key .*: .*cert\.pem, .*garbage\.pem$/);
    const viaCli = await cli(['--port', '0', '--db', join(dir, 'a.db'), '--tls-cert', garbage, '--tls-key', keyFile]);
    expect(viaCli.code).toBe(2);
    expect(viaCli.stderr).toMatch(/the TLS certificate is not a PEM certificate/);
  });

  it('the files from the environment give a server that speaks HTTPS', async () => {
    const options = serverOptionsFrom({ port: '0', db: join(dir, 'env.db'), 'log-level': 'silent' }, { SEALPOST_TLS_CERT_FILE: certFile, SEALPOST_TLS_KEY_FILE: keyFile });
    expect(options.tls).toEqual({ cert: issued.cert, key: issued.key });
    const server = await startServer({ ...options, host: '127.0.0.1' });
    const agent = new Agent({ connect: { ca: [ca.certPem] } });
    try {
      expect(server.url).toMatch(/^https:/);
      expect((await undiciFetch(`${server.url}/health`, { dispatcher: agent })).status).toBe(200);
    } finally {
      await agent.close();
      await server.close();
    }
  });
});

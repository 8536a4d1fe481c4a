/**
 * The built `sealpost` CLI against a key service whose certificate comes from a
 * private CA (made in the test, served by the real key service over TLS on
 * 127.0.0.1): without the CA in the managed policy, registration fails naming the
 * certificate problem; with trustedCertificates in the policy file (here as base64
 * DER, the Windows form) it registers, and `sealpost policy` shows the CA by subject
 * and fingerprint.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyValue } from '../../../shared/policy.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { cliFor, requireBuiltCli, type Cli } from '../../helpers/cli.js';
import { makeTestCa } from '../../helpers/test-ca.js';

let work: string;
let ks: KeyService;
let cli: Cli;
const ca = makeTestCa('Acme Private Root CA');

beforeAll(async () => {
  requireBuiltCli();
  work = mkdtempSync(path.join(tmpdir(), 'sealpost-private-ca-cli-'));
  ks = await startKeyService({ tls: ca.issue() });
  cli = cliFor(work, { pin: '0' });
}, 60_000);

afterAll(async () => {
  await ks?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('sealpost and a key service behind a private CA', () => {
  const register = (who: string) => ['register', '--server', ks.url, '--app-id', ks.app.appId, '--server-key', ks.app.serverKey, '--username', who];

  it('without the CA in the policy: register fails naming the certificate and the policy', async () => {
    await cli.ok('dora', ['init']);
    const r = await cli.run('dora', register('dora'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Failed \(-1\): The key service's certificate is not trusted: unable to verify the first certificate \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\) at https:\/\/127\.0\.0\.1:\d+; if your organisation uses its own CA, IT can add it with the trustedCertificates policy\./);
  }, 120_000);

  it('with trustedCertificates in the policy: register works, and `sealpost policy` names the CA', async () => {
    const policyFile = path.join(work, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ trustedCertificates: [ca.certBase64Der] }));
    const env = { SEALPOST_POLICY_FILE: policyFile };
    await cli.ok('erin', ['init'], env);
    await cli.ok('erin', register('erin'), env);
    const p = await cli.json<PolicyValue>('erin', ['policy'], env);
    expect(p.settings.trustedCertificates).toMatchObject({ source: 'policy', where: policyFile, locked: true });
    expect(p.settings.trustedCertificates!.value).toEqual([expect.stringContaining(`CN=Acme Private Root CA, O=Sealpost tests (SHA-256 ${new X509Certificate(ca.certPem).fingerprint256}`)]);
  }, 120_000);
});

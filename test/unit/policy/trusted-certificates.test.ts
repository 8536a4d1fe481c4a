/**
 * The trustedCertificates policy setting (docs/deploy.md "Private CAs"): PEM and
 * one-line base64 DER items are accepted from each OS's place (JSON file, registry
 * REG_MULTI_SZ, plist); an item that is not a certificate makes the whole policy
 * invalid with a message naming the item (fail closed); policy:get shows each by
 * subject and fingerprint. The engine's use of them: test/integration/sync/private-ca.test.ts.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../../electron/engine/policy/load.js';
import { policyValue } from '../../../electron/engine/policy/value.js';
import { makeTestCa } from '../../helpers/test-ca.js';

const ca = makeTestCa('Acme Private Root CA');
const other = makeTestCa('Acme Second CA');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'sealpost-trust-policy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** loadPolicy on a Linux machine without /etc/sealpost, reading this policy from SEALPOST_POLICY_FILE. */
async function loadJson(policy: unknown) {
  const file = path.join(tmp, `policy-${n++}.json`);
  writeFileSync(file, JSON.stringify(policy));
  return loadPolicy({ platform: 'linux', env: { SEALPOST_POLICY_FILE: file } });
}

describe('trustedCertificates in the policy', () => {
  it('accepts PEM and one-line base64 DER items, kept as given', async () => {
    const p = await loadJson({ trustedCertificates: [ca.certPem, other.certBase64Der] });
    expect(p.error).toBeNull();
    expect(p.state).toBe('managed');
    expect(p.values.trustedCertificates).toEqual([ca.certPem, other.certBase64Der]);
  });

  it('an item that is not a certificate makes the policy invalid, naming the item', async () => {
    const garbage = await loadJson({ trustedCertificates: [ca.certPem, 'hello, I am not a certificate'] });
    expect(garbage.state).toBe('invalid');
    expect(garbage.values).toEqual({});
    expect(garbage.error).toMatch(/: invalid policy: trustedCertificates\.1: must be a PEM certificate \(-----BEGIN CERTIFICATE-----\) or its base64 DER on one line$/);

    // The right shape but not X.509: refused by the engine's parse, naming the item too.
    const notX509 = await loadJson({ trustedCertificates: [ca.certBase64Der, ca.certPem, randomBytes(300).toString('base64')] });
    expect(notX509.state).toBe('invalid');
    expect(notX509.error).toMatch(/invalid policy: trustedCertificates\.2 \(item 3\): does not parse as an X\.509 certificate/);

    const twoInOne = await loadJson({ trustedCertificates: [`${ca.certPem}${other.certPem}`] });
    expect(twoInOne.error).toMatch(/trustedCertificates\.0 \(item 1\): holds more than one certificate: give each its own item/);

    const wrapped = await loadJson({ trustedCertificates: [ca.certBase64Der.replace(/(.{64})/g, '$1\n')] });
    expect(wrapped.error).toMatch(/trustedCertificates\.0: must be a PEM certificate .* or its base64 DER on one line/);
  });

  it('1 to 20 items', async () => {
    expect((await loadJson({ trustedCertificates: [] })).error).toMatch(/trustedCertificates: .*>=1/);
    expect((await loadJson({ trustedCertificates: Array.from({ length: 21 }, () => ca.certBase64Der) })).error).toMatch(/trustedCertificates: .*<=20/);
    expect((await loadJson({ trustedCertificates: Array.from({ length: 20 }, () => ca.certBase64Der) })).state).toBe('managed');
  });

  it('Windows: REG_MULTI_SZ items of base64 DER (and a single REG_SZ) are read as the list', async () => {
    const key = 'HKLM\\SOFTWARE\\Policies\\Sealpost';
    const reg = (type: string, data: string) => `\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Sealpost\r\n    trustedCertificates    ${type}    ${data}\r\n\r\n`;
    const multi = await loadPolicy({ platform: 'win32', env: {}, queryRegistry: async (k) => (k === key ? reg('REG_MULTI_SZ', `${ca.certBase64Der}\\0${other.certBase64Der}`) : null) });
    expect(multi.error).toBeNull();
    expect(multi.values.trustedCertificates).toEqual([ca.certBase64Der, other.certBase64Der]);
    const single = await loadPolicy({ platform: 'win32', env: {}, queryRegistry: async (k) => (k === key ? reg('REG_SZ', ca.certBase64Der) : null) });
    expect(single.values.trustedCertificates).toEqual([ca.certBase64Der]);
    const bad = await loadPolicy({ platform: 'win32', env: {}, queryRegistry: async (k) => (k === key ? reg('REG_MULTI_SZ', `${ca.certBase64Der}\\0${ca.certBase64Der.slice(0, 200)}`) : null) });
    expect(bad.state).toBe('invalid');
    expect(bad.error).toMatch(/^HKLM\\SOFTWARE\\Policies\\Sealpost: invalid policy: trustedCertificates\.1 \(item 2\): does not parse as an X\.509 certificate/);
  });

  it('macOS: a plist <array> of PEM <string>s', async () => {
    const file = path.join(tmp, 'managed.plist');
    writeFileSync(file, `<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n<dict>\n\t<key>trustedCertificates</key>\n\t<array>\n\t\t<string>${ca.certPem}</string>\n\t\t<string>${other.certBase64Der}</string>\n\t</array>\n</dict>\n</plist>\n`);
    const p = await loadPolicy({ platform: 'darwin', env: {}, plistPath: file });
    expect(p.error).toBeNull();
    // XML reads line ends as \n (the test CA writes PEM with \r\n).
    expect(p.values.trustedCertificates).toEqual([ca.certPem.replace(/\r\n/g, '\n'), other.certBase64Der]);
  });

  it('policy:get shows each certificate by subject and SHA-256 fingerprint, not the PEM', async () => {
    const p = await loadJson({ trustedCertificates: [ca.certBase64Der] });
    const v = await policyValue(p, { identityCreatedAt: () => null, backedUpAt: async () => null, now: Date.now });
    const fingerprint = new X509Certificate(ca.certPem).fingerprint256;
    expect(v.settings.trustedCertificates).toMatchObject({ source: 'policy', locked: true });
    expect(v.settings.trustedCertificates!.value).toEqual([expect.stringMatching(new RegExp(`^CN=Acme Private Root CA, O=Sealpost tests \\(SHA-256 ${fingerprint}, valid until \\d{4}-\\d\\d-\\d\\d\\)$`))]);
  });

  it('the shipped Linux example passes the full check (its placeholder CA parses)', async () => {
    const example = path.join(import.meta.dirname, '../../../resources/policy/policy.example.json');
    const p = await loadPolicy({ platform: 'linux', env: { SEALPOST_POLICY_FILE: example } });
    expect(p.error).toBeNull();
    expect(p.values.trustedCertificates).toHaveLength(1);
    expect(JSON.parse(readFileSync(example, 'utf8')).trustedCertificates[0]).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
  });
});

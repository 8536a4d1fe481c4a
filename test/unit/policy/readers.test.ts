/**
 * The managed-policy readers on recorded OS output (test/fixtures/policy/): Windows
 * `reg query /s` output of HKLM and HKCU (machine wins per key), macOS managed
 * preferences as XML plist, and the fail-closed cases (wrong types, unknown keys,
 * a binary plist off macOS). The Linux file is tested end to end (test/integration/cli/policy-cli.test.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { POLICY_KEYS } from '../../../shared/policy.js';
import { loadPolicy } from '../../../electron/engine/policy/load.js';
import { parsePlist } from '../../../electron/engine/policy/plist.js';
import { parseRegQuery } from '../../../electron/engine/policy/registry.js';
import { checkAutoLock, checkKeyService, checkNewPin, urlWithin } from '../../../electron/engine/policy/rules.js';

const fixture = (name: string): string => readFileSync(path.join(import.meta.dirname, '../../fixtures/policy', name), 'utf8');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'sealpost-policy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const windows = (outputs: Record<string, string | null>) =>
  loadPolicy({ platform: 'win32', env: {}, queryRegistry: async (key) => outputs[key] ?? null });

describe('Windows: reg query output', () => {
  it('parses REG_SZ, REG_DWORD, REG_MULTI_SZ and the Escrow subkey; HKLM wins over HKCU per key', async () => {
    const p = await windows({
      'HKLM\\SOFTWARE\\Policies\\Sealpost': fixture('reg-query-hklm.txt'),
      'HKCU\\SOFTWARE\\Policies\\Sealpost': fixture('reg-query-hkcu.txt'),
    });
    expect(p.error).toBeNull();
    expect(p.state).toBe('managed');
    expect(p.values).toEqual({
      keyServiceUrl: 'https://keys.example.org',
      appId: 'acme-desktop', // "AppId" in the registry: names are case-insensitive
      clientKey: 'ck_live_8f2d1c9a7b6e',
      allowedKeyServices: ['https://keys.example.org', 'https://keys-dr.example.org/sealpost'],
      requirePin: true, // HKLM 1 beats HKCU 0
      pinMinLength: 6,
      autoLockMaxMs: 900_000,
      allowIdentityExport: false,
      minRsaBits: 3072,
      notificationPreviews: 'off',
      readReceipts: false,
      escrow: { url: 'https://escrow.example.org', appId: 'acme-escrow', clientKey: 'ck_escrow_51ab77' },
      recoveryBackupRequiredDays: 14, // only in HKCU
      updates: false,
    });
    expect(p.where.requirePin).toBe('HKLM\\SOFTWARE\\Policies\\Sealpost');
    expect(p.where.recoveryBackupRequiredDays).toBe('HKCU\\SOFTWARE\\Policies\\Sealpost');
    expect(p.sources).toEqual(['HKLM\\SOFTWARE\\Policies\\Sealpost', 'HKCU\\SOFTWARE\\Policies\\Sealpost']);
  });

  it('no key in either hive: no policy', async () => {
    expect(await windows({})).toMatchObject({ state: 'none', values: {}, error: null });
  });

  it('a wrong type or an unknown value name fails closed, naming the key and the problem', async () => {
    const p = await windows({ 'HKLM\\SOFTWARE\\Policies\\Sealpost': fixture('reg-query-invalid.txt') });
    expect(p.state).toBe('invalid');
    expect(p.values).toEqual({});
    expect(p.error).toMatch(/^HKLM\\SOFTWARE\\Policies\\Sealpost: invalid policy: /);
    expect(p.error).toMatch(/unknown setting "autoLockMinutes"/);
    expect(p.error).toMatch(/requirePin/);
  });

  it('refuses output of another key and garbage lines', () => {
    expect(() => parseRegQuery('\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Other\r\n', 'HKLM\\SOFTWARE\\Policies\\Sealpost')).toThrow(/another key/);
    expect(() => parseRegQuery('HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Sealpost\r\nnot a value\r\n', 'HKLM\\SOFTWARE\\Policies\\Sealpost')).toThrow(/unexpected line/);
  });
});

describe('macOS: managed preferences plist', () => {
  it('reads every setting of the XML plist', async () => {
    const p = await loadPolicy({ platform: 'darwin', env: {}, plistPath: path.join(import.meta.dirname, '../../fixtures/policy/managed-preferences.plist') });
    expect(p.error).toBeNull();
    expect(Object.keys(p.values).sort()).toEqual([...POLICY_KEYS].sort()); // the fixture sets every key
    expect(p.values).toMatchObject({ requirePin: true, pinMinLength: 6, autoLockMaxMs: 900_000, allowedKeyServices: ['https://keys.example.org'], escrow: { appId: 'acme-escrow' } });
  });

  it('wrong element types fail closed; <real> is refused by name', async () => {
    const p = await loadPolicy({ platform: 'darwin', env: {}, plistPath: path.join(import.meta.dirname, '../../fixtures/policy/managed-preferences-invalid.plist') });
    expect(p.state).toBe('invalid');
    expect(p.error).toMatch(/<real> is not used by any policy setting/);
  });

  it('no plist: no policy; a binary plist off macOS says to convert it', async () => {
    expect((await loadPolicy({ platform: 'darwin', env: {}, plistPath: path.join(tmp, 'none.plist') })).state).toBe('none');
    const p = await loadPolicy({ platform: 'darwin', env: {}, plistPath: path.join(import.meta.dirname, '../../fixtures/policy/managed-preferences-binary.plist') });
    expect(p).toMatchObject({ state: 'invalid' });
    if (process.platform !== 'darwin') expect(p.error).toMatch(/binary plist: convert it with plutil/);
  });

  it('refuses a root that is not a dict, odd dicts, entities', () => {
    expect(() => parsePlist('<plist><array/></plist>', 'x')).toThrow(/root must be a <dict>/);
    expect(() => parsePlist('<plist><dict><key>a</key></dict></plist>', 'x')).toThrow(/alternate/);
    expect(() => parsePlist('<!DOCTYPE x [<!ENTITY a "b">]><plist><dict/></plist>', 'x')).toThrow(/entities/);
  });
});

describe('SEALPOST_POLICY_FILE never replaces a deployed policy', () => {
  it('the managed plist wins over the variable; without a managed policy the variable applies', async () => {
    const lax = path.join(tmp, 'lax.json');
    writeFileSync(lax, JSON.stringify({ requirePin: false }));
    const plistPath = path.join(import.meta.dirname, '../../fixtures/policy/managed-preferences.plist');
    const managed = await loadPolicy({ platform: 'darwin', env: { SEALPOST_POLICY_FILE: lax }, plistPath });
    expect(managed.values.requirePin).toBe(true);
    expect(managed.sources).not.toContain(lax);
    const none = await loadPolicy({ platform: 'darwin', env: { SEALPOST_POLICY_FILE: lax }, plistPath: path.join(tmp, 'none.plist') });
    expect(none.values.requirePin).toBe(false);
  });
});

describe('a JSON file (Linux, SEALPOST_POLICY_FILE)', () => {
  const file = (name: string, text: string): string => {
    const f = path.join(tmp, name);
    writeFileSync(f, text);
    return f;
  };
  it('bad JSON, wrong types, unknown keys, a named file that is missing: invalid, naming the file', async () => {
    const cases: [string, RegExp][] = [
      [file('bad.json', '{"requirePin": true,'), /bad\.json: not valid JSON/],
      [file('types.json', '{"requirePin": "yes", "pinMinLength": 3}'), /types\.json: invalid policy: requirePin: .*; pinMinLength: /],
      [file('unknown.json', '{"requirePIN": true}'), /unknown\.json: invalid policy: unknown setting "requirePIN"/],
      [file('array.json', '[]'), /array\.json: the policy must be an object/],
      [path.join(tmp, 'missing.json'), /missing\.json: does not exist/],
    ];
    for (const [f, message] of cases) {
      const p = await loadPolicy({ env: { SEALPOST_POLICY_FILE: f }, platform: 'linux' });
      expect(p.state, f).toBe('invalid');
      expect(p.error, f).toMatch(message);
    }
  });
});

describe('rules', () => {
  it('PINs, auto-lock, key services', () => {
    expect(checkNewPin({ requirePin: true }, '0')?.message).toBe('Your organization requires a PIN (policy: requirePin).');
    expect(checkNewPin({ pinMinLength: 6 }, '12345')?.key).toBe('pinMinLength');
    expect(checkNewPin({ pinMinLength: 6 }, '0')).toBeNull(); // no PIN is requirePin's business
    expect(checkAutoLock({ autoLockMaxMs: 900_000 }, 0)?.message).toMatch(/at most 15 min/);
    expect(checkAutoLock({ autoLockMaxMs: 900_000 }, 600_000)).toBeNull();
    expect(urlWithin('https://keys.example.org/v1', 'https://keys.example.org')).toBe(true);
    expect(urlWithin('https://keys.example.org.evil.test', 'https://keys.example.org')).toBe(false);
    expect(urlWithin('http://keys.example.org', 'https://keys.example.org')).toBe(false);
    expect(urlWithin('https://keys-dr.example.org/sealpostx', 'https://keys-dr.example.org/sealpost')).toBe(false);
    expect(checkKeyService({ keyServiceUrl: 'https://a.example' }, 'https://b.example')?.key).toBe('keyServiceUrl');
    expect(checkKeyService({ allowedKeyServices: ['https://a.example'], appId: 'app-1' }, 'https://a.example', 'app-2')?.key).toBe('appId');
  });
});

/**
 * The managed policy end to end on Linux: the built `sealpost` CLI in a child process
 * reads the policy file named by SEALPOST_POLICY_FILE (the /etc/sealpost/policy.json
 * format) and refuses what it forbids, against a real key service. An invalid policy
 * fails closed: exit 1 naming the file and the problem, and nothing in the profile changes.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyValue } from '../../../shared/policy.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { cliFor, requireBuiltCli, type Cli } from '../../helpers/cli.js';

let work: string;
let ks: KeyService;
let cli: Cli;
let policyFile: string;

const writePolicy = (policy: unknown): void => writeFileSync(policyFile, typeof policy === 'string' ? policy : JSON.stringify(policy, null, 2));

/** Every file of a profile and its SHA-256, to show that nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    const f = path.join(dir, name);
    if (statSync(f).isFile()) out[name] = createHash('sha256').update(readFileSync(f)).digest('hex');
  }
  return out;
}

beforeAll(async () => {
  requireBuiltCli();
  work = mkdtempSync(path.join(tmpdir(), 'sealpost-policy-cli-'));
  policyFile = path.join(work, 'policy.json');
  ks = await startKeyService();
  cli = cliFor(work, { pin: '482915', env: { SEALPOST_POLICY_FILE: policyFile } });
  writePolicy({
    keyServiceUrl: ks.url,
    appId: ks.app.appId,
    allowedKeyServices: [ks.url],
    requirePin: true,
    pinMinLength: 6,
    autoLockMaxMs: 600_000,
    allowIdentityExport: false,
    minRsaBits: 3072,
    notificationPreviews: 'off',
    recoveryBackupRequiredDays: 14,
  });
}, 60_000);

afterAll(async () => {
  await ks?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('sealpost under a managed policy (SEALPOST_POLICY_FILE)', () => {
  it('sealpost policy --json: each value, locked, and where it came from', async () => {
    const p = await cli.json<PolicyValue>('alice', ['policy']);
    expect(p).toMatchObject({ state: 'managed', sources: [policyFile], error: null });
    expect(p.settings.requirePin).toEqual({ value: true, source: 'policy', where: policyFile, locked: true });
    expect(p.settings.updates).toEqual({ value: true, source: 'default', where: null, locked: false });
    expect(p.recoveryBackup).toMatchObject({ requiredWithinDays: 14, dueAt: null, done: false, overdue: false });
    const human = await cli.ok('alice', ['policy']);
    expect(human.stdout).toMatch(/Policy: managed by your organization/);
    expect(human.stdout).toMatch(/requirePin\s+true\s+locked, from /);
  });

  it('PIN required: init with PIN 0 and a short PIN are refused; RSA below the minimum is refused', async () => {
    const noPin = await cli.run('alice', ['init'], { SEALPOST_PIN: '0' });
    expect(noPin.code).toBe(1);
    expect(noPin.stderr).toMatch(/PolicyForbidden \(-430\): Your organization requires a PIN \(policy: requirePin\)\./);
    const short = await cli.run('alice', ['--json', 'init'], { SEALPOST_PIN: '4821' });
    expect(JSON.parse(short.stdout)).toMatchObject({ code: -430, details: { policy: 'pinMinLength' } });
    const small = await cli.run('alice', ['init', '--rsa-bits', '2048']);
    expect(small.stderr).toMatch(/at least 3072 bits \(policy: minRsaBits\)/);
    const made = await cli.json<{ rsaBits: number }>('alice', ['init']);
    expect(made.rsaBits).toBe(3072);
  }, 120_000);

  it('change-pin to 0 is refused; export of the identity file is refused', async () => {
    const r = await cli.run('alice', ['change-pin'], { SEALPOST_NEW_PIN: '0' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/requires a PIN \(policy: requirePin\)/);
    await cli.ok('alice', ['status']); // the old PIN still unlocks
    const ex = await cli.run('alice', ['export-identity', '-o', path.join(work, 'id.sealpost')], { SEALPOST_PASSPHRASE: 'correct horse battery staple' });
    expect(ex.code).toBe(1);
    expect(ex.stderr).toMatch(/does not allow exporting the identity file \(policy: allowIdentityExport\)/);
    expect(existsSync(path.join(work, 'id.sealpost'))).toBe(false);
  });

  it('locked key service: registering elsewhere is refused; the allowed one works', async () => {
    const elsewhere = await cli.run('alice', ['register', '--server', 'http://127.0.0.1:9', '--app-id', ks.app.appId, '--server-key', ks.app.serverKey, '--username', 'alice']);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(/allows only the key service: .* \(policy: allowedKeyServices\)/);
    await cli.ok('alice', ['register', '--server', ks.url, '--app-id', ks.app.appId, '--server-key', ks.app.serverKey, '--username', 'alice']);
  });

  it('an invalid policy fails closed: exit 1 naming the file and the problem; nothing in the profile changes', async () => {
    const dir = cli.profile('alice');
    const before = snapshot(dir);
    const cases: [string, RegExp][] = [
      ['{"requirePin": true,', /policy\.json: not valid JSON/],
      ['{"requirePin": "yes"}', /policy\.json: invalid policy: requirePin: /],
      ['{"requirePin": true, "autoLockMinutes": 5}', /policy\.json: invalid policy: unknown setting "autoLockMinutes"/],
    ];
    for (const [text, problem] of cases) {
      writePolicy(text);
      for (const args of [['change-pin'], ['encrypt', '--id', 'x'], ['sync'], ['fingerprint']]) {
        const r = await cli.run('alice', args, { SEALPOST_NEW_PIN: '135790' }, 'data');
        expect(r.code, args.join(' ')).toBe(1);
        expect(r.stderr).toMatch(/PolicyInvalid \(-431\): Your organization's Sealpost policy cannot be used/);
        expect(r.stderr).toMatch(problem);
      }
      const p = await cli.run('alice', ['--json', 'policy']);
      expect(p.code).toBe(1);
      expect(JSON.parse(p.stdout)).toMatchObject({ code: -431, details: { policy: { state: 'invalid' } } });
    }
    // a fresh profile is not even created
    const fresh = await cli.run('bob', ['init']);
    expect(fresh.code).toBe(1);
    expect(existsSync(cli.profile('bob'))).toBe(false);
    expect(snapshot(dir)).toEqual(before);
  }, 120_000);
});

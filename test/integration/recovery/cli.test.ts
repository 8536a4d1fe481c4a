/**
 * Recovery from the command line (bin/sealpost.js -> dist/, `npm run build:node`
 * first) against a real key service and a real escrow service on loopback:
 * recovery-words after the PIN (postpone, wrong and right confirm, not shown
 * again), backup of the three shares, restore on new profiles with the words and
 * with the shares + PIN (registering with --server-key), a wrong PIN refused,
 * an escrow address the key service did not name refused before anything is sent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFor, requireBuiltCli } from '../../helpers/cli.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sealpost-recovery-cli-'));
const PIN = '482913';
const cli = cliFor(work, { pin: PIN });
const sealpost = cli.run;
const ok = cli.ok;

interface Status {
  hasIdentity: boolean;
  did: string | null;
  fingerprint: string | null;
  registered: boolean;
}
const engineStatus = async (who: string): Promise<Status> => (JSON.parse((await ok(who, ['--json', 'status'])).stdout) as { value: Status }).value;

describe('sealpost recovery-words / backup / restore', () => {
  let ks: KeyService;
  let escrow: KeyService;
  let words: string[] = [];
  let alice: Status;
  const restoreArgs = () => ['restore', '--server', ks.url, '--app-id', ks.app.appId, '--client-key', ks.app.clientKey, '--username', 'alice'];

  beforeAll(async () => {
    requireBuiltCli();
    ks = await startKeyService({ db: path.join(work, 'ks.db') });
    escrow = await startKeyService({ db: path.join(work, 'escrow.db') });
    await ok('alice', ['init', '--rsa-bits', '2048']);
    await ok('alice', ['register', '--server', ks.url, '--app-id', ks.app.appId, '--server-key', ks.app.serverKey, '--client-key', ks.app.clientKey, '--username', 'alice']);
    alice = await engineStatus('alice');
  });

  afterAll(async () => {
    await ks?.close();
    await escrow?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('prints the words once after the PIN; postpone keeps a reminder; a wrong confirm is refused; the right one confirms', async () => {
    const before = await ok('alice', ['recovery-words', '--status']);
    expect(before.stdout).toContain('Recovery words: not confirmed');
    expect(before.stdout).toContain('Reminder:');

    const wrongPin = await sealpost('alice', ['recovery-words'], { SEALPOST_PIN: '000000' });
    expect(wrongPin.code).toBe(1);
    expect(wrongPin.stderr).toContain('WrongPin');
    expect(wrongPin.stdout).toBe('');

    const shown = await ok('alice', ['recovery-words']);
    words = [...shown.stdout.matchAll(/\d+\. ([a-z]+)/g)].map((m) => m[1]!);
    expect(words).toHaveLength(24);
    // The words go to stdout only; the instructions (with the asked positions) to stderr.
    const ask = /confirm words ([\d, ]+):/.exec(shown.stderr)![1]!.split(', ').map(Number);
    expect(ask).toHaveLength(3);
    expect(shown.stderr).toBe(
      'Write these 24 words down and keep them offline: with them anyone can restore your identity.\n' +
        `Then confirm words ${ask.join(', ')}: sealpost recovery-words --confirm "${ask.map((p) => `${p}:WORD`).join(' ')}"\n` +
        '(or all 24 words in order), or postpone with: sealpost recovery-words --postpone\n',
    );

    const later = await ok('alice', ['recovery-words', '--postpone']);
    expect(later.stdout).toContain('Postponed');
    const postponed = await ok('alice', ['recovery-words', '--status']);
    expect(postponed.stdout).toMatch(/not confirmed \(postponed \d{4}-/);
    expect(postponed.stdout).toContain('Reminder:');

    const wrong = ask.map((p) => `${p}:${words[p - 1] === 'abandon' ? 'zoo' : 'abandon'}`).join(' ');
    const refused = await sealpost('alice', ['recovery-words', '--confirm', wrong]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('InvalidParameter');
    const malformed = await sealpost('alice', ['recovery-words', '--confirm', 'just three words']);
    expect(malformed.code).toBe(2);

    await ok('alice', ['recovery-words', '--confirm', ask.map((p) => `${p}:${words[p - 1]}`).join(' ')]);
    const confirmed = await ok('alice', ['recovery-words', '--status']);
    expect(confirmed.stdout).toContain('Recovery words: confirmed');
    expect(confirmed.stdout).toContain('Share backup:   none');
    const again = await sealpost('alice', ['recovery-words']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('InvalidState');
    expect(again.stdout).toBe('');
  });

  it('backs up the three shares; the escrow is remembered; neither the words nor the PIN are in the audit log', async () => {
    expect((await sealpost('alice', ['backup', '--escrow-url', escrow.url])).code).toBe(2);
    const r = await ok('alice', ['backup', '--escrow-url', escrow.url, '--escrow-app-id', escrow.app.appId, '--escrow-client-key', escrow.app.clientKey]);
    expect(r.stdout).toContain('Recovery shares stored.');
    expect(r.stdout).toContain(`escrow ${escrow.url}`);
    expect(r.stdout).not.toContain('Reminder:');
    // Again without naming the escrow: the remembered one is used.
    await ok('alice', ['backup']);
    const audit = await ok('alice', ['--json', 'audit', 'list', '--limit', '500']);
    expect(audit.stdout).not.toContain(words.slice(0, 4).join(' '));
    expect(audit.stdout).not.toContain(PIN);
    expect(audit.stdout).not.toContain(escrow.app.clientKey);
  });

  it('restores with the words (read from standard input) on a new profile with a new PIN, and registers with --server-key', async () => {
    const r = await ok('new-words', [...restoreArgs(), '--words', '-', '--server-key', ks.app.serverKey], { SEALPOST_PIN: '1357' }, `${words.join(' ')}\n`);
    expect(r.stdout).toContain('Identity restored with the recovery words');
    expect(r.stdout).toContain('Registered as alice');
    const s = await engineStatus('new-words');
    expect(s).toMatchObject({ hasIdentity: true, did: alice.did, fingerprint: alice.fingerprint, registered: true });
    // The new device's PIN is the one given at restore.
    const wrong = await sealpost('new-words', ['recovery-words', '--confirm', words.join(' ')], { SEALPOST_PIN: PIN });
    expect(wrong.stderr).toContain('WrongPin');
    // Words restored were written down: they count as confirmed.
    expect((await ok('new-words', ['recovery-words', '--status'], { SEALPOST_PIN: '1357' })).stdout).toContain('Recovery words: confirmed');
    // A profile with an identity refuses a restore.
    const twice = await sealpost('new-words', [...restoreArgs(), '--words', words.join(' ')], { SEALPOST_PIN: '1357' });
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('InvalidState');
  });

  it('restores with the shares + PIN; a wrong PIN is refused and counted; an escrow the key service did not name is refused first', async () => {
    const usage = await sealpost('new-shares', [...restoreArgs(), '--shares']);
    expect(usage.code).toBe(2);
    expect((await sealpost('new-shares', [...restoreArgs(), '--shares', '--words', 'x', '--escrow-client-key', escrow.app.clientKey])).code).toBe(2);

    const other = await sealpost('new-shares', [...restoreArgs(), '--shares', '--escrow-url', 'http://127.0.0.1:9/', '--escrow-client-key', escrow.app.clientKey]);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('InvalidParameter');
    expect(other.stderr).toContain(escrow.url);

    const wrong = await sealpost('new-shares', [...restoreArgs(), '--shares', '--escrow-client-key', escrow.app.clientKey], { SEALPOST_PIN: '111111' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('WrongPin');
    expect(wrong.stderr).toContain('counted');
    expect((await engineStatus('new-shares')).hasIdentity).toBe(false);

    const r = await ok('new-shares', [...restoreArgs(), '--shares', '--escrow-url', escrow.url, '--escrow-client-key', escrow.app.clientKey, '--server-key', ks.app.serverKey, '--json']);
    const value = (JSON.parse(r.stdout) as { value: { did: string; method: string; registered: boolean } }).value;
    expect(value).toEqual({ did: alice.did, fingerprint: alice.fingerprint, method: 'shares', registered: true });
    expect(await engineStatus('new-shares')).toMatchObject({ did: alice.did, registered: true });

    // The key service logged the refused attempt and the release.
    const log = await ks.request<{ entries: Array<{ action: string; result: string }> }>('GET', '/v1/audit?limit=1000', { serverKey: ks.app.serverKey });
    const releases = log.json.entries.filter((e) => e.action === 'recovery.release');
    expect(releases.some((e) => e.result === 'denied')).toBe(true);
    expect(releases.filter((e) => e.result === 'ok').length).toBeGreaterThanOrEqual(2);
  });
});

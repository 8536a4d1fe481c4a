/**
 * Issue 7 from the command line (bin/sealpost.js -> dist/, `npm run build:node`
 * first), real processes and a real key service on loopback: alice and bob
 * exchange messages, alice runs `sealpost rotate-key` (PIN from SEALPOST_PIN),
 * bob's `contacts add alice` shows the signed rotation without the alarm, bob
 * writes again, alice reads old and new; a wrong PIN and stray arguments are
 * refused with a clear error. A profile set up from an identity file exported
 * before a rotation is warned when it registers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFor, requireBuiltCli } from '../../helpers/cli.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sealpost-rotate-cli-'));
const cli = cliFor(work, { pin: '2468' });
const sealpost = cli.run;
const ok = async (who: string, args: string[], env?: Record<string, string>): Promise<string> => (await cli.ok(who, args, env)).stdout;

const json = async <T>(who: string, args: string[]): Promise<T> => (JSON.parse(await ok(who, ['--json', ...args])) as { value: T }).value;

describe('sealpost rotate-key', () => {
  let ks: KeyService;

  beforeAll(async () => {
    requireBuiltCli();
    ks = await startKeyService();
    for (const who of ['alice', 'bob']) {
      await ok(who, ['init', '--rsa-bits', '2048']);
      await ok(who, ['register', '--server', ks.url, '--app-id', ks.app.appId, '--server-key', ks.app.serverKey, '--username', who]);
    }
  });

  afterAll(async () => {
    await ks?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('rotates; the contact sees a signed change, not the alarm; old and new messages stay readable', async () => {
    const before = await json<{ fingerprint: string }>('alice', ['fingerprint']);
    const added = await json<{ fingerprint: string }>('bob', ['contacts', 'add', 'alice']);
    await ok('bob', ['contacts', 'verify', 'alice', added.fingerprint]);
    await ok('bob', ['send', '--to', 'alice', '--text', 'before the rotation']);
    await ok('bob', ['sync']);

    // Usage errors and a wrong PIN: clear, nothing changed.
    const stray = await sealpost('alice', ['rotate-key', 'now']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/rotate-key takes no arguments/);
    const wrong = await sealpost('alice', ['rotate-key'], { SEALPOST_PIN: '1111' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/WrongPin \(-102\)/);
    expect((await json<{ fingerprint: string }>('alice', ['fingerprint'])).fingerprint).toBe(before.fingerprint);

    const human = await ok('alice', ['rotate-key']);
    expect(human).toMatch(/Encryption key rotated \(1 older key kept/);
    expect(human).toContain(`Old fingerprint: ${before.fingerprint}`);
    const after = await json<{ fingerprint: string }>('alice', ['fingerprint']);
    expect(after.fingerprint).not.toBe(before.fingerprint);

    const listed = await ok('bob', ['contacts', 'add', 'alice']);
    expect(listed).toMatch(/verified/);
    expect(listed).not.toMatch(/KEY CHANGED/);
    expect(listed).toMatch(/rotated key/);
    const contact = await json<{ fingerprint: string; verified: boolean; keyChanged: boolean; keyChangedAt: number }>('bob', ['contacts', 'add', 'alice']);
    expect(contact).toMatchObject({ fingerprint: after.fingerprint, verified: true, keyChanged: false });

    await ok('bob', ['send', '--to', 'alice', '--text', 'after the rotation']);
    await ok('bob', ['sync']);
    await ok('alice', ['sync']);
    const inbox = await json<{ text: string | null; sender: string }[]>('alice', ['inbox']);
    expect(inbox.map((m) => m.text)).toEqual(expect.arrayContaining(['before the rotation', 'after the rotation']));
    expect(inbox.filter((m) => m.sender === 'rejected')).toEqual([]);

    // --json: the whole result.
    const again = await json<{ previousKeys: number; published: boolean; previousFingerprint: string }>('alice', ['rotate-key']);
    expect(again).toMatchObject({ previousKeys: 2, published: true, previousFingerprint: after.fingerprint });
  });

  it('a profile set up from an identity file older than the last rotation is warned when it registers', async () => {
    const env = { SEALPOST_PASSPHRASE: 'correct horse battery' };
    const file = path.join(work, 'alice-before.spid');
    await ok('alice', ['export-identity', '-o', file], env);
    await ok('alice', ['rotate-key']);
    const newest = await json<{ fingerprint: string }>('alice', ['fingerprint']);
    const register = ['register', '--server', ks.url, '--app-id', ks.app.appId, '--server-key', ks.app.serverKey, '--username', 'alice'];
    // The profile that rotated: no warning.
    expect((await cli.ok('alice', register)).stderr).not.toMatch(/newer encryption key/);

    await ok('alice-old', ['import-identity', file], env);
    const stale = await cli.ok('alice-old', register);
    expect(stale.stdout).toMatch(/Registered as alice/);
    expect(stale.stderr).toContain(`Warning: your identity moved to a newer encryption key on `);
    expect(stale.stderr).toContain(`(fingerprint ${newest.fingerprint}) that this profile does not have.`);
    const asJson = await json<{ newerKey: { fingerprint: string; changedAt: string } | null }>('alice-old', register);
    expect(asJson.newerKey).toMatchObject({ fingerprint: newest.fingerprint });
  });
});

/**
 * IT deployment end to end with the built commands as child processes: the admin
 * issues enrollment codes (`npm run server -- admin enroll`, dist/server/cli.js on
 * the running service's SQLite file), two desktops register with them
 * (`sealpost register --enroll LINK` and `--enrollment-code`), exchange a message,
 * a used code is refused, the server key is nowhere in either profile (files and
 * keychain entries), and a user who turned TOTP on (`sealpost totp`) must give a
 * current code to register again and to approve a device link.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnrollLink } from '../../../shared/enroll-wire.js';
import { cliFor, type CliRun, requireBuiltCli, runNode, SERVER_CLI } from '../../helpers/cli.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sealpost-enroll-cli-'));
const db = path.join(work, 'keyservice.db');
const cli = cliFor(work, { pin: '1357' });
let ks: KeyService;

/** `npm run server -- admin enroll ...` without the build step (dist is built). */
function adminEnroll(args: string[]): Promise<CliRun> {
  return runNode(SERVER_CLI, ['admin', 'enroll', '--db', db, '--public-url', ks.url, ...args]);
}

async function issue(username: string): Promise<{ code: string; link: string }> {
  const r = await adminEnroll(['--app', ks.app.appId, '--username', username, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { code: string; link: string };
}

/** Every file of a folder, recursively, as bytes (and base64-decoded keychain entries). */
function profileBytes(dir: string): string {
  const parts: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) parts.push(profileBytes(p));
    else {
      const raw = readFileSync(p);
      parts.push(raw.toString('latin1'));
      if (name === 'keychain.json') {
        const entries = (JSON.parse(raw.toString('utf8')) as { entries: Record<string, string> }).entries;
        for (const v of Object.values(entries)) parts.push(Buffer.from(v, 'base64').toString('latin1'));
      }
    }
  }
  return parts.join('\n');
}

beforeAll(async () => {
  requireBuiltCli();
  ks = await startKeyService({ db });
  await Promise.all([cli.ok('alice', ['init', '--rsa-bits', '2048']), cli.ok('bob', ['init', '--rsa-bits', '2048'])]);
});

afterAll(async () => {
  await ks?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('enrollment codes with the built CLI', () => {
  it('registers two desktops with codes, and they exchange a message', async () => {
    const human = await adminEnroll(['--app', ks.app.appId, '--username', 'alice']);
    expect(human.code, human.stderr).toBe(0);
    const link = /link {2}(sealpost:\/\/enroll\?\S+)/.exec(human.stdout)![1]!;
    expect(parseEnrollLink(link).username).toBe('alice');

    const a = await cli.ok('alice', ['register', '--enroll', link]);
    expect(a.stdout).toMatch(/Registered as alice/);
    const bobCode = await issue('bob');
    await cli.ok('bob', ['register', '--server', ks.url, '--app-id', ks.app.appId, '--enrollment-code', bobCode.code.toLowerCase(), '--username', 'bob']);

    await cli.ok('alice', ['send', '--to', 'bob', '--text', 'enrolled without a server key']);
    await cli.ok('alice', ['sync']);
    await cli.ok('bob', ['sync']);
    const inbox = await cli.json<Array<{ text?: string; preview?: string }>>('bob', ['inbox']);
    expect(JSON.stringify(inbox)).toContain('enrolled without a server key');

    // Both sides audited.
    const local = await cli.json<Array<{ action: string; result: string; details: Record<string, unknown> | null }>>('alice', ['audit', 'list']);
    expect(local.some((e) => e.action === 'device.register' && e.result === 'ok' && e.details?.via === 'enrollment-code')).toBe(true);
    const server = await ks.server.store.listAudit(ks.app.appId, null, 0, 100_000);
    expect(server.filter((e) => e.action === 'users.enroll' && e.status === 200)).toHaveLength(2);
  });

  it('refuses a used code with a clear error, and usage errors name what is missing', async () => {
    const carolCode = await issue('carol');
    await cli.ok('carol', ['init', '--rsa-bits', '2048']);
    await cli.ok('carol', ['register', '--server', ks.url, '--app-id', ks.app.appId, '--enrollment-code', carolCode.code, '--username', 'carol']);
    const again = await cli.run('carol', ['register', '--enroll', carolCode.link]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not valid for this app and user name/);

    const bad = await cli.run('carol', ['register', '--enroll', 'sealpost://enroll?server=http://x&app=a']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--enroll: the enrollment link has no valid app|no valid code/);
    const none = await cli.run('carol', ['register', '--server', ks.url, '--app-id', ks.app.appId, '--username', 'carol']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--enrollment-code/);

    const csvErr = await adminEnroll(['--app', ks.app.appId]);
    expect(csvErr.code).toBe(2);
    expect(csvErr.stderr).toMatch(/--username NAME or --csv FILE/);
  });

  it('never puts the server key in a desktop profile (files or keychain entries)', () => {
    for (const who of ['alice', 'bob', 'carol']) {
      const bytes = profileBytes(cli.profile(who));
      expect(bytes.length).toBeGreaterThan(1000);
      expect(bytes).not.toContain(ks.app.serverKey);
      expect(bytes).not.toContain('serverKey');
    }
  });

  it('asks a user with TOTP on for a current code before registering again', async () => {
    const enabled = await cli.json<{ secret: string; uri: string }>('alice', ['totp', 'enable']);
    expect(enabled.uri).toMatch(/^otpauth:\/\/totp\//);
    const secret = Secret.fromBase32(enabled.secret);
    const step = Math.floor(Date.now() / 30_000);
    const code = (s: number) => TOTP.generate({ secret, timestamp: s * 30_000 });
    const confirmed = await cli.json<{ recoveryCodes: string[] }>('alice', ['totp', 'confirm', code(step)]);
    expect(confirmed.recoveryCodes).toHaveLength(10);
    expect((await cli.json<{ enabled: boolean }>('alice', ['totp', 'status'])).enabled).toBe(true);

    const again = await issue('alice');
    const without = await cli.run('alice', ['register', '--enroll', again.link]);
    expect(without.code).toBe(1);
    expect(without.stderr).toMatch(/add --totp CODE/);
    const replayed = await cli.run('alice', ['register', '--enroll', again.link, '--totp', code(step)]);
    expect(replayed.code).toBe(1);
    expect(replayed.stderr).toMatch(/wrong or was used already/);
    await cli.ok('alice', ['register', '--enroll', again.link, '--totp', confirmed.recoveryCodes[0]!]);

    // Approving a device link needs the code too: passed through the engine as a header.
    const noCode = await cli.run('alice', ['link', '1234-5678', '--confirm', '123456']);
    expect(noCode.code).toBe(1);
    expect(noCode.stderr).toMatch(/two-step verification/);
    const next = code(Math.max(Math.floor(Date.now() / 30_000), step + 1));
    const withCode = await cli.run('alice', ['link', '1234-5678', '--confirm', '123456', '--totp', next]);
    expect(withCode.code).toBe(1);
    expect(withCode.stderr).not.toMatch(/two-step verification/);

    await cli.ok('alice', ['totp', 'disable', confirmed.recoveryCodes[1]!]);
    expect((await cli.json<{ enabled: boolean }>('alice', ['totp', 'status'])).enabled).toBe(false);
  });
});

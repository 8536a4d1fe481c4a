/**
 * The `sealpost` command as a user runs it (bin/sealpost.js -> dist/, built by
 * `npm test` before the tests): two profiles exchange a sealed file and a piped
 * message, IDENTOS encrypt/decrypt, wrong PINs and their exit codes, usage errors,
 * and the audit chain. File keychain and cheap scrypt keep it quick; the real
 * Secret Service is covered by test/unit/keychain.
 */
import { execFile as execFileCb, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const execFile = promisify(execFileCb);
const root = path.resolve(import.meta.dirname, '../../..');
const bin = path.join(root, 'bin/sealpost.js');
const work = mkdtempSync(path.join(os.tmpdir(), 'sealpost-cli-'));
const alice = path.join(work, 'alice');
const bob = path.join(work, 'bob');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sealpost(args: string[], opts: { pin?: string; input?: Buffer | string; env?: Record<string, string> } = {}): Promise<Run & { raw: Buffer }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, SEALPOST_KEYCHAIN: 'file', SEALPOST_INSECURE_TEST_KDF: '1', ...opts.env };
    delete env.SEALPOST_PIN;
    delete env.SEALPOST_PROFILE;
    if (opts.pin !== undefined) env.SEALPOST_PIN = opts.pin;
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const raw = Buffer.concat(out);
      resolve({ code: code ?? -1, stdout: raw.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), raw });
    });
    child.stdin.end(opts.input ?? '');
  });
}

beforeAll(async () => {
  if (!existsSync(path.join(root, 'dist/electron/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build:node` (npm test does) first');
  const [a, b] = await Promise.all([
    sealpost(['--profile', alice, 'init', '--rsa-bits', '2048'], { pin: '1111' }),
    sealpost(['--profile', bob, 'init', '--rsa-bits', '2048'], { pin: '2222' }),
  ]);
  expect(a.code, a.stderr).toBe(0);
  expect(b.code, b.stderr).toBe(0);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('sealpost CLI', () => {
  it('prints the help with every command, and exits 2 on usage errors', async () => {
    const help = await sealpost(['help']);
    expect(help.code).toBe(0);
    for (const c of ['init', 'export-public-key', 'fingerprint', 'seal', 'open', 'encrypt', 'decrypt', 'audit verify']) expect(help.stdout).toContain(c);
    expect((await sealpost(['frobnicate'])).code).toBe(2);
    const badOpt = await sealpost(['--profile', alice, 'fingerprint', '--nope']);
    expect(badOpt.code).toBe(2);
    expect(badOpt.stderr).toMatch(/nope/);
    expect((await sealpost(['--profile', alice, 'seal', 'x'], { pin: '1111' })).code).toBe(2);
  });

  it('init reports the identity; a second init is refused (InvalidState)', async () => {
    const again = await sealpost(['--profile', alice, 'init'], { pin: '1111' });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/InvalidState \(-2\)/);
    const status = await sealpost(['--profile', alice, '--json', 'status']);
    const parsed = JSON.parse(status.stdout) as { code: number; value: { hasIdentity: boolean; keychainBackend: string } };
    expect(parsed).toMatchObject({ code: 0, value: { hasIdentity: true, keychainBackend: 'file' } });
  });

  it('fingerprint and export-public-key agree with status', async () => {
    const fp = await sealpost(['--profile', alice, 'fingerprint']);
    expect(fp.code).toBe(0);
    expect(fp.stdout.split('\n')[0]).toMatch(/^[0-9a-f]{64}$/);
    const pemFile = path.join(work, 'alice.pem');
    expect((await sealpost(['--profile', alice, 'export-public-key', '-o', pemFile])).code).toBe(0);
    expect(readFileSync(pemFile, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  });

  it('seals a file for bob that bob opens byte for byte, and alice (included) too; a stranger cannot', async () => {
    const bobPem = path.join(work, 'bob.pem');
    expect((await sealpost(['--profile', bob, 'export-public-key', '-o', bobPem])).code).toBe(0);
    const plain = path.join(work, 'report.bin');
    const data = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(plain, data);
    const sealed = path.join(work, 'report.sealed');
    const s = await sealpost(['--profile', alice, 'seal', '--to', bobPem, plain, '-o', sealed], { pin: '1111' });
    expect(s.code, s.stderr).toBe(0);
    const opened = path.join(work, 'report.out');
    const o = await sealpost(['--profile', bob, 'open', sealed, '-o', opened], { pin: '2222' });
    expect(o.code, o.stderr).toBe(0);
    expect(createHash('sha256').update(readFileSync(opened)).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    const own = await sealpost(['--profile', alice, 'open', sealed, '-o', path.join(work, 'own.out')], { pin: '1111' });
    expect(own.code, own.stderr).toBe(0);
    expect(own.stderr).toContain('from you');

    const carol = path.join(work, 'carol');
    expect((await sealpost(['--profile', carol, 'init', '--rsa-bits', '2048'], { pin: '3333' })).code).toBe(0);
    const stranger = await sealpost(['--profile', carol, 'open', sealed, '-o', path.join(work, 'carol.out')], { pin: '3333' });
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toMatch(/Tampered \(-420\).*Not readable/);
    expect(existsSync(path.join(work, 'carol.out'))).toBe(false);
  });

  it('seals piped text to stdout and opens it from stdin; a flipped byte is refused', async () => {
    const bobPem = path.join(work, 'bob.pem');
    const s = await sealpost(['--profile', alice, 'seal', '--to', bobPem], { pin: '1111', input: 'meet at noon' });
    expect(s.code, s.stderr).toBe(0);
    const o = await sealpost(['--profile', bob, 'open'], { pin: '2222', input: s.raw });
    expect(o.code, o.stderr).toBe(0);
    expect(o.stdout).toBe('meet at noon');
    const bad = Buffer.from(s.raw);
    bad[bad.length - 3]! ^= 0x40;
    const t = await sealpost(['--profile', bob, 'open'], { pin: '2222', input: bad });
    expect(t.code).toBe(1);
    expect(t.stdout).toBe('');
    expect(t.stderr).toMatch(/Tampered|BadSignature/);
  });

  it('IDENTOS encrypt/decrypt through the CLI, with --json results', async () => {
    const e = await sealpost(['--profile', alice, '--json', 'encrypt', '--id', 'note-1'], { pin: '1111', input: 'vault note' });
    const er = JSON.parse(e.stdout) as { code: number; value: [string, string] };
    expect(er.code).toBe(0);
    expect(er.value[1]).toBe('note-1');
    const ctFile = path.join(work, 'note.ct');
    writeFileSync(ctFile, er.value[0]);
    const d = await sealpost(['--profile', alice, 'decrypt', ctFile], { pin: '1111' });
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toBe('vault note');
    // bob holds no key for alice's item
    const other = await sealpost(['--profile', bob, 'decrypt', ctFile], { pin: '2222' });
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/NotFound/);
  });

  it('a wrong PIN exits 1 with WrongPin and the attempts left; a malformed one with InvalidPin', async () => {
    const w = await sealpost(['--profile', bob, 'decrypt'], { pin: '9999', input: 'U1BJQw==' });
    expect(w.code).toBe(1);
    expect(w.stderr).toMatch(/WrongPin \(-102\).*9 attempts left/);
    const m = await sealpost(['--profile', bob, 'encrypt'], { pin: 'abc', input: 'x' });
    expect(m.stderr).toMatch(/InvalidPin \(-101\)/);
    // The right PIN resets the count.
    expect((await sealpost(['--profile', bob, 'device-package'], { pin: '2222' })).code).toBe(0);
    const s = JSON.parse((await sealpost(['--profile', bob, '--json', 'status'])).stdout) as { value: { attemptsLeft: number } };
    expect(s.value.attemptsLeft).toBe(10);
  });

  it('missing files are clear errors, not crashes', async () => {
    const r = await sealpost(['--profile', alice, 'encrypt', path.join(work, 'nope.txt')], { pin: '1111' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/InvalidParameter.*no such file/);
  });

  it('audit list shows the CLI requests and audit verify checks the chain, and catches an edit', async () => {
    const list = await sealpost(['--profile', alice, 'audit', 'list', '--action', 'encrypt']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/\tcli\tencrypt\t/);
    const v = await sealpost(['--profile', alice, 'audit', 'verify']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/Audit chain OK \(\d+ entries\)/);

    // Someone with the file edits history behind the app's back (the triggers are dropped first).
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(path.join(alice, 'vault.db'));
    db.exec("DROP TRIGGER audit_no_update; UPDATE audit SET target = 'rewritten' WHERE id = 2;");
    db.close();
    const broken = await sealpost(['--profile', alice, 'audit', 'verify']);
    expect(broken.code).toBe(1);
    expect(broken.stdout + broken.stderr).toMatch(/BROKEN|Tampered/);
  });

  it('the built bin runs as an npm bin would (execFile, no shell)', async () => {
    const { stdout } = await execFile(process.execPath, [bin, 'help']);
    expect(stdout).toMatch(/^Usage: sealpost/);
  });
});

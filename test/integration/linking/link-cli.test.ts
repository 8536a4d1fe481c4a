/**
 * Device linking with the built CLI (bin/sealpost.js -> dist/, `npm run
 * build:node` first) against a real key service on loopback, two processes at
 * once: a new profile runs `sealpost link --server ...` and prints a code; the
 * existing, registered profile runs `sealpost link CODE`, and both print the same
 * verification code, which the test compares (as a person would) and types into
 * the existing device's confirmation prompt. The linked profile is then a new
 * device of the same user and, after its sync, has the message history and the
 * vault items. Also: a wrong code, a mismatching --confirm (nothing sent, the new
 * device's request ends), and usage errors.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';

const root = path.resolve(import.meta.dirname, '../../..');
const bin = path.join(root, 'bin/sealpost.js');
const work = mkdtempSync(path.join(os.tmpdir(), 'sealpost-link-cli-'));
const PIN = '482913';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface Live {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first match of `re` on stdout. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  done: Promise<Run>;
}

function start(who: string, args: string[], env: Record<string, string> = {}): Live {
  const e: NodeJS.ProcessEnv = { ...process.env, SEALPOST_KEYCHAIN: 'file', SEALPOST_INSECURE_TEST_KDF: '1', SEALPOST_PIN: PIN, ...env };
  delete e.SEALPOST_PROFILE;
  delete e.SEALPOST_SERVER_KEY;
  const child = spawn(process.execPath, [bin, '--profile', path.join(work, who), ...args], { env: e, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString('utf8');
    for (const l of listeners) l();
  });
  child.stderr.on('data', (b: Buffer) => {
    err += b.toString('utf8');
  });
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      for (const l of listeners) l();
      resolve({ code: code ?? -1, stdout: out, stderr: err });
    });
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    done,
    waitFor: (re, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in stdout:\n${out}\nstderr:\n${err}`)), timeoutMs);
        const check = () => {
          const m = re.exec(out);
          if (m) {
            clearTimeout(timer);
            listeners.delete(check);
            resolve(m);
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            listeners.delete(check);
            reject(new Error(`${who} exited (${child.exitCode}) before ${re}:\n${out}\n${err}`));
          }
        };
        listeners.add(check);
        check();
      }),
  };
}

async function run(who: string, args: string[], env?: Record<string, string>, input = ''): Promise<Run> {
  const p = start(who, args, env);
  p.child.stdin.end(input);
  return p.done;
}

async function ok(who: string, args: string[], env?: Record<string, string>): Promise<string> {
  const r = await run(who, args, env);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

const json = async <T>(who: string, args: string[]): Promise<T> => (JSON.parse(await ok(who, ['--json', ...args])) as { value: T }).value;

describe('sealpost link: a new device approved by an existing one', () => {
  let ks: KeyService;
  let noteId = '';
  const newArgs = () => ['link', '--server', ks.url, '--app-id', ks.app.appId, '--client-key', ks.app.clientKey, '--username', 'alice'];
  const reg = (who: string) => ['register', '--server', ks.url, '--app-id', ks.app.appId, '--server-key', ks.app.serverKey, '--client-key', ks.app.clientKey, '--username', who];

  beforeAll(async () => {
    if (!existsSync(path.join(root, 'dist/electron/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build:node` first');
    ks = await startKeyService({ db: path.join(work, 'ks.db') });
    for (const who of ['alice', 'bob']) {
      await ok(who, ['init', '--rsa-bits', '2048']);
      await ok(who, reg(who));
    }
    await ok('bob', ['contacts', 'add', 'alice']);
    await ok('bob', ['send', '--to', 'alice', '--subject', 'Dinner', '--text', 'see you at eight']);
    await ok('bob', ['sync']);
    await ok('alice', ['sync']);
    noteId = (await ok('alice', ['item', 'add', '--name', 'Recipe', '--text', 'two eggs'])).trim();
    await ok('alice', ['items']);
  }, 120_000);

  afterAll(async () => {
    await ks?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('links through the CLI: same verification code on both, then the new device has the history and the items', async () => {
    const laptop = start('laptop', [...newArgs(), '--server-key', ks.app.serverKey]);
    const code = (await laptop.waitFor(/Link code: (\d{4}-\d{4})/))[1]!;

    const alice = start('alice', ['link', code]);
    const sasOld = (await alice.waitFor(/Verification code: (\d{3} \d{3})/))[1]!;
    const sasNew = (await laptop.waitFor(/Verification code: (\d{3} \d{3})/))[1]!;
    expect(sasNew).toBe(sasOld);
    // The person compares the two screens and types the code to confirm.
    alice.child.stdin.end(`${sasNew}\n`);
    const [a, l] = await Promise.all([alice.done, laptop.done]);
    expect(a.code, a.stderr).toBe(0);
    expect(l.code, l.stderr).toBe(0);
    expect(l.stdout).toMatch(/Registered as a new device of alice and synced/);

    const [aliceStatus, laptopStatus] = await Promise.all([json<{ did: string; fingerprint: string }>('alice', ['status']), json<{ did: string; fingerprint: string; registered: boolean }>('laptop', ['status'])]);
    expect(laptopStatus).toMatchObject({ did: aliceStatus.did, fingerprint: aliceStatus.fingerprint, registered: true });

    // A new device of the same user, not a copy of alice's device.
    const dir = await ks.request<{ devices: Array<{ deviceId: string }> }>('GET', '/v1/users/alice', { clientKey: ks.app.clientKey });
    expect(dir.json.devices).toHaveLength(2);

    const inbox = await json<Array<{ subject: string; text?: string; peerName: string | null }>>('laptop', ['inbox']);
    expect(inbox).toEqual([expect.objectContaining({ subject: 'Dinner', peerName: 'bob' })]);
    const items = await json<Array<{ identifier: string; title: string; mine: boolean }>>('laptop', ['items']);
    expect(items).toEqual([expect.objectContaining({ identifier: noteId, title: 'Recipe', mine: true })]);
    expect(await ok('laptop', ['item', 'get', noteId])).toBe('two eggs');

    // The key service forgot the session; each step is in its audit log.
    const audit = await ks.request<{ entries: Array<{ action: string; result: string }> }>('GET', '/v1/audit?limit=1000', { serverKey: ks.app.serverKey });
    const actions = new Set(audit.json.entries.filter((e) => e.action.startsWith('link.')).map((e) => `${e.action}:${e.result}`));
    for (const a of ['link.create:ok', 'link.claim:ok', 'link.reveal:ok', 'link.seal:ok', 'link.delete:ok']) expect(actions).toContain(a);
  }, 120_000);

  it('a mismatching --confirm sends nothing and ends the request; a wrong code is NotFound', async () => {
    const tablet = start('tablet', newArgs(), { SEALPOST_PIN: '2468' });
    const code = (await tablet.waitFor(/Link code: (\d{4}-\d{4})/))[1]!;
    const wrong = code === '0000-0000' ? '0000-0001' : '0000-0000';
    const notFound = await run('alice', ['--json', 'link', wrong, '--confirm', '123456']);
    expect(notFound.code).toBe(1);
    expect(JSON.parse(notFound.stdout)).toMatchObject({ code: -404 });

    const alice = start('alice', ['link', code, '--confirm', '000000']);
    const sas = (await alice.waitFor(/Verification code: (\d{3} \d{3})/))[1]!;
    const [a, t] = await Promise.all([alice.done, tablet.done]);
    if (sas === '000 000') return; // one chance in a million: the confirm was right
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/InvalidParameter.*codes differ: nothing was sent/);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/NotFound.*expired or was cancelled/);
    expect((await json<{ hasIdentity: boolean }>('tablet', ['status'])).hasIdentity).toBe(false);
  }, 60_000);

  it('usage errors exit 2 with a readable message', async () => {
    const mixed = await run('alice', ['link', '1234-5678', '--server', ks.url]);
    expect([mixed.code, mixed.stderr]).toEqual([2, expect.stringMatching(/--server goes on the new device/)]);
    const short = await run('alice', ['link', '12345']);
    expect([short.code, short.stderr]).toEqual([2, expect.stringMatching(/8 digits/)]);
    const missing = await run('fresh', ['link', '--server', ks.url]);
    expect([missing.code, missing.stderr]).toEqual([2, expect.stringMatching(/needs --server, --app-id, --client-key and --username/)]);
    const badConfirm = await run('alice', ['link', '1234-5678', '--confirm', 'yes']);
    expect([badConfirm.code, badConfirm.stderr]).toEqual([2, expect.stringMatching(/6-digit/)]);
  });
});

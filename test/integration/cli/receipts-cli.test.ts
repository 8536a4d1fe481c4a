/**
 * Read receipts through the built CLI (child processes, as a user runs it):
 * `sealpost read` of an incoming message sends the receipt at once, the
 * sender's `inbox` then says read; `sealpost receipts [on|off]` shows and
 * changes the setting, and anything else is a usage error (exit 2).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { cleanup, tmp } from '../sync/helpers.js';

const repo = path.resolve(import.meta.dirname, '../../..');
const bin = path.join(repo, 'bin/sealpost.js');

function sealpost(profile: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, SEALPOST_KEYCHAIN: 'file', SEALPOST_INSECURE_TEST_KDF: '1', SEALPOST_PIN: '0' };
  delete env.SEALPOST_PROFILE;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, '--profile', profile, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function ok(profile: string, args: string[]): Promise<string> {
  const r = await sealpost(profile, args);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

type Row = { id: number; direction: string; state: string; readAt: number | null; text: string };
/** --json prints the call's result: { code, value }. */
const json = async <T>(profile: string, args: string[]): Promise<T> => (JSON.parse(await ok(profile, ['--json', ...args])) as { code: number; value: T }).value;
const inbox = (profile: string): Promise<Row[]> => json<Row[]>(profile, ['inbox']);

describe('sealpost read and receipts', () => {
  const root = tmp('sealpost-receipts-cli-');
  const alice = path.join(root, 'alice');
  const bob = path.join(root, 'bob');
  let ks: KeyService;

  beforeAll(async () => {
    if (!existsSync(path.join(repo, 'dist/electron/cli/commands-messaging.js'))) throw new Error('dist/ is missing: run `npm run build:node` first');
    ks = await startKeyService({ db: path.join(root, 'ks.db') });
    for (const [dir, name] of [
      [alice, 'alice'],
      [bob, 'bob'],
    ] as const) {
      await ok(dir, ['init', '--rsa-bits', '2048']);
      await ok(dir, ['register', '--server', ks.url, '--app-id', ks.app.appId, '--server-key', ks.app.serverKey, '--username', name]);
    }
  });

  afterAll(async () => {
    await ks?.close();
    cleanup(root);
  });

  it('reading sends the receipt at once; the sender sees read after a sync', async () => {
    expect(await ok(alice, ['send', '--to', 'bob', '--text', 'read me'])).toMatch(/^Sent 1 message/);
    await ok(bob, ['sync']);
    const [got] = await inbox(bob);
    expect(got).toMatchObject({ direction: 'in', text: 'read me' });
    expect(await ok(bob, ['read', String(got!.id)])).toContain('read me');
    await ok(alice, ['sync']);
    const [mine] = await inbox(alice);
    expect(mine).toMatchObject({ direction: 'out', state: 'read' });
    expect(mine!.readAt).toEqual(expect.any(Number));
    expect(await ok(alice, ['inbox'])).toMatch(/to bob\tread\t/);
  });

  it('receipts shows and changes the setting; off sends none', async () => {
    expect(await ok(bob, ['receipts'])).toBe('Read receipts are on.\n');
    expect(await ok(bob, ['receipts', 'off'])).toBe('Read receipts are off.\n');
    expect(await json(bob, ['receipts'])).toEqual({ enabled: false });
    await ok(alice, ['send', '--to', 'bob', '--text', 'not receipted']);
    await ok(bob, ['sync']);
    const got = (await inbox(bob)).find((m) => m.text === 'not receipted')!;
    await ok(bob, ['read', String(got.id)]);
    await ok(alice, ['sync']);
    expect((await inbox(alice)).find((m) => m.text === 'not receipted')).toMatchObject({ state: 'delivered', readAt: null });
    const bad = await sealpost(bob, ['receipts', 'maybe']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/on or off/);
  });
});

/**
 * `sealpost watch --json` (the built CLI in a child process, as a user runs
 * it): it goes live, prints a message another profile sends (pulled and opened
 * through the push stream) as a JSON line, and on SIGTERM locks and exits 0.
 * `sealpost send` says sent when the key service answers, queued when it does not.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { cleanup, tmp } from '../sync/helpers.js';
import { until } from '../sync/live-helpers.js';

const repo = path.resolve(import.meta.dirname, '../../..');
const bin = path.join(repo, 'bin/sealpost.js');

const env = (pin: string): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = { ...process.env, SEALPOST_KEYCHAIN: 'file', SEALPOST_INSECURE_TEST_KDF: '1', SEALPOST_PIN: pin };
  delete e.SEALPOST_PROFILE;
  return e;
};

function sealpost(profile: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, '--profile', profile, ...args], { env: env('0'), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('sealpost watch', () => {
  const root = tmp('sealpost-watch-');
  const alice = path.join(root, 'alice');
  const bob = path.join(root, 'bob');
  let ks: KeyService;

  beforeAll(async () => {
    if (!existsSync(path.join(repo, 'dist/electron/cli/commands-watch.js'))) throw new Error('dist/ is missing: run `npm run build:node` first');
    ks = await startKeyService({ db: path.join(root, 'ks.db') });
    for (const [dir, name] of [
      [alice, 'alice'],
      [bob, 'bob'],
    ] as const) {
      const init = await sealpost(dir, ['init', '--rsa-bits', '2048']);
      expect(init.code, init.stderr).toBe(0);
      const reg = await sealpost(dir, ['register', '--server', ks.url, '--app-id', ks.app.appId, '--server-key', ks.app.serverKey, '--username', name]);
      expect(reg.code, reg.stderr).toBe(0);
    }
  });

  afterAll(async () => {
    await ks?.close();
    cleanup(root);
  });

  it('prints a message sent by another profile as a JSON line, then exits 0 on SIGTERM', async () => {
    const watch = spawn(process.execPath, [bin, '--profile', bob, '--json', 'watch'], { env: env('0'), stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Record<string, unknown>[] = [];
    let stderr = '';
    let partial = '';
    watch.stdout.on('data', (b: Buffer) => {
      partial += b.toString();
      const parts = partial.split('\n');
      partial = parts.pop()!;
      for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as Record<string, unknown>);
    });
    watch.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number>((resolve) => watch.on('close', (code) => resolve(code ?? -1)));
    try {
      await until(() => lines.some((l) => l.event === 'stream' && l.state === 'live'), `watch live (stderr: ${stderr})`);
      const sent = await sealpost(alice, ['send', '--to', 'bob', '--subject', 'Watched', '--text', 'hello watcher']);
      expect(sent.code, sent.stderr).toBe(0);
      expect(sent.stdout).toMatch(/^Sent 1 message/);
      const m = await until(() => lines.find((l) => l.event === 'message'), 'the message line');
      expect(m).toMatchObject({ event: 'message', from: 'alice', subject: 'Watched' });
      expect(typeof m.id).toBe('number');
    } finally {
      watch.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(lines.at(-1)).toMatchObject({ code: 0, value: { messages: 1 } });
    // The message was opened and stored in bob's profile.
    const inbox = await sealpost(bob, ['--json', 'inbox']);
    const value = (JSON.parse(inbox.stdout) as { value: { text: string | null }[] }).value;
    expect(value.map((x) => x.text)).toContain('hello watcher');
  });

  it('send says queued when the key service cannot be reached', async () => {
    await ks.close();
    const r = await sealpost(alice, ['send', '--to', 'bob', '--text', 'while down']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Queued 1 message/);
  });
});

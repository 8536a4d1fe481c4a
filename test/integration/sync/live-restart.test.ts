/**
 * Issue 14: the key service (a child process on SQLite) is killed with SIGKILL
 * while both engines hold streams open. The streams fall back to the timer
 * (polling), messages sent meanwhile wait in the outbox; the service restarts
 * on the same port and database; the streams come back live, the engines pull,
 * and every message is there exactly once, with no sync call from the test.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, newUser, tmp } from './helpers.js';
import { FAR, streamOf, until } from './live-helpers.js';

const repo = path.resolve(import.meta.dirname, '../../..');
const serverCli = path.join(repo, 'dist/server/cli.js');

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

describe('live delivery across a key-service crash', () => {
  const root = tmp('sealpost-live-kill-');
  let child: ChildProcess | null = null;
  afterAll(() => {
    child?.kill('SIGKILL');
    cleanup(root);
  });

  it('reconnects after a restart and pulls: nothing lost or duplicated', async () => {
    expect(existsSync(serverCli), 'build first: npm run build:node').toBe(true);
    const db = path.join(root, 'ks.db');
    const app = JSON.parse(execFileSync(process.execPath, [serverCli, 'create-app', '--name', 'live', '--json', '--db', db], { encoding: 'utf8' })) as { appId: string; serverKey: string };
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const start = async (): Promise<void> => {
      child = spawn(process.execPath, [serverCli, '--port', String(port), '--db', db, '--log-level', 'warn'], { stdio: 'ignore' });
      await until(() => fetch(`${url}/health`).then((r) => r.ok, () => false), 'the key service up');
    };
    await start();
    const alice = await newUser(root, 'alice', { url, app });
    const bob = await newUser(root, 'bob', { url, app });
    try {
      await alice.ok('contacts:lookup', { username: 'bob' });
      alice.service.messaging.sync.start(FAR, FAR);
      bob.service.messaging.sync.start(FAR, FAR);
      await until(async () => (await streamOf(alice)) === 'live' && (await streamOf(bob)) === 'live', 'both streams live');
      for (let i = 0; i < 3; i++) await alice.ok('messages:send', { to: ['bob'], text: `before ${i}` });
      await until(async () => (await bob.ok('messages:list', {})).filter((m) => m.text?.startsWith('before ')).length === 3, 'the first three');

      child!.kill('SIGKILL');
      await until(async () => (await streamOf(alice)) === 'polling' && (await streamOf(bob)) === 'polling', 'both on the timer');
      for (let i = 0; i < 3; i++) await alice.ok('messages:send', { to: ['bob'], text: `during ${i}` });
      expect((await alice.ok('sync:status', {})).pending).toBeGreaterThan(0);

      await start();
      await until(async () => (await streamOf(alice)) === 'live' && (await streamOf(bob)) === 'live', 'both live again');
      for (let i = 0; i < 3; i++) await alice.ok('messages:send', { to: ['bob'], text: `after ${i}` });
      const inbox = await until(async () => {
        const all = await bob.ok('messages:list', { limit: 500 });
        return all.filter((m) => m.direction === 'in').length >= 9 && all;
      }, 'all nine messages');
      const texts = inbox.filter((m) => m.direction === 'in').map((m) => m.text);
      expect(texts).toHaveLength(9);
      expect(new Set(texts).size).toBe(9);
      expect((await alice.ok('sync:status', {})).pending).toBe(0);
    } finally {
      alice.close();
      bob.close();
    }
  });
});

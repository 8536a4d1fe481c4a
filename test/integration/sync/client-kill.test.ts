/**
 * Issue 4 reliability: the client process SIGKILLed during a sync, mid-upload
 * and mid-download; after restart nothing is lost or duplicated.
 *
 * The client is the built CLI in a child process (`sealpost --profile DIR sync
 * --progress`), killed on its own JSON progress lines (no timing involved):
 * - the sender (700 queued messages and an 8 MiB attachment, 33 sealed parts) is
 *   killed once 10 messages are acknowledged, with up to 8 requests in flight,
 *   acknowledgements not yet committed (they are recorded in groups) and the
 *   attachment part-way up; restarted until its outbox is empty;
 * - the receiver is killed after its first stored page (mid-pull), restarted and
 *   killed again after its first opened batch (mid-open), then restarted to the end.
 * Then: every message exactly once in the receiver's inbox (none rejected as a
 * replay), the attachment intact, every outbox entry sent, and the key service
 * holding each message and part once.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { PART_SIZE } from '../../../electron/engine/sync/attachments.js';
import { cleanup, newUser, openProfile, type Profile, tmp } from './helpers.js';

const repo = path.resolve(import.meta.dirname, '../../..');
const cli = path.join(repo, 'bin/sealpost.js');
const builtCli = path.join(repo, 'dist/electron/cli/main.js');

const N = 700;
const ATTACHMENT_BYTES = 8 * 1024 * 1024; // sealed: 33 parts of PART_SIZE (256 KiB)

type Progress = { phase: 'send'; sent: number; failed: number; total: number } | { phase: 'pull'; pulled: number } | { phase: 'open'; opened: number; rejected: number };

interface Run {
  /** The child was SIGKILLed by us (the predicate matched). */
  killed: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  events: Progress[];
  stderr: string;
}

/**
 * One `sealpost sync --progress` in a child process; SIGKILLed as soon as a
 * progress line satisfies `killWhen`.
 */
function runSync(profileDir: string, killWhen?: (p: Progress) => boolean): Promise<Run> {
  const child = spawn(process.execPath, [cli, '--profile', profileDir, 'sync', '--progress'], {
    // VITEST=true is inherited: the CLI accepts the cheap test KDF only under a test runner.
    env: { ...process.env, SEALPOST_KEYCHAIN: 'file', SEALPOST_INSECURE_TEST_KDF: '1', SEALPOST_PIN: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const run: Run = { killed: false, code: null, signal: null, events: [], stderr: '' };
  const lines = createInterface({ input: child.stderr });
  lines.on('line', (line) => {
    let p: Progress;
    try {
      p = JSON.parse(line) as Progress;
    } catch {
      run.stderr += `${line}\n`;
      return;
    }
    run.events.push(p);
    if (!run.killed && killWhen?.(p)) {
      run.killed = true;
      child.kill('SIGKILL');
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      run.code = code;
      run.signal = signal;
      resolve(run);
    });
  });
}

/** Restarts `sealpost sync` until a run exits 0 with nothing left to send (bounded). */
async function syncToCompletion(profileDir: string, done: (r: Run) => boolean, maxRuns = 20): Promise<Run[]> {
  const runs: Run[] = [];
  for (let i = 0; i < maxRuns; i++) {
    const r = await runSync(profileDir);
    runs.push(r);
    if (r.code === 0 && done(r)) return runs;
  }
  expect.fail(`sync did not complete in ${maxRuns} runs: ${runs.map((r) => `${r.code} ${r.stderr.trim()}`).join(' | ')}`);
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Opens a profile in this process just to look at it, then closes it (the CLI must have exited). */
async function inspect<T>(dir: string, fn: (p: Profile) => Promise<T>): Promise<T> {
  const p = await openProfile(dir);
  try {
    await p.ok('session:authenticate', { pin: '0' });
    return await fn(p);
  } finally {
    p.close();
  }
}

describe('client killed mid-sync (child process, SIGKILL)', () => {
  const root = tmp('sealpost-kill-');
  const ksDb = path.join(root, 'ks.db');
  let ks: KeyService;
  let senderDir = '';
  let receiverDir = '';
  const texts = Array.from({ length: N }, (_, i) => `kill-test message ${i} ${'y'.repeat(i % 97)}`);
  const file = path.join(root, 'payload.bin');
  let fileHash = '';

  beforeAll(async () => {
    expect(existsSync(builtCli), 'build first: npm run build:node').toBe(true);
    ks = await startKeyService({ db: ksDb });
    const sender = await newUser(root, 'ksender', ks);
    const receiver = await newUser(root, 'kreceiver', ks);
    senderDir = sender.dir;
    receiverDir = receiver.dir;
    try {
      await sender.ok('contacts:lookup', { username: 'kreceiver' });
      const bytes = randomBytes(ATTACHMENT_BYTES);
      writeFileSync(file, bytes);
      fileHash = sha256(bytes);
      // The attachment first, so it is claimed in the first batch with the small ones.
      await sender.service.messaging.send({ to: ['kreceiver'], text: 'with attachment', files: [{ path: file }] });
      for (const text of texts) await sender.ok('messages:send', { to: ['kreceiver'], text });
      expect((await sender.ok('sync:status', {})).pending).toBe(N + 1);
    } finally {
      sender.close();
      receiver.close();
    }
  }, 300_000);

  afterAll(async () => {
    await ks?.close();
    cleanup(root);
  });

  it('sender killed mid-upload: after restart every entry is sent once, nothing left or doubled', async () => {
    // Killed once 10 entries are acknowledged and the attachment has started going up.
    const server = new Database(ksDb, { readonly: true });
    const partsStored = (): number => (server.prepare('SELECT count(*) AS n FROM messages WHERE is_file = 1').get() as { n: number }).n;
    const storedAll = (): number => (server.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n;
    let partsAtKill = -1;
    let storedAtKill = -1;
    const killed = await runSync(senderDir, (p) => {
      if (p.phase !== 'send' || p.sent < 10 || partsStored() < 1) return false;
      partsAtKill = partsStored();
      storedAtKill = storedAll();
      return true;
    }).finally(() => server.close());
    expect(killed.killed).toBe(true);
    expect(killed.signal).toBe('SIGKILL');

    // Mid-upload for real: the service had some of the messages when the client died. Entries
    // in flight, and acknowledged ones whose group was not committed yet, are back to pending.
    expect(storedAtKill).toBeGreaterThanOrEqual(10);
    const after = await inspect(senderDir, (p) => p.ok('sync:status', {}));
    expect(after.pending).toBeGreaterThan(0);
    expect(after.failed).toBe(0);

    await syncToCompletion(senderDir, () => true);
    await inspect(senderDir, async (p) => {
      const st = await p.ok('sync:status', {});
      expect(st).toMatchObject({ pending: 0, failed: 0 });
      const out = (await p.ok('messages:list', { limit: 1000 })).filter((m) => m.direction === 'out');
      expect(out).toHaveLength(N + 1);
      expect(out.every((m) => m.state === 'sent')).toBe(true);
    });

    // The key service holds each message and each attachment part exactly once.
    const sealed = readdirSync(path.join(senderDir, 'attachments')).filter((f) => f.endsWith('.spfl'));
    expect(sealed).toHaveLength(1);
    const parts = Math.ceil(statSync(path.join(senderDir, 'attachments', sealed[0]!)).size / PART_SIZE);
    const db = new Database(ksDb, { readonly: true });
    try {
      const row = db.prepare('SELECT count(*) AS n, count(DISTINCT client_id || \'#\' || part) AS distinctIds, sum(is_file) AS files FROM messages').get() as {
        n: number;
        distinctIds: number;
        files: number;
      };
      expect(row).toEqual({ n: N + 1 + parts, distinctIds: N + 1 + parts, files: parts });
      expect(partsAtKill).toBeGreaterThan(0);
      expect(partsAtKill).toBeLessThan(parts); // the attachment was part-way up when killed
      expect(storedAtKill).toBeLessThan(N + 1 + parts);
    } finally {
      db.close();
    }
  }, 300_000);

  it('receiver killed mid-pull and mid-open: after restart every message is stored exactly once', async () => {
    const midPull = await runSync(receiverDir, (p) => p.phase === 'pull');
    expect(midPull.killed).toBe(true);
    expect(midPull.signal).toBe('SIGKILL');
    // Killed after the first page was stored, long before the last (pages are opened while the pull goes on).
    expect(await inspect(receiverDir, async (p) => (await p.ok('messages:list', { limit: 1000 })).length)).toBeLessThan(N + 1);

    const midOpen = await runSync(receiverDir, (p) => p.phase === 'open');
    expect(midOpen.killed).toBe(true);
    expect(midOpen.signal).toBe('SIGKILL');
    const partly = await inspect(receiverDir, async (p) => (await p.ok('messages:list', { limit: 1000 })).length);
    expect(partly).toBeGreaterThan(0);
    expect(partly).toBeLessThan(N + 1);

    await syncToCompletion(receiverDir, () => true);
    await inspect(receiverDir, async (p) => {
      const inbox = (await p.ok('messages:list', { limit: 1000 })).filter((m) => m.direction === 'in');
      expect(inbox).toHaveLength(N + 1);
      // A duplicate that reached the inbox would be stored as rejected ('replay').
      expect(inbox.filter((m) => m.sender === 'rejected')).toEqual([]);
      const got = inbox.map((m) => m.text ?? '').sort();
      expect(got).toEqual([...texts, 'with attachment'].sort());
      const withFile = inbox.find((m) => m.text === 'with attachment')!;
      expect(withFile.attachments).toEqual([expect.objectContaining({ name: 'payload.bin', size: ATTACHMENT_BYTES, sha256: fileHash, state: 'complete' })]);
      const outDir = path.join(root, 'saved');
      mkdirSync(outDir);
      const saved = await p.service.messaging.saveAttachments(withFile.id, outDir);
      expect(saved.saved[0]!.sha256).toBe(fileHash);
      expect(sha256(readFileSync(path.join(outDir, 'payload.bin')))).toBe(fileHash);
    });
  }, 300_000);
});

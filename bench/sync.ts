/**
 * sync_10k (issue 4): 10,000 messages queued offline by one profile reach another
 * (sent, pulled, opened, stored) through the SQLite key service on 127.0.0.1.
 *
 * - The key service runs in a child process (dist/server/cli.js) with rate limits
 *   raised so they never refuse. Two profiles (RSA-3072, as open_10k_small) are
 *   made and registered and look each other up; the service is stopped.
 * - compose (child process, service down): the sender queues 10,000 messages of
 *   ~1 KiB of prose (the open_10k_small bodies) with messages:send.
 * - send (child process, service back): one sync:now flushes the outbox; send msgs/s.
 * - receive (child process): one sync:now pulls, opens and stores the 10,000;
 *   `value` is its wall time (ms), recv msgs/s = 10,000 / value.
 * - open (same receive process, after the sync): the pure opening time of the
 *   same kind of messages, measured the way open_10k_small is (OpenPool with its
 *   default size, warmed with 64, then openMany of 10,000): the same message
 *   bodies wrapped and sealed exactly as compose does (signed JSON content, sealed
 *   to the recipient and the sender's own key), split to the wire form the
 *   receiver opens, on a fresh RSA-3072 key. vs_open = value / open.
 * Peak RSS is each client process's process.resourceUsage().maxRSS (read before
 * the reference opening in the receive process); peak_rss_mb is the larger.
 * The clients use the production PIN KDF (unlocking is not timed).
 *
 * Run from the tsc build: `npm run bench -- sync`. This file is also the client
 * child process: `node dist/bench/sync.js <role> <profileDir> [count]`.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Result } from '../shared/codes.js';
import type { Channel, Input, Output } from '../shared/contract.js';
import { dispatch } from '../electron/engine/dispatch.js';
import { openService, type Service } from '../electron/engine/service/index.js';
import { fingerprintOf, fromWire, generateEncryptionKeyPair, identityFromSeed, newSeed, OpenPool, sealEnvelope, toWire } from '../electron/engine/crypto/index.js';
import { keyId } from '../electron/engine/crypto/rsa.js';
import { MESSAGE_CONTENT_TYPE, type MessageContent } from '../electron/engine/sync/content.js';
import { freePort } from './loopback.js';
import { type BenchEntry, resultsPath, round } from './results.js';
import { generateText } from './seal-open.js';

/** 10,000; BENCH_SYNC_COUNT makes a quicker trial run (its entry is then named sync_<count>). */
const COUNT = Number(process.env.BENCH_SYNC_COUNT ?? 10_000);
const PIN = '0';
const here = fileURLToPath(import.meta.url);
const serverCli = fileURLToPath(new URL('../server/cli.js', import.meta.url));

/** The open_10k_small bodies: 16 kinds of ~1 KiB prose. */
const texts = (): string[] => Array.from({ length: 16 }, (_, i) => new TextDecoder().decode(generateText(1024, 100 + i)));

// ---------------------------------------------------------------- client side

async function openProfile(dir: string): Promise<{ service: Service; ok: <C extends Channel>(c: C, i: Input<C>) => Promise<Output<C>> }> {
  const service = await openService({ profileDir: dir, keychain: 'file', actor: 'bench' });
  const ok = async <C extends Channel>(channel: C, input: Input<C>): Promise<Output<C>> => {
    const r = (await dispatch(service.handlers, channel, input)) as Result<Output<C>>;
    if (r.code !== 0) throw new Error(`${channel}: ${r.code} ${r.message}`);
    return r.value;
  };
  return { service, ok };
}

const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;

interface ClientReport {
  ms: number;
  peakRssMb: number;
  [k: string]: number;
}

async function compose(dir: string, to: string, count: number): Promise<ClientReport> {
  const p = await openProfile(dir);
  try {
    await p.ok('session:authenticate', { pin: PIN });
    const bodies = texts();
    const t0 = performance.now();
    for (let i = 0; i < count; i++) await p.ok('messages:send', { to: [to], text: bodies[i % 16]! });
    const ms = performance.now() - t0;
    const st = await p.ok('sync:status', {});
    return { ms, peakRssMb: peakRssMb(), pending: st.pending };
  } finally {
    p.service.close();
  }
}

async function send(dir: string): Promise<ClientReport> {
  const p = await openProfile(dir);
  try {
    await p.ok('session:authenticate', { pin: PIN });
    const t0 = performance.now();
    const r = await p.ok('sync:now', {});
    const ms = performance.now() - t0;
    const st = await p.ok('sync:status', {});
    return { ms, peakRssMb: peakRssMb(), sent: r.sent, failed: r.failed, pending: st.pending };
  } finally {
    p.service.close();
  }
}

async function receive(dir: string, from: string): Promise<ClientReport> {
  const p = await openProfile(dir);
  let report: ClientReport;
  try {
    await p.ok('session:authenticate', { pin: PIN });
    const marks: Record<string, number> = {};
    const off = p.service.messaging.sync.onProgress((e) => {
      marks[`${e.phase}_first`] ??= performance.now();
      marks[`${e.phase}_last`] = performance.now();
    });
    const t0 = performance.now();
    const r = await p.ok('sync:now', {});
    const ms = performance.now() - t0;
    off();
    const rss = peakRssMb();
    report = {
      ms,
      peakRssMb: rss,
      pulled: r.pulled,
      received: r.received,
      rejected: r.rejected,
      waiting: r.waiting,
      // From the start to the last page stored; from there to the last batch opened and stored.
      pull_ms: (marks.pull_last ?? t0) - t0,
      open_store_ms: (marks.open_last ?? t0) - (marks.pull_last ?? t0),
    };
  } finally {
    p.service.close();
  }
  return { ...report, ...(await referenceOpen(from)) };
}

/** Pure opening of 10,000 messages of the kind compose makes, as open_10k_small measures it. */
async function referenceOpen(from: string): Promise<Record<string, number>> {
  const [rsa, own] = [await generateEncryptionKeyPair(3072), await generateEncryptionKeyPair(3072)];
  const id = identityFromSeed(newSeed());
  const sender = { ...id, fingerprint: fingerprintOf(id.publicKey, own.publicKeyPem) };
  const bodies = texts();
  const to = keyId(rsa.publicKeyPem);
  const envelopes = Array.from({ length: COUNT }, (_, i) => {
    const content: MessageContent = { v: 1, from: { username: from, userid: from }, to: [{ username: 'receiver', userid: 'receiver' }], text: bodies[i % 16]!, attachments: [] };
    const sealed = sealEnvelope({ body: JSON.stringify(content), contentType: MESSAGE_CONTENT_TYPE, sender, recipients: [rsa.publicKeyPem, own.publicKeyPem], sentAt: Date.now() });
    return fromWire(toWire(sealed, to));
  });
  const pool = await OpenPool.create({ privateKeyDer: rsa.privateKeyDer });
  try {
    await pool.openMany(envelopes.slice(0, 64)); // warm the workers
    const t0 = performance.now();
    const out = await pool.openMany(envelopes);
    const ms = performance.now() - t0;
    const failures = out.filter((o) => !o.ok).length;
    if (failures) throw new Error(`reference: ${failures} envelopes failed to open`);
    return { open_ms: ms, pool_size: pool.size, envelope_bytes: envelopes[0]!.length };
  } finally {
    await pool.close();
  }
}

async function child(argv: string[]): Promise<void> {
  const [role, dir, arg] = argv;
  if (!dir) throw new Error('usage: sync.js compose|send|receive <profileDir> [peer]');
  let report: ClientReport;
  if (role === 'compose') report = await compose(dir, arg!, COUNT);
  else if (role === 'send') report = await send(dir);
  else if (role === 'receive') report = await receive(dir, arg!);
  else throw new Error(`unknown role ${String(role)}`);
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

// ---------------------------------------------------------------- orchestration

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface KeyServiceProcess {
  stop(): Promise<void>;
}

async function startKeyService(db: string, port: number): Promise<KeyServiceProcess> {
  const proc = spawn(process.execPath, [serverCli, 'serve', '--host', '127.0.0.1', '--port', String(port), '--db', db, '--log-level', 'warn', '--rate-ip', '1000000000', '--rate-device', '1000000000'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  for (let i = 0; i < 600; i++) {
    if (proc.exitCode !== null) throw new Error(`key service exited with ${proc.exitCode}`);
    if (await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)) {
      return {
        stop: async () => {
          proc.kill('SIGTERM');
          await exited;
        },
      };
    }
    await sleep(50);
  }
  proc.kill('SIGKILL');
  throw new Error('key service did not start');
}

/** Runs one client role in its own process; its last stdout line is the report. */
function runClient(role: string, dir: string, arg: string): Promise<ClientReport> {
  return new Promise((resolve, reject) => {
    // BENCH_SYNC_CPU_PROF=DIR: a V8 CPU profile of each client process in DIR (for finding where the time goes).
    const prof = process.env.BENCH_SYNC_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SYNC_CPU_PROF}`, `--cpu-prof-name=${role}.cpuprofile`] : [];
    const proc = spawn(process.execPath, [...prof, here, role, dir, arg], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (c: string) => (out += c));
    proc.on('error', reject);
    proc.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1);
      if (code !== 0 || !last) return reject(new Error(`${role} client exited with ${code}`));
      resolve(JSON.parse(last) as ClientReport);
    });
  });
}

function recordedOpen10k(): number | null {
  try {
    const v = (JSON.parse(readFileSync(resultsPath, 'utf8')) as { open_10k_small?: { value?: unknown } }).open_10k_small?.value;
    return typeof v === 'number' ? v : null;
  } catch {
    return null;
  }
}

export async function benchSync(): Promise<Record<string, BenchEntry>> {
  if (!Number.isInteger(COUNT) || COUNT < 1 || COUNT > 100_000) throw new Error('BENCH_SYNC_COUNT must be 1..100000');
  const root = mkdtempSync(path.join(tmpdir(), 'sealpost-bench-sync-'));
  const log = (s: string): boolean => process.stderr.write(`  sync_10k: ${s}\n`);
  try {
    const db = path.join(root, 'ks.db');
    const app = JSON.parse(execFileSync(process.execPath, [serverCli, 'create-app', '--name', 'bench-sync', '--json', '--db', db], { encoding: 'utf8' })) as { appId: string; serverKey: string };
    const port = await freePort();
    const server = `http://127.0.0.1:${port}`;
    let ks = await startKeyService(db, port);

    const senderDir = path.join(root, 'sender');
    const receiverDir = path.join(root, 'receiver');
    for (const [dir, name] of [[senderDir, 'bench-sender'], [receiverDir, 'bench-receiver']] as const) {
      const p = await openProfile(dir);
      try {
        await p.ok('identity:create', { pin: PIN, rsaBits: 3072 });
        await p.ok('device:register', { server, appId: app.appId, serverKey: app.serverKey, username: name });
      } finally {
        p.service.close();
      }
    }
    for (const [dir, peer] of [[senderDir, 'bench-receiver'], [receiverDir, 'bench-sender']] as const) {
      const p = await openProfile(dir);
      try {
        await p.ok('session:authenticate', { pin: PIN });
        await p.ok('contacts:lookup', { username: peer });
      } finally {
        p.service.close();
      }
    }

    await ks.stop(); // queued offline
    log(`composing ${COUNT} messages offline...`);
    const composed = await runClient('compose', senderDir, 'bench-receiver');
    if (composed.pending !== COUNT) throw new Error(`compose queued ${composed.pending}, expected ${COUNT}`);
    ks = await startKeyService(db, port);
    try {
      log(`sending (composed in ${Math.round(composed.ms)} ms)...`);
      const sent = await runClient('send', senderDir, '');
      if (sent.sent !== COUNT || sent.pending !== 0) throw new Error(`sent ${sent.sent}, pending ${sent.pending}`);
      log(`receiving (sent in ${Math.round(sent.ms)} ms)...`);
      const recv = await runClient('receive', receiverDir, 'bench-sender');
      if (recv.received !== COUNT || recv.rejected !== 0 || recv.waiting !== 0) throw new Error(`received ${recv.received}, rejected ${recv.rejected}, waiting ${recv.waiting}`);
      const open = recv.open_ms!;
      const recorded = recordedOpen10k();
      return {
        [COUNT === 10_000 ? 'sync_10k' : `sync_${COUNT}`]: {
          value: round(recv.ms, 0),
          unit: 'ms',
          open: round(open, 0),
          vs_open: round(recv.ms / open),
          send_msgs_s: round(COUNT / (sent.ms / 1000), 0),
          recv_msgs_s: round(COUNT / (recv.ms / 1000), 0),
          peak_rss_mb: round(Math.max(sent.peakRssMb, recv.peakRssMb), 0),
          received: recv.received!,
          send_ms: round(sent.ms, 0),
          send_peak_rss_mb: round(sent.peakRssMb, 0),
          recv_peak_rss_mb: round(recv.peakRssMb, 0),
          recv_pull_ms: round(recv.pull_ms!, 0),
          recv_open_store_ms: round(recv.open_store_ms!, 0),
          compose_ms: round(composed.ms, 0),
          compose_peak_rss_mb: round(composed.peakRssMb, 0),
          open_10k_small_recorded: recorded,
          open_pool_size: recv.pool_size!,
          envelope_bytes: recv.envelope_bytes!,
          rsa_bits: 3072,
          open_reference: 'same run, receive process: OpenPool (default size) warmed with 64, openMany of 10,000 compose-shaped envelopes (open_10k_small method)',
        },
      };
    } finally {
      await ks.stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  child(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`sync client: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  });
}

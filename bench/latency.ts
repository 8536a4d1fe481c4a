/**
 * push_latency (issue 14): time from `messages:send` (the message queued) to
 * the message opened and stored on the receiver (its engine's `messages`
 * event), through the key service on loopback, with the push stream. Measured
 * from the call of send: the flush starts inside send (the scheduler runs), so
 * the message is often on its way before send returns and a figure from the
 * return reads near zero or negative (reported too, as from_return_*).
 *
 * - The key service (SQLite) runs in a child process; the sender and the
 *   receiver engines each in their own (bench/latency-roles.ts), both with the
 *   production scheduler (60 s timer, stream on) and the production PIN KDF.
 * - N = 1,000 other registered devices hold idle streams (one more child);
 *   rss_per_conn_kib is the key service's RSS after a GC with them open minus
 *   before, over N. The same with 5,000 (rss_per_conn_kib_5000, p50_ms_5000).
 * - 200 messages one at a time with random gaps (20-200 ms), after 5 warm-up
 *   ones; lost = sent but never stored (30 s deadline each), duplicated =
 *   stored more than once (counted on the receiver at the end).
 * - polling_p50_ms: the receiver with the stream off and the production 60 s
 *   timer, over BENCH_POLLING_COUNT (default 5) messages, each sent at a random
 *   point of the timer's period (a 0-60 s gap after the previous arrival).
 * - pg_p50_ms / pg_p99_ms: two key-service instances on one PostgreSQL (a
 *   throwaway cluster, test/helpers/postgres.ts), sender on A, receiver on B,
 *   BENCH_PG_COUNT (default 100) messages.
 *
 * Run: `npm run bench:latency` (tsc build; results merged into bench/results.json).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Result } from '../shared/codes.js';
import type { Channel, Input, Output } from '../shared/contract.js';
import { dispatch } from '../electron/engine/dispatch.js';
import { openService } from '../electron/engine/service/index.js';
import { startPostgres } from '../test/helpers/postgres.js';
import type { FromChild, ToChild } from './latency-roles.js';
import { freePort } from './loopback.js';
import { mergeResults, round, type BenchEntry } from './results.js';

const roles = fileURLToPath(new URL('./latency-roles.js', import.meta.url));
const MESSAGES = Number(process.env.BENCH_LATENCY_COUNT ?? 200);
const IDLE = Number(process.env.BENCH_LATENCY_IDLE ?? 1000);
const IDLE_MORE = Number(process.env.BENCH_LATENCY_IDLE_MORE ?? 5000);
const POLLING = Number(process.env.BENCH_POLLING_COUNT ?? 5);
const PG_COUNT = Number(process.env.BENCH_PG_COUNT ?? 100);
const INTERVAL_MS = 60_000;
const log = (s: string): boolean => process.stderr.write(`  push_latency: ${s}\n`);

interface Role {
  proc: ChildProcess;
  send(m: ToChild): void;
  /** The next message of `type` (matching `pred`) from now on. */
  next<T extends FromChild['type']>(type: T, pred?: (m: Extract<FromChild, { type: T }>) => boolean, timeoutMs?: number): Promise<Extract<FromChild, { type: T }>>;
  on(listener: (m: FromChild) => void): void;
  stop(): Promise<void>;
}

function spawnRole(args: string[], execArgv: string[] = []): Role {
  const proc = fork(roles, args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const listeners = new Set<(m: FromChild) => void>();
  proc.on('message', (m: FromChild) => {
    for (const l of [...listeners]) l(m);
  });
  const exited = new Promise<void>((r) => proc.on('exit', () => r()));
  const role: Role = {
    proc,
    send: (m) => proc.send(m),
    on: (l) => listeners.add(l),
    next: (type, pred, timeoutMs = 600_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(l);
          reject(new Error(`${args[0]}: no ${type} in ${timeoutMs} ms`));
        }, timeoutMs);
        const l = (m: FromChild): void => {
          if (m.type === 'error') {
            clearTimeout(timer);
            listeners.delete(l);
            reject(new Error(`${args[0]}: ${m.message}`));
          } else if (m.type === type && (!pred || pred(m as never))) {
            clearTimeout(timer);
            listeners.delete(l);
            resolve(m as never);
          }
        };
        listeners.add(l);
      }),
    stop: async () => {
      if (proc.exitCode === null) proc.send({ cmd: 'stop' });
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
  return role;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

/** Two profiles (identity, registration, each other as contacts), made in this process. */
async function makeProfiles(root: string, tag: string, senderServer: string, receiverServer: string, app: { appId: string; serverKey: string }): Promise<{ sender: string; receiver: string; receiverName: string }> {
  const names = { sender: `s-${tag}`, receiver: `r-${tag}` };
  const dirs = { sender: path.join(root, names.sender), receiver: path.join(root, names.receiver) };
  for (const who of ['sender', 'receiver'] as const) {
    const service = await openService({ profileDir: dirs[who], keychain: 'file', actor: 'bench' });
    const ok = async <C extends Channel>(channel: C, input: Input<C>): Promise<Output<C>> => {
      const r = (await dispatch(service.handlers, channel, input)) as Result<Output<C>>;
      if (r.code !== 0) throw new Error(`${channel}: ${r.code} ${r.message}`);
      return r.value;
    };
    try {
      await ok('identity:create', { pin: '0', rsaBits: 3072 });
      await ok('device:register', { server: who === 'sender' ? senderServer : receiverServer, appId: app.appId, serverKey: app.serverKey, username: names[who] });
      if (who === 'receiver') await ok('contacts:lookup', { username: names.sender });
    } finally {
      service.close();
    }
  }
  const service = await openService({ profileDir: dirs.sender, keychain: 'file', actor: 'bench' });
  try {
    await dispatch(service.handlers, 'session:authenticate', { pin: '0' });
    const r = await dispatch(service.handlers, 'contacts:lookup', { username: names.receiver });
    if (r.code !== 0) throw new Error(`contacts:lookup: ${r.message}`);
  } finally {
    service.close();
  }
  return { sender: dirs.sender, receiver: dirs.receiver, receiverName: names.receiver };
}

async function untilStream(client: Role, state: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    client.send({ cmd: 'stream' });
    if ((await client.next('stream')).state === state) return;
    await sleep(50);
  }
  throw new Error(`the stream did not become ${state}`);
}

interface Run {
  /** From the call of messages:send, sorted. */
  latencies: number[];
  /** From its return, sorted. */
  fromReturn: number[];
  /** From the call to the page stored (before opening), sorted. */
  toPulled: number[];
  lost: number;
  duplicated: number;
}

/** Sends `count` messages one at a time; `gap()` ms before each; each waits for its arrival. */
async function measure(sender: Role, receiver: Role, to: string, tag: string, count: number, gap: () => number, deadlineMs: number): Promise<Run> {
  const got = new Map<string, { at: number; pulledAt: number | null }>();
  receiver.on((m) => {
    if (m.type === 'got' && !got.has(m.text)) got.set(m.text, { at: m.at, pulledAt: m.pulledAt });
  });
  const latencies: number[] = [];
  const fromReturn: number[] = [];
  const toPulled: number[] = [];
  let lost = 0;
  for (let i = 0; i < count; i++) {
    await sleep(gap());
    const text = `lat ${tag} ${i}`;
    const arrived = got.has(text) ? Promise.resolve(null) : receiver.next('got', (m) => m.text === text, deadlineMs).catch(() => null);
    sender.send({ cmd: 'send', to, text });
    const sent = await sender.next('sent');
    await arrived;
    const arrival = got.get(text);
    if (arrival === undefined) lost++;
    else {
      latencies.push(arrival.at - sent.calledAt);
      fromReturn.push(arrival.at - sent.at);
      if (arrival.pulledAt !== null) toPulled.push(arrival.pulledAt - sent.calledAt);
    }
  }
  receiver.send({ cmd: 'texts' });
  const texts = (await receiver.next('texts')).texts.filter((t) => t.startsWith(`lat ${tag} `));
  const distinct = new Set(texts).size;
  return { latencies: latencies.sort((a, b) => a - b), fromReturn: fromReturn.sort((a, b) => a - b), toPulled: toPulled.sort((a, b) => a - b), lost: Math.max(lost, count - distinct), duplicated: texts.length - distinct };
}

async function rssOf(server: Role): Promise<{ rss: number; streams: number }> {
  server.send({ cmd: 'rss' });
  const r = await server.next('rss');
  return { rss: r.rss, streams: r.streams };
}

/** RSS per idle stream (KiB) and the idle child holding them. */
async function idleStreams(server: Role, url: string, app: { appId: string; serverKey: string }, n: number): Promise<{ idle: Role; kib: number }> {
  const before = await rssOf(server);
  const idle = spawnRole(['idle', url, app.appId, app.serverKey, String(n)]);
  const ready = await idle.next('ready', undefined, 1_200_000);
  if (ready.open !== n) throw new Error(`only ${ready.open} of ${n} idle streams open`);
  await sleep(1000);
  const after = await rssOf(server);
  log(`${n} idle streams: RSS ${Math.round(before.rss / 1048576)} -> ${Math.round(after.rss / 1048576)} MiB, ${after.streams} streams`);
  return { idle, kib: (after.rss - before.rss) / n / 1024 };
}

export async function benchLatency(): Promise<Record<string, BenchEntry>> {
  const root = mkdtempSync(path.join(tmpdir(), 'sealpost-bench-latency-'));
  const stops: Array<() => Promise<void>> = [];
  try {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = spawnRole(['server', String(port), path.join(root, 'ks.db'), 'create-app'], ['--expose-gc']);
    stops.push(() => server.stop());
    const app = (await server.next('ready')).app!;
    const dirs = await makeProfiles(root, 'sqlite', url, url, app);
    const { idle, kib } = await idleStreams(server, url, app, IDLE);
    stops.push(() => idle.stop());

    const sender = spawnRole(['client', dirs.sender, 'on', String(INTERVAL_MS)]);
    stops.push(() => sender.stop());
    let receiver = spawnRole(['client', dirs.receiver, 'on', String(INTERVAL_MS)]);
    await Promise.all([sender.next('ready'), receiver.next('ready')]);
    await untilStream(receiver, 'live');
    await untilStream(sender, 'live');
    log('warming up...');
    await measure(sender, receiver, dirs.receiverName, 'warm', 5, () => 100, 30_000);
    log(`${MESSAGES} messages with ${IDLE} idle streams...`);
    const push = await measure(sender, receiver, dirs.receiverName, 'push', MESSAGES, () => 20 + Math.random() * 180, 30_000);
    log(`p50 ${round(pct(push.latencies, 50), 1)} ms (pulled at ${round(pct(push.toPulled, 50), 1)}), p99 ${round(pct(push.latencies, 99), 1)} ms, lost ${push.lost}, duplicated ${push.duplicated}`);
    await idle.stop();

    let more: { kib: number; p50: number; p99: number } | null = null;
    if (IDLE_MORE > 0) {
      const big = await idleStreams(server, url, app, IDLE_MORE);
      stops.push(() => big.idle.stop());
      const r = await measure(sender, receiver, dirs.receiverName, 'more', 50, () => 20 + Math.random() * 180, 30_000);
      more = { kib: big.kib, p50: pct(r.latencies, 50), p99: pct(r.latencies, 99) };
      log(`${IDLE_MORE} idle: ${round(big.kib, 1)} KiB each, p50 ${round(more.p50, 1)} ms`);
      await big.idle.stop();
    }

    log(`polling (stream off, ${INTERVAL_MS / 1000} s timer): ${POLLING} messages, about a minute each...`);
    await receiver.stop();
    receiver = spawnRole(['client', dirs.receiver, 'off', String(INTERVAL_MS)]);
    stops.push(() => receiver.stop());
    await receiver.next('ready');
    await untilStream(receiver, 'polling');
    const polling = await measure(sender, receiver, dirs.receiverName, 'poll', POLLING, () => Math.random() * INTERVAL_MS, INTERVAL_MS * 3);
    log(`polling p50 ${round(pct(polling.latencies, 50), 0)} ms`);
    await receiver.stop();
    await sender.stop();
    await server.stop();

    log(`PostgreSQL, two instances: ${PG_COUNT} messages...`);
    const pg = await startPostgres();
    stops.push(() => pg.stop());
    const dbUrl = await pg.createDatabase();
    const [pa, pb] = [await freePort(), await freePort()];
    const a = spawnRole(['server', String(pa), dbUrl, 'create-app']);
    stops.push(() => a.stop());
    const pgApp = (await a.next('ready')).app!;
    const b = spawnRole(['server', String(pb), dbUrl]);
    stops.push(() => b.stop());
    await b.next('ready');
    const pgDirs = await makeProfiles(root, 'pg', `http://127.0.0.1:${pa}`, `http://127.0.0.1:${pb}`, pgApp);
    const pgSender = spawnRole(['client', pgDirs.sender, 'on', String(INTERVAL_MS)]);
    stops.push(() => pgSender.stop());
    const pgReceiver = spawnRole(['client', pgDirs.receiver, 'on', String(INTERVAL_MS)]);
    stops.push(() => pgReceiver.stop());
    await Promise.all([pgSender.next('ready'), pgReceiver.next('ready')]);
    await untilStream(pgReceiver, 'live');
    await untilStream(pgSender, 'live');
    await measure(pgSender, pgReceiver, pgDirs.receiverName, 'pgwarm', 5, () => 100, 30_000);
    const onPg = await measure(pgSender, pgReceiver, pgDirs.receiverName, 'pg', PG_COUNT, () => 20 + Math.random() * 180, 30_000);
    log(`pg p50 ${round(pct(onPg.latencies, 50), 1)} ms, p99 ${round(pct(onPg.latencies, 99), 1)} ms`);

    return {
      push_latency: {
        value: round(pct(push.latencies, 50), 1),
        unit: 'ms',
        p95_ms: round(pct(push.latencies, 95), 1),
        p99_ms: round(pct(push.latencies, 99), 1),
        idle_connections: IDLE,
        rss_per_conn_kib: round(kib, 1),
        polling_p50_ms: round(pct(polling.latencies, 50), 0),
        lost: push.lost + polling.lost + onPg.lost,
        duplicated: push.duplicated + polling.duplicated + onPg.duplicated,
        pg_p50_ms: round(pct(onPg.latencies, 50), 1),
        pg_p99_ms: round(pct(onPg.latencies, 99), 1),
        ...(more && { rss_per_conn_kib_5000: round(more.kib, 1), p50_ms_5000: round(more.p50, 1), p99_ms_5000: round(more.p99, 1) }),
        from_return_p50_ms: round(pct(push.fromReturn, 50), 1),
        from_return_p99_ms: round(pct(push.fromReturn, 99), 1),
        pulled_p50_ms: round(pct(push.toPulled, 50), 1),
        messages: MESSAGES,
        max_ms: round(push.latencies.at(-1) ?? NaN, 1),
        polling_messages: POLLING,
        polling_interval_ms: INTERVAL_MS,
        pg_messages: PG_COUNT,
        method:
          'messages:send called -> receiver engine messages event (opened and stored); send returns once queued but the flush starts before it returns, so from_return_* (from its return) is smaller, even negative; one process per engine and per key service; RSA-3072; production timer and PIN KDF',
      },
    };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  benchLatency().then(
    (entries) => {
      mergeResults(entries);
      process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
    },
    (e: unknown) => {
      process.stderr.write(`bench:latency: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}

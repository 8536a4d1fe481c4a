/**
 * `npm run bench:server`: the key service under autocannon on loopback.
 *
 * Phases (each ~10 s, same connection count):
 *   1. bare Fastify, same machine: PUT /bare with the same ~2 KiB JSON body
 *      (reference for sends; run before and after the SQLite phase, mean
 *      used) and GET /bare returning a body the size of a real messages page
 *      (reference for gets);
 *   2. SQLite: send-encrypted-message (PUT /v1/keys/{token}/messages with a
 *      device JWT, ~2 KiB encryptedmessage, a unique clientId each), then every
 *      acknowledged MessageId is read back, then get-encrypted-messages
 *      (GET …/messages?limit=10 with X-Private-Key-Hash);
 *   3. the same on a throwaway PostgreSQL cluster.
 * Each server runs in its own child process (one core), autocannon in this one.
 * Rate limiting stays on (the DB-backed counters are part of every request)
 * with limits far above what the run can reach, so they never refuse.
 * Results go to bench/results.json as server_send and server_get.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { CLIENT_ID_SUFFIX_DIGITS, clientIdTimePrefix } from '../electron/engine/sync/client-id.js';
import { startServer, type CreatedApp } from '../server/index.js';
import { apiRequest, makeDevice } from '../test/helpers/key-service.js';
import { startPostgres, type TestPostgres } from '../test/helpers/postgres.js';
import { mergeResults, round, type BenchEntry } from './results.js';

const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const PAGE = 10;
const BENCH_LIMITS = { perIp: 100_000_000, perDevice: 100_000_000, secretFailures: 10 };

interface Histogram {
  average: number;
  p50: number;
  p99: number;
}
interface CannonResult {
  requests: Histogram & { total: number };
  latency: Histogram;
  errors: number;
  timeouts: number;
  non2xx: number;
  mismatches: number;
  '2xx': number;
  duration: number;
}
interface CannonRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  onResponse?: (status: number, body: string) => void;
  setupRequest?: (req: CannonRequest) => CannonRequest;
}
type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, result: CannonResult) => void) => unknown;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

function cannon(url: string, request: CannonRequest, extra: Record<string, unknown> = {}): Promise<CannonResult> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, requests: [request], ...extra }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

const errorsOf = (r: CannonResult) => r.errors + r.timeouts + r.non2xx + r.mismatches;

// ---- child process: one server ----

type ServeConfig = { kind: 'bare'; getBytes: number } | { kind: 'sqlite'; db: string } | { kind: 'postgres'; databaseUrl: string };

async function serve(config: ServeConfig): Promise<void> {
  if (config.kind === 'bare') {
    const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
    const page = JSON.stringify({ Messages: [{ Message: 'x'.repeat(Math.max(0, config.getBytes - 40)) }] });
    app.put('/bare', async () => ({ MessageId: 1, MessageIds: [1], duplicate: false }));
    app.get('/bare', async (_req, reply) => reply.type('application/json; charset=utf-8').send(page));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    process.stdout.write(`READY ${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
    reportCpu();
    return;
  }
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    rateLimit: BENCH_LIMITS,
    logger: false,
    ...(config.kind === 'sqlite' ? { db: config.db } : { databaseUrl: config.databaseUrl }),
  });
  const app = await server.admin.createApp({ name: 'bench' });
  process.stdout.write(`READY ${JSON.stringify({ url: server.url, app })}\n`);
  reportCpu();
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
}

/** The parent asks for the server process's CPU time around each phase (CPU per request is steadier than req/s on a shared machine). */
function reportCpu(): void {
  process.on('message', (m) => {
    if (m === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send?.({ cpu: user + system });
    }
  });
}

// ---- parent: drive the phases ----

function cpuOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (m: { cpu: number }) => resolve(m.cpu));
    child.send('cpu');
  });
}

/** Runs a phase and measures the server's CPU microseconds per completed request. */
async function measured(child: ChildProcess, phase: () => Promise<CannonResult>): Promise<CannonResult & { cpuPerReq: number }> {
  const before = await cpuOf(child);
  const result = await phase();
  const after = await cpuOf(child);
  return { ...result, cpuPerReq: round((after - before) / Math.max(1, result.requests.total), 1) };
}

function startChild(config: ServeConfig): Promise<{ child: ChildProcess; url: string; app?: CreatedApp }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = /READY (.+)\n/.exec(out);
      if (line) resolve({ child, ...(JSON.parse(line[1]!) as { url: string; app?: CreatedApp }) });
    });
    child.once('exit', (code) => reject(new Error(`server child exited with ${code}`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * newClientId()'s format (send time, then 80 bits that keep ids apart) with a
 * counter in place of the random bits: the same order and length, without a
 * random draw per request in the load generator.
 */
let clientIdCounter = 0;
function benchClientId(): string {
  return `${clientIdTimePrefix()}${(clientIdCounter++).toString(16).padStart(CLIENT_ID_SUFFIX_DIGITS, '0')}`;
}

/**
 * A send as the app makes it: ~2 KiB of ciphertext and a fresh clientId per
 * request in the engine's outbox format (time-ordered, sync/client-id.ts).
 * The bare route gets the same requests, built the same way, so autocannon
 * does the same work per request in both phases.
 */
function sendRequest(method: string, path: string, headers: Record<string, string>): CannonRequest {
  const head = JSON.stringify({
    encryptedmessage: randomBytes(1152).toString('base64'),
    encryptionkey: randomBytes(384).toString('base64'),
    clientId: '',
  }).slice(0, -2);
  const body = (clientId: string) => `${head}${clientId}"}`;
  return { method, path, headers, body: body(benchClientId()), setupRequest: (req) => ({ ...req, body: body(benchClientId()) }) };
}

type Measured = CannonResult & { cpuPerReq: number };

interface StoreFigures {
  send: Measured;
  get: Measured;
  sent: number;
  stored: number;
  ackedMissing: number;
  getBytes: number;
}

async function benchStore(label: string, config: ServeConfig): Promise<StoreFigures> {
  const { child, url, app } = await startChild(config);
  try {
    const device = makeDevice();
    await apiRequest(url, 'POST', '/v1/user/register', { body: { appid: app!.appId, serverkey: app!.serverKey, username: 'bench', devicePackage: device.pkg } });
    const jwt = (await apiRequest<{ jwt: string }>(url, 'POST', '/v1/gen-jwt', { serverKey: app!.serverKey, body: { instance_id: device.deviceId, expires_in: 7200 } })).json.jwt;
    const newKey = async () =>
      (await apiRequest<{ token: string }>(url, 'POST', '/v1/keys', { jwt, body: { publickey: device.rsaPublicPem, privatekeyhash: device.privateKeyHash } })).json.token;
    const [warmToken, token] = [await newKey(), await newKey()];
    const headers = { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' };
    await cannon(url, sendRequest('PUT', `/v1/keys/${warmToken}/messages`, headers), { duration: 2 });
    const acked = new Set<number>();
    process.stdout.write(`${label}: send…\n`);
    const send = await measured(child, () =>
      cannon(url, {
        ...sendRequest('PUT', `/v1/keys/${token}/messages`, headers),
        onResponse: (status, res) => {
          const m = status === 200 ? /"MessageId":(\d+)/.exec(res) : null;
          if (m) acked.add(Number(m[1]));
        },
      }),
    );

    const read = new Set<number>();
    let after = 0;
    for (;;) {
      const page = await apiRequest<{ Messages: Array<{ MessageId: number }>; Cursor: number; HasMore: boolean }>(url, 'GET', `/v1/keys/${token}/messages?limit=1000&after=${after}`, {
        jwt,
        headers: { 'x-private-key-hash': device.privateKeyHash },
      });
      if (page.status === 304) break;
      for (const m of page.json.Messages) read.add(m.MessageId);
      after = page.json.Cursor;
      if (!page.json.HasMore) break;
    }
    const ackedMissing = [...acked].filter((id) => !read.has(id)).length;

    // Let the store settle (SQLite checkpoints the send phase's log) so the get phase measures reads.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const getPath = `/v1/keys/${token}/messages?limit=${PAGE}&after=0`;
    const sample = await apiRequest(url, 'GET', getPath, { jwt, headers: { 'x-private-key-hash': device.privateKeyHash } });
    process.stdout.write(`${label}: get…\n`);
    const get = await measured(child, () => cannon(url, { method: 'GET', path: getPath, headers: { authorization: `Bearer ${jwt}`, 'x-private-key-hash': device.privateKeyHash } }));
    return { send, get, sent: send['2xx'], stored: read.size, ackedMissing, getBytes: Buffer.byteLength(sample.text) };
  } finally {
    await stopChild(child);
  }
}

const rate = (r: CannonResult) => round(r.requests.average, 1);

/** Two runs of the same phase as one: mean rate and CPU per request; errors summed. */
function meanOf(a: Measured, b: Measured): Measured & { runs: [number, number] } {
  return {
    ...a,
    requests: { ...a.requests, average: (a.requests.average + b.requests.average) / 2, total: a.requests.total + b.requests.total },
    errors: a.errors + b.errors,
    timeouts: a.timeouts + b.timeouts,
    non2xx: a.non2xx + b.non2xx,
    mismatches: a.mismatches + b.mismatches,
    cpuPerReq: round((a.cpuPerReq + b.cpuPerReq) / 2, 1),
    runs: [rate(a), rate(b)],
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-bench-'));
  let pg: TestPostgres | null = null;
  try {
    // The bare PUT reference runs before and after the SQLite phase and the mean is used: on a
    // shared machine the load can change between phases, and a single run on one side skews the ratio.
    const barePutPhase = (url: string) => cannon(url, sendRequest('PUT', '/bare', { 'content-type': 'application/json' }));
    const bareBefore = await startChild({ kind: 'bare', getBytes: 0 });
    let barePutBefore: Measured;
    try {
      process.stdout.write('bare fastify: put…\n');
      barePutBefore = await measured(bareBefore.child, () => barePutPhase(bareBefore.url));
    } finally {
      await stopChild(bareBefore.child);
    }

    const sqlite = await benchStore('sqlite', { kind: 'sqlite', db: join(dir, 'bench.db') });

    const bare = await startChild({ kind: 'bare', getBytes: sqlite.getBytes });
    let barePutAfter: Measured;
    let bareGet: Measured;
    try {
      process.stdout.write('bare fastify: put, get…\n');
      barePutAfter = await measured(bare.child, () => barePutPhase(bare.url));
      bareGet = await measured(bare.child, () => cannon(bare.url, { method: 'GET', path: '/bare' }));
    } finally {
      await stopChild(bare.child);
    }
    const barePut = meanOf(barePutBefore!, barePutAfter!);

    let postgres: StoreFigures | null = null;
    let pgNote = '';
    try {
      if (process.env.BENCH_PG === '0') throw new Error('skipped (BENCH_PG=0)');
      pg = await startPostgres();
      postgres = await benchStore('postgres', { kind: 'postgres', databaseUrl: pg.url });
    } catch (error) {
      pgNote = `PostgreSQL not measured: ${(error as Error).message.split('\n')[0]}`;
      process.stdout.write(`${pgNote}\n`);
    }

    const pgFields = (f: StoreFigures | null, which: 'send' | 'get', bareRate: number): Record<string, number | string | null> =>
      f
        ? {
            pg_value: rate(f[which]),
            pg_vs_bare: round(f[which].requests.average / bareRate),
            pg_errors: errorsOf(f[which]),
            pg_p50_ms: f[which].latency.p50,
            pg_p99_ms: f[which].latency.p99,
            pg_cpu_us_per_req: f[which].cpuPerReq,
            ...(which === 'send' ? { pg_stored: f.stored, pg_sent: f.sent, pg_acked_missing: f.ackedMissing } : {}),
          }
        : { pg_value: null, pg_note: pgNote };

    const common = { connections: CONNECTIONS, duration_s: DURATION_S, rate_limits: 'on (DB counters, limits 1e8/min)' };
    const entries: Record<string, BenchEntry> = {
      server_send: {
        value: rate(sqlite.send),
        unit: 'req/s',
        bare: rate(barePut),
        vs_bare: round(sqlite.send.requests.average / barePut.requests.average),
        errors: errorsOf(sqlite.send),
        p50_ms: sqlite.send.latency.p50,
        p99_ms: sqlite.send.latency.p99,
        cpu_us_per_req: sqlite.send.cpuPerReq,
        bare_cpu_us_per_req: barePut.cpuPerReq,
        stored: sqlite.stored,
        sent: sqlite.sent,
        acked_missing: sqlite.ackedMissing,
        bare_runs: barePut.runs.join(' / '),
        bare_route: 'PUT /bare, same ~2 KiB JSON body (mean of a run before and one after the SQLite phase)',
        body_bytes: Buffer.byteLength(sendRequest('PUT', '/', {}).body!),
        client_ids: 'engine format, time-ordered (electron/engine/sync/client-id.ts)',
        ...common,
        ...pgFields(postgres, 'send', barePut.requests.average),
      },
      server_get: {
        value: rate(sqlite.get),
        unit: 'req/s',
        bare: rate(bareGet!),
        vs_bare: round(sqlite.get.requests.average / bareGet!.requests.average),
        errors: errorsOf(sqlite.get),
        p50_ms: sqlite.get.latency.p50,
        p99_ms: sqlite.get.latency.p99,
        cpu_us_per_req: sqlite.get.cpuPerReq,
        bare_cpu_us_per_req: bareGet!.cpuPerReq,
        messages_per_response: PAGE,
        response_bytes: sqlite.getBytes,
        bare_route: `GET /bare, a ${sqlite.getBytes}-byte JSON body`,
        ...common,
        ...pgFields(postgres, 'get', bareGet!.requests.average),
      },
    };
    mergeResults(entries);
    process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
    const ok = entries.server_send!.errors === 0 && sqlite.ackedMissing === 0 && sqlite.stored >= sqlite.sent && (!postgres || (errorsOf(postgres.send) === 0 && postgres.ackedMissing === 0));
    if (!ok) {
      process.stderr.write('bench:server: errors, or acknowledged messages missing on read-back\n');
      process.exitCode = 1;
    }
  } finally {
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--serve') {
  serve(JSON.parse(process.argv[3]!) as ServeConfig).catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(1);
  });
} else {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(1);
  });
}

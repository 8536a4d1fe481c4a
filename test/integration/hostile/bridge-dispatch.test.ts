/**
 * Issue 18: arbitrary JSON on every channel of the contract gets a result
 * code, never an exception — through IPC dispatch (electron/engine/dispatch.ts,
 * what the main process's handlers call) and through the browser-mode bridge
 * (electron/webhost/server.ts) over a real WebSocket on loopback, with frames
 * that are not requests at all as well. After the sweep the engine still
 * answers a normal call.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { TEST_KDF_PARAMS } from '../../../electron/engine/crypto/pin-kdf.js';
import { dispatch } from '../../../electron/engine/dispatch.js';
import { openService, type Service } from '../../../electron/engine/service/index.js';
import { startWebhost, type Webhost } from '../../../electron/webhost/server.js';
import { ResultCode } from '../../../shared/codes.js';
import { contract } from '../../../shared/contract.js';
import { HOSTILE_SEED, hostileRuns } from '../../hostile/runs.js';
import { fieldsOf } from '../../hostile/schema-walk.js';
import { hostileString } from '../../hostile/strings.js';

const DEADLINE_MS = 30_000;
const CHANNELS = Object.keys(contract);
const CODES = new Set<number>(Object.values(ResultCode) as number[]);

/** Inputs for a channel: any JSON, or its own fields given any JSON or hostile strings. */
function inputFor(channel: string): fc.Arbitrary<unknown> {
  const fields = fieldsOf((contract as Record<string, { input: unknown }>)[channel]!.input);
  const value = fc.oneof(fc.jsonValue({ maxDepth: 3 }), hostileString(), fc.constantFrom<unknown>(null, -1, 1e308, 2 ** 53 + 1, '', [], {}));
  const shaped = fields.length ? fc.record(Object.fromEntries(fields.map((f) => [f.name, f.maxLength !== undefined ? fc.oneof(hostileString(f.maxLength, f.minLength), value) : value])), { requiredKeys: [] }) : fc.constant({});
  return fc.oneof(fc.jsonValue({ maxDepth: 4 }), shaped, shaped.map((o) => ({ ...o, extra: 1 })), fc.constant(undefined));
}

function checkResult(where: string, result: unknown): void {
  const r = result as { code?: unknown; message?: unknown };
  if (typeof r?.code !== 'number' || !CODES.has(r.code)) throw new Error(`${where}: no result code: ${JSON.stringify(result)?.slice(0, 200)}`);
  if (r.code !== 0 && typeof r.message !== 'string') throw new Error(`${where}: a failure without a message`);
}

/** A bridge socket that hands back each reply by id (null for a refused frame). */
function bridgeClient(host: Webhost) {
  const ws = new WebSocket(`ws://127.0.0.1:${new URL(host.origin).port}/bridge?token=${host.token}`, { headers: { Origin: host.origin } });
  // One frame in flight at a time (the test awaits each reply), so the next reply is the answer.
  let waiter: ((frame: { id?: unknown; result: unknown }) => void) | null = null;
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as { id?: unknown; event?: unknown; result: unknown };
    if ('event' in frame) return;
    const w = waiter;
    waiter = null;
    w?.(frame);
  });
  const reply = (send: () => void) =>
    new Promise<{ id?: unknown; result: unknown }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply within ${DEADLINE_MS} ms`)), DEADLINE_MS);
      waiter = (frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
      send();
    });
  return {
    ready: new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject)),
    call: async (id: number, channel: unknown, input: unknown) => {
      const frame = await reply(() => ws.send(JSON.stringify({ id, channel, input })));
      if (frame.id !== id) throw new Error(`reply to ${id} came back as ${String(frame.id)}`);
      return frame;
    },
    raw: (text: string) => reply(() => ws.send(text)),
    close: () => ws.close(),
  };
}

describe('every channel under arbitrary input', () => {
  let dir: string;
  let service: Service;
  let host: Webhost;
  let client: ReturnType<typeof bridgeClient>;
  let calls = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sealpost-hostile-bridge-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>test</title>');
    service = await openService({ profileDir: join(dir, 'profile'), actor: 'webhost', keychain: 'file', kdfParams: TEST_KDF_PARAMS });
    host = await startWebhost({ handlers: service.handlers, rendererDir: dir });
    client = bridgeClient(host);
    await client.ready;
  });
  afterAll(async () => {
    console.log(`bridge and dispatch: ${CHANNELS.length} channels, ${calls} calls`);
    client?.close();
    await host?.close();
    await service?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('IPC dispatch: a result code for every channel, unknown channels and non-string channel names', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constantFrom(...CHANNELS), fc.jsonValue({ maxDepth: 1 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'engine:', '')), fc.jsonValue({ maxDepth: 3 }), async (channel, input) => {
        calls++;
        checkResult(`dispatch ${String(channel)}`, await dispatch(service.handlers, channel, input));
      }),
      { seed: HOSTILE_SEED, numRuns: hostileRuns(200) },
    );
    for (const channel of CHANNELS) {
      await fc.assert(
        fc.asyncProperty(inputFor(channel), async (input) => {
          calls++;
          checkResult(`dispatch ${channel}`, await dispatch(service.handlers, channel, input));
        }),
        { seed: HOSTILE_SEED, numRuns: hostileRuns(24) },
      );
    }
  });

  it('browser-mode bridge over a real WebSocket: every channel, and frames that are not requests', async () => {
    let id = 1;
    for (const channel of CHANNELS) {
      await fc.assert(
        fc.asyncProperty(inputFor(channel), async (input) => {
          calls++;
          const n = id++;
          const frame = await client.call(n, channel, input);
          checkResult(`bridge ${channel}`, frame.result);
        }),
        { seed: HOSTILE_SEED, numRuns: hostileRuns(24) },
      );
    }
    const notRequests = fc.oneof(
      fc.constantFrom('', 'null', '[]', '"x"', '{', '{"id":1}', '{"id":{},"channel":"engine:status"}', '{"channel":1,"input":{}}', '\u0000', '{"__proto__":{"id":1}}'),
      fc.string({ unit: 'binary', maxLength: 100 }),
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null'),
    );
    await fc.assert(
      fc.asyncProperty(notRequests, async (text) => {
        calls++;
        checkResult('bridge raw frame', (await client.raw(text)).result);
      }),
      { seed: HOSTILE_SEED, numRuns: hostileRuns(300) },
    );
    const status = await client.call(id++, 'engine:status', {});
    expect((status.result as { code: number }).code).toBe(0);
  });
});

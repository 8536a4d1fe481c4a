/**
 * The renderer's browser-mode bridge (renderer/src/bridge.ts) against the
 * real webhost and engine on loopback: onEvent hands listeners the engine's
 * events and drops anything that is not an EngineEvent; unsubscribing stops
 * them; after the webhost goes away and comes back the bridge reconnects by
 * itself, tells its listeners to reload (events were missed meanwhile) and
 * receives events again.
 *
 * The bridge is the page's code: it runs here with `window` pointing at the
 * webhost and `ws` as the page's WebSocket (sending the page's Origin, as a
 * browser does). Chromium runs it for real in test/e2e/live-delivery.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { EngineEvent } from '../../../shared/contract-events.js';
import type { SealpostApi } from '../../../shared/contract.js';
import { TEST_KDF_PARAMS } from '../../../electron/engine/crypto/pin-kdf.js';
import { openService, type Service } from '../../../electron/engine/service/index.js';
import { startWebhost, type Webhost } from '../../../electron/webhost/server.js';
import { eventSource } from './helpers.js';

const DEADLINE_MS = 30_000;

/** Polls until `check` holds (generous deadline, no fixed sleeps). */
async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + DEADLINE_MS;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('browser-mode bridge events', () => {
  let dir: string;
  let service: Service;
  const source = eventSource();
  let host: Webhost;
  let port: number;
  let api: SealpostApi;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sealpost-bridge-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>test</title>');
    service = await openService({ profileDir: join(dir, 'profile'), actor: 'webhost', keychain: 'file', kdfParams: TEST_KDF_PARAMS });
    host = await startWebhost({ handlers: service.handlers, rendererDir: dir, onEvent: source.subscribe });
    port = Number(new URL(host.origin).port);
    const origin = host.origin;
    class PageWebSocket extends WebSocket {
      constructor(url: string) {
        super(url, { origin });
      }
    }
    Object.assign(globalThis, { window: { location: { hash: `#token=${host.token}`, host: `127.0.0.1:${port}` } }, WebSocket: PageWebSocket });
    // A computed path: the renderer's sources are checked by tsconfig.web.json, not by this project.
    const bridge = '../../../renderer/src/bridge.ts';
    ({ sealpost: api } = (await import(bridge)) as { sealpost: SealpostApi });
  });

  afterAll(async () => {
    await host?.close();
    service?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('dispatches valid events and drops everything else', async () => {
    const got: EngineEvent[] = [];
    const stop = api.onEvent((event) => got.push(event));
    // A reply means the socket is open (and registered for events) before they are sent.
    expect((await api.engine.status({})).code).toBe(0);
    for (const raw of [
      { type: 'nope' },
      { type: 'messages', received: -1, changed: 0 },
      { type: 'lock' },
      'lock',
      null,
      { type: 'messages', received: 1, changed: 0 },
      { type: 'lock', unlocked: false },
    ]) {
      source.emit(raw);
    }
    await until(() => got.length >= 2, 'the two valid events');
    expect(got).toEqual([
      { type: 'messages', received: 1, changed: 0 },
      { type: 'lock', unlocked: false },
    ]);
    stop();
    source.emit({ type: 'sync' });
    expect((await api.engine.status({})).code).toBe(0); // the frame above arrived before this reply
    expect(got).toHaveLength(2);
  });

  it('reconnects after the webhost comes back, asks listeners to reload, then gets events again', async () => {
    const got: EngineEvent[] = [];
    const stop = api.onEvent((event) => got.push(event));
    await host.close();
    host = await startWebhost({ handlers: service.handlers, rendererDir: dir, onEvent: source.subscribe, port, token: host.token });
    await until(() => got.some((e) => e.type === 'sync'), 'the reload after reconnecting');
    expect(got.map((e) => e.type)).toEqual(expect.arrayContaining(['sync', 'messages', 'items', 'contacts']));
    source.emit({ type: 'lock', unlocked: true });
    await until(() => got.some((e) => e.type === 'lock'), 'an event on the new socket');
    expect((await api.engine.status({})).code).toBe(0);
    stop();
  });
});

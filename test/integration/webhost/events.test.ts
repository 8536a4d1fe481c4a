/**
 * The webhost's engine events (browser mode), over real sockets on loopback
 * against a real engine: events reach every socket that passed the token and
 * Origin checks and nothing else; whatever JSON a client sends gets a reply
 * with a result code and the socket keeps working; closing the webhost ends
 * its subscription.
 *
 * The events come from a small source the test drives, so it can also send
 * what the engine never would (the bridge test checks those are dropped).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_KDF_PARAMS } from '../../../electron/engine/crypto/pin-kdf.js';
import { openService, type Service } from '../../../electron/engine/service/index.js';
import { startWebhost, type Webhost } from '../../../electron/webhost/server.js';
import { eventSource, openBridge, type EventSource } from './helpers.js';

describe('webhost engine events', () => {
  let dir: string;
  let service: Service;
  let source: EventSource;
  let host: Webhost;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sealpost-webhost-events-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>test</title>');
    service = await openService({ profileDir: join(dir, 'profile'), actor: 'webhost', keychain: 'file', kdfParams: TEST_KDF_PARAMS });
    source = eventSource();
    host = await startWebhost({ handlers: service.handlers, rendererDir: dir, onEvent: source.subscribe });
  });

  afterAll(async () => {
    await host?.close();
    service?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pushes every event to every authenticated socket, as { event } frames', async () => {
    const [one, two] = await Promise.all([openBridge(host), openBridge(host)]);
    source.emit({ type: 'messages', received: 2, changed: 0 });
    source.emit({ type: 'lock', unlocked: false });
    for (const socket of [one, two]) {
      expect(await socket.next()).toEqual({ event: { type: 'messages', received: 2, changed: 0 } });
      expect(await socket.next()).toEqual({ event: { type: 'lock', unlocked: false } });
    }
    one.close();
    two.close();
  });

  it('sends nothing to a client refused at the upgrade (no token, wrong token, wrong Origin)', async () => {
    const { port } = new URL(host.origin);
    const attempts = [
      { path: '/bridge', origin: host.origin },
      { path: '/bridge?token=wrong', origin: host.origin },
      { path: `/bridge?token=${host.token}`, origin: 'http://evil.example' },
      { path: `/elsewhere?token=${host.token}`, origin: host.origin },
    ];
    for (const attempt of attempts) {
      // A raw upgrade request, so the test sees every byte the webhost sends back.
      const received = await new Promise<string>((resolve, reject) => {
        const socket = tcpConnect(Number(port), '127.0.0.1', () => {
          socket.write(
            `GET ${attempt.path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: ${attempt.origin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
              'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
          );
          source.emit({ type: 'sync' });
        });
        let data = '';
        socket.on('data', (chunk) => {
          data += String(chunk);
          source.emit({ type: 'sync' });
        });
        socket.on('error', reject);
        socket.on('close', () => resolve(data));
      });
      expect(received).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
      expect(received).not.toContain('sync');
    }
  });

  it('answers any JSON with a result code and keeps the socket working', async () => {
    const socket = await openBridge(host);
    const junk = ['null', '[]', '"text"', '5', 'true', '{}', '{"id":1}', '{"id":2,"channel":"no:such"}', '{"id":3,"channel":"engine:status","input":"x"}', 'not json', '{"event":{"type":"lock","unlocked":true}}'];
    for (const frame of junk) {
      socket.sendRaw(frame);
      const reply = (await socket.next()) as { id: unknown; result: { code: unknown; message: unknown } };
      expect(typeof reply.result.code).toBe('number');
      expect(reply.result.code).not.toBe(0);
      expect(typeof reply.result.message).toBe('string');
    }
    socket.sendRaw(JSON.stringify({ id: 9, channel: 'engine:status', input: {} }));
    expect(await socket.next()).toMatchObject({ id: 9, result: { code: 0 } });
    socket.close();
  });

  it('ends its subscription when it closes', async () => {
    const dir2 = mkdtempSync(join(tmpdir(), 'sealpost-webhost-close-'));
    writeFileSync(join(dir2, 'index.html'), '<!doctype html><title>test</title>');
    const own = eventSource();
    const second = await startWebhost({ handlers: service.handlers, rendererDir: dir2, onEvent: own.subscribe });
    expect(own.listeners()).toBe(1);
    await second.close();
    expect(own.listeners()).toBe(0);
    rmSync(dir2, { recursive: true, force: true });
  });
});

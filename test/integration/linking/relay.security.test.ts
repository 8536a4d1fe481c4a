/**
 * A key service that swaps the link keys (security.md "Device linking"): a
 * proxy in front of a real key service rewrites what it relays, as a hostile
 * operator could. Two engines link through it:
 *
 *  - it replaces the new device's revealed key: the existing device finds it
 *    does not match the commitment and stops (Tampered), nothing is sealed;
 *  - it plays man in the middle on both sides with keys of its own (a fake
 *    commitment upstream, a fake claim key downstream): the two devices show
 *    different verification codes, and confirming on the existing device with
 *    the code the new device shows refuses (InvalidParameter) and sends nothing.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitment, newLinkKeyPair } from '../../../electron/engine/crypto/link-protocol.js';
import { ResultCode } from '../../../shared/codes.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { cleanup, openProfile, type Profile, tmp } from '../sync/helpers.js';

type Json = Record<string, unknown>;
type Rewrite = (req: { method: string; path: string; device: boolean; body: Json | undefined }) => { body?: Json | undefined; response?: (json: Json) => Json };

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');

/** A pass-through proxy whose `rewrite` may change link request bodies and responses. */
async function startRelay(upstream: string): Promise<{ url: string; server: Server; rewrite: Rewrite | null; seen: string[] }> {
  const relay = { url: '', server: null as unknown as Server, rewrite: null as Rewrite | null, seen: [] as string[] };
  relay.server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const method = req.method ?? 'GET';
        const url = req.url ?? '/';
        const device = typeof req.headers.authorization === 'string';
        relay.seen.push(`${method} ${url.replace(/\?.*$/, '')}`);
        let body = raw ? (JSON.parse(raw) as Json) : undefined;
        const plan = url.startsWith('/v1/link') && relay.rewrite ? relay.rewrite({ method, path: url, device, body }) : {};
        if (plan.body) body = plan.body;
        const headers: Record<string, string> = {};
        for (const h of ['authorization', 'x-client-key', 'x-server-key', 'x-private-key-hash', 'content-type', 'accept']) {
          const v = req.headers[h];
          if (typeof v === 'string') headers[h] = v;
        }
        const up = await fetch(`${upstream}${url}`, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }) });
        let text = await up.text();
        if (plan.response && up.ok && text) text = JSON.stringify(plan.response(JSON.parse(text) as Json));
        res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
        res.end(text);
      })().catch((e: unknown) => {
        res.writeHead(502);
        res.end(String(e));
      });
    });
  });
  await new Promise<void>((resolve) => relay.server.listen(0, '127.0.0.1', resolve));
  relay.url = `http://127.0.0.1:${(relay.server.address() as AddressInfo).port}`;
  return relay;
}

describe('device linking through a key service that swaps keys', () => {
  const root = tmp('sealpost-link-relay-');
  let ks: KeyService;
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let alice: Profile;
  const fresh: Profile[] = [];

  beforeAll(async () => {
    ks = await startKeyService({ db: path.join(root, 'ks.db') });
    relay = await startRelay(ks.url);
    alice = await openProfile(path.join(root, 'alice'));
    await alice.ok('identity:create', { pin: '0', rsaBits: 2048 });
    await alice.ok('device:register', { server: relay.url, appId: ks.app.appId, serverKey: ks.app.serverKey, username: 'alice' });
  });

  afterAll(async () => {
    for (const p of [alice, ...fresh]) p?.close();
    await new Promise((resolve) => relay?.server.close(resolve));
    await ks?.close();
    cleanup(root);
  });

  async function newDevice(name: string): Promise<{ p: Profile; code: string }> {
    const p = await openProfile(path.join(root, name));
    fresh.push(p);
    const r = await p.ok('link:request', { server: relay.url, appId: ks.app.appId, clientKey: ks.app.clientKey, username: 'alice', pin: '2468', serverKey: ks.app.serverKey });
    return { p, code: r.code };
  }

  /** Polls the new device until it shows a verification code or fails. */
  async function pollNew(p: Profile): Promise<{ code: number; verificationCode?: string | null }> {
    for (let i = 0; i < 100; i++) {
      const r = await p.call('link:progress', {});
      if (r.code !== 0) return { code: r.code };
      if (r.value.state !== 'waiting') return { code: 0, verificationCode: r.value.verificationCode };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the new device never left "waiting"');
  }

  it('a replaced reveal key fails the commitment check on the existing device: nothing is sealed', async () => {
    const mallory = newLinkKeyPair();
    relay.rewrite = ({ method, device }) =>
      method === 'GET' && device ? { response: (s) => (s.revealKey ? { ...s, revealKey: b64url(mallory.publicKey) } : s) } : {};
    relay.seen.length = 0;
    const { p, code } = await newDevice('laptop');
    const [claimed] = await Promise.all([alice.call('link:claim', { code }), pollNew(p)]);
    expect(claimed).toMatchObject({ code: ResultCode.Tampered, message: expect.stringMatching(/does not match what it committed to/) });
    expect(relay.seen.some((s) => s.endsWith('/seal'))).toBe(false);
    // The existing device dropped the session; the new device learns it ended.
    expect((await p.call('link:progress', {})).code).toBe(ResultCode.NotFound);
    expect((await p.ok('engine:status', {})).hasIdentity).toBe(false);
    relay.rewrite = null;
  });

  it('a relay in the middle with its own keys makes the codes differ; confirming with the new device\'s code sends nothing', async () => {
    const m1 = newLinkKeyPair(); // what the existing device takes for the new device
    const m2 = newLinkKeyPair(); // what the new device takes for the existing device
    let realCommitment = '';
    let realReveal = '';
    relay.rewrite = ({ method, path: p, device, body }) => {
      if (method === 'POST' && p === '/v1/link' && body) {
        realCommitment = body.commitment as string;
        return { body: { ...body, commitment: b64url(commitment(m1.publicKey)) } };
      }
      if (method === 'POST' && p.endsWith('/reveal') && body) {
        realReveal = body.publicKey as string;
        return { body: { publicKey: b64url(m1.publicKey) } };
      }
      if (method === 'GET' && !device) {
        return {
          response: (s) => ({
            ...s,
            commitment: realCommitment,
            claimKey: s.claimKey ? b64url(m2.publicKey) : null,
            revealKey: s.revealKey ? realReveal : null,
          }),
        };
      }
      return {};
    };
    relay.seen.length = 0;
    const { p, code } = await newDevice('tablet');
    const [claimed, shown] = await Promise.all([alice.call('link:claim', { code }), pollNew(p)]);
    expect(claimed.code).toBe(0);
    expect(shown.code).toBe(0);
    const oldCode = (claimed as { value: { verificationCode: string } }).value.verificationCode;
    if (oldCode === shown.verificationCode) return; // one chance in a million for the relay
    const confirmed = await alice.call('link:confirm', { verificationCode: shown.verificationCode! });
    expect(confirmed).toMatchObject({ code: ResultCode.InvalidParameter, message: expect.stringMatching(/codes differ: nothing was sent/) });
    expect(relay.seen.some((s) => s.endsWith('/seal'))).toBe(false);
    expect((await alice.call('link:confirm', { verificationCode: oldCode })).code).toBe(ResultCode.InvalidState);
    expect((await p.ok('engine:status', {})).hasIdentity).toBe(false);
    relay.rewrite = null;
  });
});

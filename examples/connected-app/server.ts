/**
 * "Acme Notes", a small connected application (docs/connected-apps.md): sign in
 * with Sealpost by approving on the desktop, then ask for your personal key and
 * encrypt a note with it (AES-GCM). The back end talks to the key service with
 * its secret and verifies everything itself (relying-party.ts).
 *
 *   const app = await startExampleApp({ keyService, appId, secret, privateKeyPem });
 *   // open app.url in a browser; await app.close();
 *
 * Sessions live in memory (a cookie names them): an example, not a pattern for
 * production.
 * @module
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { RelyingParty, RelyingPartyError, type RelyingPartyOptions } from './relying-party.js';
import { endedPage, homePage, notesPage, waitPage } from './pages.js';

export interface ExampleAppOptions extends RelyingPartyOptions {
  host?: string;
  port?: number;
}

interface Session {
  user?: { username: string; did: string };
  key?: Buffer;
  pending?: { id: string; nonce: string; userCode: string | null; what: 'sign-in' | 'key' };
}

export interface ExampleApp {
  url: string;
  close(): Promise<void>;
}

/** AES-GCM with the personal key (128, 192 or 256 bits): nonce(12) || ciphertext || tag(16), base64. */
export function encryptNote(key: Buffer, note: string): string {
  const nonce = randomBytes(12);
  const c = createCipheriv(`aes-${key.length * 8}-gcm` as 'aes-256-gcm', key, nonce);
  const ct = Buffer.concat([c.update(note, 'utf8'), c.final()]);
  return Buffer.concat([nonce, ct, c.getAuthTag()]).toString('base64');
}

export function decryptNote(key: Buffer, sealed: string): string {
  const b = Buffer.from(sealed, 'base64');
  const d = createDecipheriv(`aes-${key.length * 8}-gcm` as 'aes-256-gcm', key, b.subarray(0, 12));
  d.setAuthTag(b.subarray(b.length - 16));
  return Buffer.concat([d.update(b.subarray(12, b.length - 16)), d.final()]).toString('utf8');
}

export async function startExampleApp(o: ExampleAppOptions): Promise<ExampleApp> {
  const rp = new RelyingParty(o);
  const sessions = new Map<string, Session>();
  const app = Fastify({ logger: false });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  function session(request: FastifyRequest, reply: FastifyReply): Session {
    const sid = /(?:^|;\s*)sid=([A-Za-z0-9_-]{22})/.exec(request.headers.cookie ?? '')?.[1];
    if (sid && sessions.has(sid)) return sessions.get(sid)!;
    const id = randomBytes(16).toString('base64url');
    const s: Session = {};
    sessions.set(id, s);
    reply.header('set-cookie', `sid=${id}; HttpOnly; SameSite=Lax; Path=/`);
    return s;
  }
  const html = (reply: FastifyReply, body: string, status = 200) => reply.code(status).type('text/html; charset=utf-8').header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'").send(body);
  const field = (request: FastifyRequest, name: string): string => {
    const v = (request.body as Record<string, unknown> | undefined)?.[name];
    return typeof v === 'string' ? v.trim() : '';
  };

  app.get('/', async (request, reply) => {
    const s = session(request, reply);
    return s.user ? reply.redirect('/notes') : html(reply, homePage());
  });

  app.post('/sign-in', async (request, reply) => {
    const s = session(request, reply);
    const username = field(request, 'username');
    try {
      const created = await rp.signIn(username || null, `http://${request.headers.host ?? 'localhost'}/notes`, 'Sign in to Acme Notes');
      s.pending = { id: created.id, nonce: created.nonce, userCode: created.userCode, what: 'sign-in' };
      return reply.redirect('/wait');
    } catch (e) {
      if (e instanceof RelyingPartyError) return html(reply, homePage(e.message), 400);
      throw e;
    }
  });

  app.post('/key', async (request, reply) => {
    const s = session(request, reply);
    if (!s.user) return reply.redirect('/');
    const created = await rp.requestKey(s.user.username, 'Encrypt your notes');
    s.pending = { id: created.id, nonce: created.nonce, userCode: null, what: 'key' };
    return reply.redirect('/wait');
  });

  app.get('/wait', async (request, reply) => {
    const s = session(request, reply);
    const p = s.pending;
    if (!p) return reply.redirect('/');
    const state = await rp.read(p.id);
    if (state.state === 'pending') return html(reply, waitPage(p.what === 'sign-in' ? 'a sign-in' : 'your personal key', p.userCode));
    s.pending = undefined;
    if (state.state !== 'approved') return html(reply, endedPage(state.state));
    try {
      const v = await rp.verify(state.result!, p);
      if (p.what === 'sign-in') s.user = { username: v.username, did: v.did };
      if (v.key) s.key = v.key;
    } catch (e) {
      if (e instanceof RelyingPartyError) return html(reply, endedPage('failed', e.message), 400);
      throw e;
    }
    return reply.redirect('/notes');
  });

  app.get('/notes', async (request, reply) => {
    const s = session(request, reply);
    if (!s.user) return reply.redirect('/');
    return html(reply, notesPage({ ...s.user, keyFingerprint: s.key ? createHash('sha256').update(s.key).digest('hex') : null }));
  });

  app.post('/encrypt', async (request, reply) => {
    const s = session(request, reply);
    if (!s.user || !s.key) return reply.redirect('/notes');
    const note = field(request, 'note');
    const ciphertext = encryptNote(s.key, note);
    return html(reply, notesPage({ ...s.user, keyFingerprint: createHash('sha256').update(s.key).digest('hex'), sealed: { note, ciphertext, reopened: decryptNote(s.key, ciphertext) } }));
  });

  app.post('/sign-out', async (request, reply) => {
    const s = session(request, reply);
    delete s.user;
    s.key?.fill(0);
    delete s.key;
    return reply.redirect('/');
  });

  const url = await app.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 0 });
  return {
    url,
    close: async () => {
      for (const s of sessions.values()) s.key?.fill(0);
      await app.close();
    },
  };
}

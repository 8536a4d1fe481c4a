/**
 * Issue 14 across key-service instances: two instances on one PostgreSQL, the
 * sender registered with (and streaming from) instance A, the recipient with
 * instance B. The message event raised on A reaches B's stream through
 * LISTEN/NOTIFY, and the delivered receipt raised on B reaches A's. Then B stops
 * listening (its NOTIFYs are lost): the recipient's timer still delivers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../../server/index.js';
import { startKeyService, type KeyService } from '../../helpers/key-service.js';
import { postgresForSuite } from '../../helpers/postgres-suite.js';
import { cleanup, newUser, type Profile, tmp } from './helpers.js';
import { FAR, streamOf, until } from './live-helpers.js';

const pg = await postgresForSuite('live delivery on PostgreSQL');
if (pg) {
  const cluster = pg;
  describe('live delivery across two key-service instances on PostgreSQL', () => {
    const root = tmp('sealpost-live-pg-');
    let a: KeyService;
    let b: RunningServer;
    let alice: Profile;
    let bob: Profile;

    beforeAll(async () => {
      const databaseUrl = await cluster.createDatabase();
      a = await startKeyService({ databaseUrl });
      b = await startServer({ host: '127.0.0.1', port: 0, rsaBits: 2048, databaseUrl, rateLimit: { perIp: 1_000_000, perDevice: 1_000_000, secretFailures: 1000 } });
      alice = await newUser(root, 'alice', a);
      bob = await newUser(root, 'bob', { url: b.url, app: a.app });
      await alice.ok('contacts:lookup', { username: 'bob' });
      alice.service.messaging.sync.start(FAR, FAR);
      bob.service.messaging.sync.start(FAR, FAR);
      await until(async () => (await streamOf(alice)) === 'live' && (await streamOf(bob)) === 'live', 'both streams live');
    });

    afterAll(async () => {
      alice?.close();
      bob?.close();
      await b?.close();
      await a?.close();
      cleanup(root);
    });

    it('sender on A, recipient on B: opened and stored without a sync call, and delivered on the sender', async () => {
      expect(a.server.streams.size).toBeGreaterThanOrEqual(1);
      expect(b.streams.size).toBeGreaterThanOrEqual(1);
      const sent = await alice.ok('messages:send', { to: ['bob'], text: 'across instances' });
      await until(async () => (await bob.ok('messages:list', {})).find((m) => m.text === 'across instances'), 'the message on B');
      await until(async () => (await alice.ok('messages:list', {})).find((m) => m.id === sent.messageIds[0] && m.state === 'delivered'), 'delivered on A');
    });

    it('with B no longer listening (NOTIFYs lost), the timer still delivers', async () => {
      // A short timer for the fallback; the stream to B stays open but hears nothing from A.
      bob.service.messaging.sync.stop();
      await b.events.close();
      bob.service.messaging.sync.start(1000, 1000);
      await until(async () => (await streamOf(bob)) === 'live', "bob's stream live again");
      await alice.ok('messages:send', { to: ['bob'], text: 'after the listener stopped' });
      const got = await until(async () => (await bob.ok('messages:list', { limit: 500 })).filter((m) => m.text === 'after the listener stopped').length > 0 && (await bob.ok('messages:list', { limit: 500 })), 'the timer delivery');
      expect(got.filter((m) => m.text === 'after the listener stopped')).toHaveLength(1);
      expect(got.filter((m) => m.text === 'across instances')).toHaveLength(1);
    });
  });
}

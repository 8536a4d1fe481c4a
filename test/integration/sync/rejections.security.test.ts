/**
 * Issue 4 reliability: tampered ciphertext, a message signed by the wrong key,
 * a replayed message and a message for another key are rejected with a clear
 * reason in the message list, never shown as verified text, and sync goes on
 * with the next message.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealEnvelope, toWire } from '../../../electron/engine/crypto/envelope.js';
import { keyId } from '../../../electron/engine/crypto/rsa.js';
import { MESSAGE_CONTENT_TYPE } from '../../../electron/engine/sync/content.js';
import { startKeyService, type KeyService, type RegisteredDevice } from '../../helpers/key-service.js';
import { cleanup, newUser, type Profile, tmp } from './helpers.js';

interface Dir {
  userid: string;
  encryptionKeys: { publicKeyPem: string; inbox: string | null }[];
}

describe('rejected messages', () => {
  const root = tmp('sealpost-reject-');
  let ks: KeyService;
  let alice: Profile;
  let bob: Profile;
  let mallory: RegisteredDevice;
  let bobDir: Dir;
  let aliceDir: Dir;

  beforeAll(async () => {
    ks = await startKeyService({ db: path.join(root, 'ks.db') });
    alice = await newUser(root, 'alice', ks);
    bob = await newUser(root, 'bob', ks);
    mallory = await ks.registerDevice('mallory');
    bobDir = (await ks.request<Dir>('GET', '/v1/users/bob', { jwt: mallory.jwt })).json;
    aliceDir = (await ks.request<Dir>('GET', '/v1/users/alice', { jwt: mallory.jwt })).json;
  });

  afterAll(async () => {
    alice?.close();
    bob?.close();
    await ks?.close();
    cleanup(root);
  });

  /** A message sealed by Mallory's real identity key, claiming to be from `from`. */
  function forge(text: string, from: { username: string; userid: string }, recipientPem: string) {
    const content = { v: 1, from, to: [{ username: 'bob', userid: bobDir.userid }], text, attachments: [] };
    const envelope = sealEnvelope({
      body: JSON.stringify(content),
      contentType: MESSAGE_CONTENT_TYPE,
      sender: { secretKey: mallory.signingSecretKey, publicKey: mallory.signingPublicKey, fingerprint: mallory.pkg.fingerprint },
      recipients: [recipientPem],
    });
    return toWire(envelope, keyId(recipientPem));
  }

  async function put(wire: { encryptedmessage: string; encryptionkey: string }, clientId: string) {
    const inbox = bobDir.encryptionKeys[0]!.inbox!;
    const r = await ks.request('PUT', `/v1/keys/${inbox}/messages`, { jwt: mallory.jwt, body: { ...wire, clientId } });
    expect(r.status).toBe(200);
  }

  it('rejects each bad message with its reason and still delivers the good ones', async () => {
    const bobPem = bobDir.encryptionKeys[0]!.publicKeyPem;
    const malloryParty = { username: 'mallory', userid: mallory.userid };

    // 1. tampered: one ciphertext byte flipped.
    const t = forge('tampered text', malloryParty, bobPem);
    const bytes = Buffer.from(t.encryptedmessage, 'base64');
    bytes[bytes.length - 20]! ^= 0x01;
    await put({ ...t, encryptedmessage: bytes.toString('base64') }, 'x-tampered');
    // 2. signed by the wrong key: Mallory's signature, Alice's name.
    await put(forge('I am alice, really', { username: 'alice', userid: aliceDir.userid }, bobPem), 'x-impostor');
    // 3. for another key: sealed to Alice only, dropped into Bob's inbox.
    await put(forge('for alice only', malloryParty, aliceDir.encryptionKeys[0]!.publicKeyPem), 'x-otherkey');
    // 4. replay: a valid message, then the same bytes again under a new client id.
    const legit = forge('hello from mallory', malloryParty, bobPem);
    await put(legit, 'x-legit');
    await put(legit, 'x-replayed');
    // 5. a good message from Alice after all of that.
    await alice.ok('messages:send', { to: ['bob'], text: 'the real alice' });
    expect((await alice.ok('sync:now', {})).sent).toBe(1);

    const report = await bob.ok('sync:now', {});
    expect(report).toMatchObject({ received: 2, rejected: 4 });
    const list = await bob.ok('messages:list', {});
    const rejected = list.filter((m) => m.sender === 'rejected');
    expect(rejected.map((m) => m.reason).sort()).toEqual(['replay', 'sender-mismatch', 'tampered', 'wrong-key']);
    for (const m of rejected) expect(m.text).toBeNull();
    expect(list.filter((m) => m.text === 'I am alice, really')).toHaveLength(0);

    const fromAlice = list.find((m) => m.text === 'the real alice')!;
    expect(fromAlice).toMatchObject({ peerName: 'alice', sender: 'unverified' });
    const fromMallory = list.find((m) => m.text === 'hello from mallory')!;
    expect(fromMallory.peerName).toBe('mallory');
    expect(fromMallory.sender).not.toBe('verified');
    // Reading a rejected message never yields its text.
    const read = await bob.ok('messages:read', { id: rejected[0]!.id });
    expect(read.text).toBeNull();
  });
});

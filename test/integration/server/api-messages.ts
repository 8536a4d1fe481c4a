/**
 * API suite part: keys and messages as in the seed key service (online and
 * offline keys, sends, paging, delivery, clientId dedupe, body formats). The largest area, on its own.
 */
import { constants, createHash, createPublicKey, generateKeyPairSync, privateDecrypt, createDecipheriv } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { MessagesResponse } from '../../../shared/wire.js';
import { expectError, type ApiState } from './api-shared.js';

function decryptOnlineFormat(encryptedmessage: string, encryptionkey: string, privateKey: import('node:crypto').KeyObject): Buffer {
  const key = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(encryptionkey, 'base64'));
  const sealed = Buffer.from(encryptedmessage, 'base64');
  const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  return gunzipSync(Buffer.concat([d.update(sealed.subarray(12, sealed.length - 16)), d.final()]));
}

export function defineMessagesTests(state: () => ApiState): void {
  describe('keys and messages (seed key service)', () => {
    let { ks, alice, bob, inbox } = {} as ApiState;
    beforeAll(() => void ({ ks, alice, bob, inbox } = state()));

    it('online: create with a passphrase, send text and files, read them decrypted', async () => {
      const passphrase = 'correct horse battery staple';
      const created = await ks.request<{ token: string }>('POST', '/v1/keys', { clientKey: ks.app.clientKey, body: { passphrase } });
      expect(created.status).toBe(200);
      const token = created.json.token;
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const info = await ks.request<{ publickey: string; fingerprint: string; bits: number; mode: string }>('GET', `/v1/keys/${token}`, { clientKey: ks.app.clientKey });
      expect(info.json.mode).toBe('online');
      expect(info.json.bits).toBe(2048);
      expect(info.json.fingerprint).toBe(createHash('sha256').update(createPublicKey(info.json.publickey).export({ type: 'spki', format: 'der' })).digest('hex'));

      expect((await ks.request('GET', `/v1/keys/${token}/messages`, { clientKey: ks.app.clientKey, headers: { 'x-passphrase': passphrase } })).status).toBe(304);
      const text = await ks.request<{ MessageId: number }>('PUT', `/v1/keys/${token}/messages`, { clientKey: ks.app.clientKey, body: { message: 'héllo wörld ✓' } });
      expect(text.json.MessageId).toBe(1);
      const form = new FormData();
      form.append('message', 'with attachments');
      form.append('files', new Blob([Buffer.from('first file')], { type: 'text/plain' }), 'a.txt');
      form.append('files', new Blob([Buffer.from([0, 1, 2, 255])], { type: 'application/octet-stream' }), '../../etc/b.bin');
      const multi = await ks.request<{ MessageId: number; MessageIds: number[] }>('PUT', `/v1/keys/${token}/messages`, { clientKey: ks.app.clientKey, body: form });
      expect(multi.status, multi.text).toBe(200);
      expect(multi.json.MessageIds).toEqual([2, 3, 4]);

      const read = await ks.request('GET', `/v1/keys/${token}/messages?passphrase=${encodeURIComponent(passphrase)}`, { clientKey: ks.app.clientKey });
      const msgs = MessagesResponse.parse(read.json).Messages;
      expect(msgs.map((m) => [m.MessageId, m.Message, m.IsFile, m.size, m.Encrypted])).toEqual([
        [1, 'héllo wörld ✓', false, Buffer.byteLength('héllo wörld ✓'), false],
        [2, 'with attachments', false, 16, false],
        [3, Buffer.from('first file').toString('base64'), true, 10, false],
        [4, Buffer.from([0, 1, 2, 255]).toString('base64'), true, 4, false],
      ]);
      expect(msgs[2]!.FileName).toBe('a.txt');
      expect(msgs[3]!.FileName).toBe('b.bin');
      expect(Date.parse(msgs[0]!.SentOn)).toBeGreaterThan(Date.now() - 60_000);

      expectError(await ks.request('GET', `/v1/keys/${token}/messages`, { clientKey: ks.app.clientKey, headers: { 'x-passphrase': 'wrong passphrase' } }), 403, 'wrong_secret');
      expectError(await ks.request('DELETE', `/v1/keys/${token}`, { clientKey: ks.app.clientKey, body: { passphrase: 'wrong passphrase' } }), 403, 'wrong_secret');
      expect((await ks.request('DELETE', `/v1/keys/${token}`, { clientKey: ks.app.clientKey, body: { passphrase } })).json).toEqual({ deleted: true });
      expectError(await ks.request('GET', `/v1/keys/${token}`, { clientKey: ks.app.clientKey }), 404, 'unknown_key');
    });

    it('offline: messages are stored exactly as sent and read with the privatekeyhash', async () => {
      const cipher = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256)).toString('base64');
      const wrapped = Buffer.alloc(256, 9).toString('base64');
      const sent = await ks.request<{ MessageId: number }>('PUT', `/v1/keys/${inbox}/messages`, { jwt: bob.jwt, body: { encryptedmessage: cipher, encryptionkey: wrapped, isfile: true } });
      expect(sent.status).toBe(200);
      const read = await ks.request('GET', `/v1/keys/${inbox}/messages?privatekeyhash=${alice.privateKeyHash}&after=${sent.json.MessageId - 1}`, { jwt: alice.jwt });
      const [m] = MessagesResponse.parse(read.json).Messages;
      expect(m).toMatchObject({ MessageId: sent.json.MessageId, Message: cipher, EncryptionKey: wrapped, IsFile: true, size: 3000, Encrypted: true });
      expectError(await ks.request('GET', `/v1/keys/${inbox}/messages`, { jwt: alice.jwt, headers: { 'x-private-key-hash': 'f'.repeat(64) } }), 403, 'wrong_secret');
      expect((await ks.request('GET', `/v1/keys/${inbox}/messages?after=${sent.json.MessageId}`, { jwt: alice.jwt, headers: { 'x-private-key-hash': alice.privateKeyHash } })).status).toBe(304);
    });

    it('online sends to an uploaded key use the documented format (gzip, AES-256-GCM, RSA-OAEP-SHA256)', async () => {
      const up = await ks.request<{ token: string }>('POST', '/v1/keys', { clientKey: ks.app.clientKey, body: { publickey: alice.rsaPublicPem, privatekeyhash: 'any string at all' } });
      await ks.request('PUT', `/v1/keys/${up.json.token}/messages`, { clientKey: ks.app.clientKey, body: { message: 'server-encrypted' } });
      const read = await ks.request('GET', `/v1/keys/${up.json.token}/messages`, { clientKey: ks.app.clientKey, headers: { 'x-private-key-hash': 'any string at all' } });
      const [m] = MessagesResponse.parse(read.json).Messages;
      expect(decryptOnlineFormat(m!.Message, m!.EncryptionKey!, alice.rsaPrivateKey).toString()).toBe('server-encrypted');
      expectError(await ks.request('GET', `/v1/keys/${up.json.token}/messages`, { clientKey: ks.app.clientKey, headers: { 'x-passphrase': 'no private key here' } }), 400, 'no_private_key');
    });

    it('an uploaded key with a passphrase-encrypted privatekey can be read online', async () => {
      const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const encrypted = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'upload passphrase' }).toString();
      const pkh = createHash('sha256').update(privateKey.export({ type: 'pkcs8', format: 'der' })).digest('hex');
      const up = await ks.request<{ token: string }>('POST', '/v1/keys', {
        clientKey: ks.app.clientKey,
        body: { publickey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privatekey: encrypted, privatekeyhash: pkh },
      });
      expect(up.status, up.text).toBe(200);
      await ks.request('PUT', `/v1/keys/${up.json.token}/messages`, { clientKey: ks.app.clientKey, body: { message: 'read me online' } });
      const read = await ks.request('GET', `/v1/keys/${up.json.token}/messages`, { clientKey: ks.app.clientKey, headers: { 'x-passphrase': 'upload passphrase' } });
      expect(MessagesResponse.parse(read.json).Messages[0]!.Message).toBe('read me online');
      expectError(await ks.request('GET', `/v1/keys/${up.json.token}/messages`, { clientKey: ks.app.clientKey, headers: { 'x-passphrase': 'not it' } }), 403, 'wrong_secret');
      const plain = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      expectError(
        await ks.request('POST', '/v1/keys', { clientKey: ks.app.clientKey, body: { publickey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privatekey: plain, privatekeyhash: pkh } }),
        400,
        'invalid_key',
      );
    });

    it('pages through messages with after + limit, in order, none skipped', async () => {
      const up = await ks.request<{ token: string }>('POST', '/v1/keys', { jwt: bob.jwt, body: { publickey: bob.rsaPublicPem, privatekeyhash: bob.privateKeyHash } });
      const token = up.json.token;
      const ids = [];
      for (let i = 0; i < 25; i++) {
        ids.push((await ks.request<{ MessageId: number }>('PUT', `/v1/keys/${token}/messages`, { jwt: alice.jwt, body: { encryptedmessage: Buffer.from(`m${i}`).toString('base64'), encryptionkey: 'AAAA' } })).json.MessageId);
      }
      expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
      const seen: number[] = [];
      let after = 0;
      const pages: boolean[] = [];
      for (;;) {
        const r = await ks.request('GET', `/v1/keys/${token}/messages?limit=10&after=${after}`, { jwt: bob.jwt, headers: { 'x-private-key-hash': bob.privateKeyHash } });
        if (r.status === 304) break;
        const page = MessagesResponse.parse(r.json);
        seen.push(...page.Messages.map((m) => m.MessageId));
        pages.push(page.HasMore);
        after = page.Cursor;
      }
      expect(seen).toEqual(ids);
      expect(pages).toEqual([true, true, false]);
    });

    it('delivery: a read past a MessageId acknowledges it; the sending device (only) learns which of its messages were delivered', async () => {
      const carol = await ks.registerDevice('carol-delivery');
      const up = await ks.request<{ token: string }>('POST', '/v1/keys', { jwt: carol.jwt, body: { publickey: carol.rsaPublicPem, privatekeyhash: carol.privateKeyHash } });
      const token = up.json.token;
      const send = async (jwt: string, i: number) =>
        (await ks.request<{ MessageId: number }>('PUT', `/v1/keys/${token}/messages`, { jwt, body: { encryptedmessage: Buffer.from(`d${i}`).toString('base64'), encryptionkey: 'AAAA' } })).json.MessageId;
      const a1 = await send(alice.jwt, 1);
      const a2 = await send(alice.jwt, 2);
      const b3 = await send(bob.jwt, 3);
      const a4 = await send(alice.jwt, 4);
      const ask = (jwt: string, ids: number[], t = token) =>
        ks.request<{ delivered: Array<{ token: string; MessageId: number }> }>('POST', '/v1/messages/delivered', { jwt, body: { messages: ids.map((MessageId) => ({ token: t, MessageId })) } });
      const read = (after: number) => ks.request('GET', `/v1/keys/${token}/messages?after=${after}`, { jwt: carol.jwt, headers: { 'x-private-key-hash': carol.privateKeyHash } });

      // Stored, not yet fetched: nothing delivered.
      const none = await ask(alice.jwt, [a1, a2, a4]);
      expect(none.status, none.text).toBe(200);
      expect(none.json.delivered).toEqual([]);
      // The page is returned, but only the next read (after its cursor) acknowledges it.
      const page = MessagesResponse.parse((await read(0)).json);
      expect(page.Messages.map((m) => m.MessageId)).toEqual([a1, a2, b3, a4]);
      expect((await ask(alice.jwt, [a1])).json.delivered).toEqual([]);
      expect((await read(a2)).status).toBe(200);
      expect((await ask(alice.jwt, [a1, a2, a4])).json.delivered).toEqual([{ token, MessageId: a1 }, { token, MessageId: a2 }]);
      // Only the sending device's own messages: bob's is not reported to alice, alice's not to bob.
      expect((await ask(alice.jwt, [b3])).json.delivered).toEqual([]);
      expect((await ask(bob.jwt, [a1, a2])).json.delivered).toEqual([]);
      // A read past the last message (304) acknowledges everything; an ack never moves back.
      expect((await read(a4)).status).toBe(304);
      expect((await read(0)).status).toBe(200);
      expect((await ask(alice.jwt, [a4, a1])).json.delivered).toEqual([{ token, MessageId: a1 }, { token, MessageId: a4 }]);
      expect((await ask(bob.jwt, [b3])).json.delivered).toEqual([{ token, MessageId: b3 }]);
      // A cursor beyond the last message acknowledges only what is stored: a later message is not delivered yet.
      expect((await read(a4 + 1000)).status).toBe(304);
      const a5 = await send(alice.jwt, 5);
      expect((await ask(alice.jwt, [a5])).json.delivered).toEqual([]);
      // Unknown tokens are just not delivered; a wrong secret acknowledges nothing.
      expect((await ask(alice.jwt, [1], 'x'.repeat(43))).json.delivered).toEqual([]);
      expect((await ks.request('GET', `/v1/keys/${token}/messages?after=${a5}`, { jwt: alice.jwt, headers: { 'x-private-key-hash': 'f'.repeat(64) } })).status).toBe(403);
      expect((await ask(alice.jwt, [a5])).json.delivered).toEqual([]);
      // Device JWT only, bounded batches, validated bodies.
      expectError(await ks.request('POST', '/v1/messages/delivered', { clientKey: ks.app.clientKey, body: { messages: [{ token, MessageId: a1 }] } }), 401);
      expectError(await ks.request('POST', '/v1/messages/delivered', { jwt: alice.jwt, body: { messages: [] } }), 400);
      expectError(await ks.request('POST', '/v1/messages/delivered', { jwt: alice.jwt, body: { messages: Array.from({ length: 501 }, () => ({ token, MessageId: 1 })) } }), 400);
      expectError(await ks.request('POST', '/v1/messages/delivered', { jwt: alice.jwt, body: { messages: [{ token, MessageId: 0 }] } }), 400);
    });

    it('dedupes on clientId per key: a retry gets the same MessageId, a different message with it is a 409', async () => {
      const body = { encryptedmessage: 'ZGVkdXBl', encryptionkey: 'a2V5', clientId: 'outbox-42' };
      const sendsAudited = async () => (await ks.server.store.listAudit(ks.app.appId, null, 0, 100_000)).filter((e) => e.action === 'messages.send' && e.deviceId === bob.deviceId);
      const auditedBefore = (await sendsAudited()).length;
      const first = await ks.request<{ MessageId: number; duplicate: boolean }>('PUT', `/v1/keys/${inbox}/messages`, { jwt: bob.jwt, body });
      const retry = await ks.request<{ MessageId: number; duplicate: boolean }>('PUT', `/v1/keys/${inbox}/messages`, { jwt: bob.jwt, body });
      expect(retry.json.MessageId).toBe(first.json.MessageId);
      expect([first.json.duplicate, retry.json.duplicate]).toEqual([false, true]);
      expectError(await ks.request('PUT', `/v1/keys/${inbox}/messages`, { jwt: bob.jwt, body: { ...body, encryptedmessage: 'b3RoZXI=' } }), 409, 'client_id_reused');
      const all = await ks.request('GET', `/v1/keys/${inbox}/messages?limit=1000`, { jwt: alice.jwt, headers: { 'x-private-key-hash': alice.privateKeyHash } });
      expect(MessagesResponse.parse(all.json).Messages.filter((m) => m.clientId === 'outbox-42')).toHaveLength(1);
      const concurrent = await Promise.all(
        Array.from({ length: 8 }, () => ks.request<{ MessageId: number }>('PUT', `/v1/keys/${inbox}/messages`, { jwt: bob.jwt, body: { ...body, clientId: 'outbox-43' } })),
      );
      expect(new Set(concurrent.map((r) => r.json.MessageId)).size).toBe(1);
      // Every send is audited once: stored and deduped ones with the message, the refused one by the hook.
      const audited = (await sendsAudited()).slice(auditedBefore);
      expect(audited.map((e) => e.status).sort()).toEqual([200, 200, ...Array<number>(8).fill(200), 409].sort());
      expect((await ks.server.admin.verifyAudit(ks.app.appId)).ok).toBe(true);
    });

    it('accepts XML and form bodies for keys and messages', async () => {
      const xml = await ks.request('POST', '/v1/keys', { clientKey: ks.app.clientKey, body: '<request><passphrase>xml passphrase</passphrase></request>', contentType: 'application/xml', headers: { accept: 'application/xml' } });
      expect(xml.status, xml.text).toBe(200);
      const token = /<token>([^<]+)<\/token>/.exec(xml.text)![1]!;
      const form = await ks.request('PUT', `/v1/keys/${token}/messages`, { clientKey: ks.app.clientKey, body: 'message=form+posted&clientId=f1', contentType: 'application/x-www-form-urlencoded' });
      expect(form.status, form.text).toBe(200);
      const read = await ks.request('GET', `/v1/keys/${token}/messages`, { clientKey: ks.app.clientKey, headers: { 'x-passphrase': 'xml passphrase' } });
      expect(MessagesResponse.parse(read.json).Messages[0]!.Message).toBe('form posted');
    });

    it('SQL metacharacters are data, not SQL', async () => {
      const passphrase = "'; DROP TABLE keys; --";
      const k = await ks.request<{ token: string }>('POST', '/v1/keys', { clientKey: ks.app.clientKey, body: { passphrase } });
      expect(k.status).toBe(200);
      await ks.request('PUT', `/v1/keys/${k.json.token}/messages`, { clientKey: ks.app.clientKey, body: { message: "Robert'); DROP TABLE messages;--" } });
      const r = await ks.request('GET', `/v1/keys/${k.json.token}/messages`, { clientKey: ks.app.clientKey, headers: { 'x-passphrase': passphrase } });
      expect(MessagesResponse.parse(r.json).Messages[0]!.Message).toBe("Robert'); DROP TABLE messages;--");
      expect((await ks.request('GET', `/v1/keys/${inbox}`, { jwt: alice.jwt })).status).toBe(200);
    });
  });
}

/**
 * The seed key service's messages: send (online plaintext + files, or offline
 * ciphertext stored exactly as sent) and get (decrypted with the passphrase,
 * or as stored with the privatekeyhash), with cursor pagination, 304 when
 * there is nothing (new), and clientId dedupe.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CommonQuery, DeliveredBody, KeyToken, MessagesQuery, SendMessageBody, type MessageOut } from '../../shared/wire.js';
import type { ServerContext } from '../context.js';
import { decryptForKey, encryptForKey, parseRsaPublicKey } from '../crypto/online.js';
import { ApiError, badRequest, conflict, tooLarge } from '../http/errors.js';
import { auditsInsert, type MessageRow, type NewMessage } from '../store/types.js';
import { publishDelivered, publishMessage } from '../stream/publish.js';
import { findKey, findKeyForSend, unlockKey } from './key-access.js';

const TokenParams = z.strictObject({ token: KeyToken });
const DEFAULT_PAGE = 100;
/** Online reads decrypt every message with RSA on the request: smaller pages. */
const MAX_ONLINE_PAGE = 200;

interface UploadedFile {
  name: string;
  contentType: string;
  data: Buffer;
}

declare module 'fastify' {
  interface FastifyRequest {
    uploadedFiles: UploadedFile[];
  }
}

function safeFileName(name: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  const base = (name ?? '').split(/[\\/]/).pop()!.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return (base || 'file').slice(0, 255);
}

/** preValidation: multipart/form-data becomes `body` (fields) + `uploadedFiles`. */
async function readMultipart(request: FastifyRequest): Promise<void> {
  const fields: Record<string, string> = {};
  const files: UploadedFile[] = [];
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      files.push({ name: safeFileName(part.filename), contentType: (part.mimetype || 'application/octet-stream').slice(0, 128), data: await part.toBuffer() });
    } else {
      if (part.fieldname in fields) throw badRequest(`form field "${part.fieldname.slice(0, 64)}" appears more than once`, 'invalid_form');
      if (typeof part.value !== 'string') throw badRequest('form fields must be text', 'invalid_form');
      fields[part.fieldname] = part.value;
    }
  }
  request.body = fields;
  request.uploadedFiles = files;
}

/** The route's preValidation hook; callback style, so a JSON send (the common case) costs no promise here. */
function multipartBody(request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void {
  if (!request.isMultipart()) {
    done();
    return;
  }
  readMultipart(request).then(() => done(), done);
}

function contentHash(parts: Array<string | Buffer>): Buffer {
  const h = createHash('sha256');
  for (const p of parts) {
    const b = typeof p === 'string' ? Buffer.from(p) : p;
    h.update(String(b.length)).update(':').update(b);
  }
  return h.digest();
}

function toOut(m: MessageRow, plaintext: Buffer | null): MessageOut {
  const out: MessageOut = {
    MessageId: m.seq,
    Message: plaintext === null ? m.body.toString('base64') : m.isFile ? plaintext.toString('base64') : plaintext.toString('utf8'),
    SentOn: new Date(m.sentOn).toISOString(),
    IsFile: m.isFile,
    size: m.size,
    Encrypted: plaintext === null,
  };
  if (plaintext === null) out.EncryptionKey = m.encKey.toString('base64');
  if (m.fileName !== null) out.FileName = m.fileName;
  if (m.contentType !== null) out.ContentType = m.contentType;
  if (m.clientId !== null) out.clientId = m.clientId;
  return out;
}

export function messageRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.decorateRequest('uploadedFiles', null as unknown as UploadedFile[]);

  app.put(
    '/v1/keys/:token/messages',
    {
      config: { auth: 'device', audit: 'messages.send' },
      schema: { params: TokenParams, body: SendMessageBody, querystring: z.strictObject(CommonQuery) },
      preValidation: multipartBody,
    },
    async (request, reply) => {
      const body = request.body as z.infer<typeof SendMessageBody>;
      const files = request.uploadedFiles ?? [];
      const token = (request.params as { token: string }).token;
      const key = await findKeyForSend(ctx, request, token);
      const sender = request.caller.kind === 'device' ? `device:${request.caller.deviceId}` : request.caller.kind;
      const now = Date.now();
      const offline = body.encryptedmessage !== undefined || body.encryptionkey !== undefined;
      let messages: NewMessage[];
      let hashParts: Array<string | Buffer> | null = null;

      if (offline) {
        if (body.encryptedmessage === undefined || body.encryptionkey === undefined) {
          throw badRequest('an encrypted message needs both encryptedmessage and encryptionkey', 'missing_field');
        }
        if (body.message !== undefined || files.length > 0) throw badRequest('send either message/files (online) or encryptedmessage/encryptionkey (offline)', 'conflicting_fields');
        const stored = Buffer.from(body.encryptedmessage, 'base64');
        messages = [
          {
            kind: 'offline',
            isFile: body.isfile ?? false,
            fileName: null,
            contentType: null,
            body: stored,
            encKey: Buffer.from(body.encryptionkey, 'base64'),
            size: stored.length,
            sentOn: now,
            sender,
          },
        ];
      } else {
        if (body.isfile !== undefined) throw badRequest('isfile is for encrypted messages; online files are sent as form data', 'unexpected_field');
        if (body.message === undefined && files.length === 0) {
          throw badRequest('give message (and/or files as form data), or encryptedmessage and encryptionkey', 'missing_field');
        }
        if (files.length > ctx.options.maxFiles) throw tooLarge('too many files in one request', 'too_many_files');
        const publicKey = parseRsaPublicKey(key.publicKey).key;
        const plain: Array<{ data: Buffer; file: UploadedFile | null }> = [];
        if (body.message !== undefined && (body.message !== '' || files.length === 0)) plain.push({ data: Buffer.from(body.message, 'utf8'), file: null });
        for (const f of files) plain.push({ data: f.data, file: f });
        messages = plain.map(({ data, file }) => {
          const sealed = encryptForKey(data, publicKey);
          return {
            kind: 'online' as const,
            isFile: file !== null,
            fileName: file?.name ?? null,
            contentType: file?.contentType ?? null,
            body: sealed.body,
            encKey: sealed.encKey,
            size: data.length,
            sentOn: now,
            sender,
          };
        });
        hashParts = ['online', ...plain.flatMap(({ data, file }) => [file ? `file:${file.name}` : 'text', data])];
      }

      const clientId = body.clientId ?? null;
      // Offline duplicates are compared byte for byte; online ones by a hash of the plaintext (the stored ciphertext is ours).
      const audit = ctx.audit.withWrite(request, reply, 'messages.send');
      const result = await ctx.store.insertMessages(key.id, messages, clientId, clientId === null || hashParts === null ? null : contentHash(hashParts), audit);
      request.auditWritten = auditsInsert(result);
      if (result.duplicate && !result.sameContent) {
        throw conflict('clientId was already used for a different message to this key', 'client_id_reused', { MessageId: result.ids[0] ?? null });
      }
      // Committed: the owner's devices pull now (no database read: the owner came with the key row).
      if (!result.duplicate && request.caller.kind !== 'none') publishMessage(ctx.events, request.caller.appId, key.ownerUserId, token, result.ids[result.ids.length - 1]!);
      return { MessageId: result.ids[0]!, MessageIds: result.ids, duplicate: result.duplicate };
    },
  );

  app.get(
    '/v1/keys/:token/messages',
    { config: { auth: 'device', audit: 'messages.list' }, schema: { params: TokenParams, querystring: MessagesQuery } },
    async (request, reply) => {
      const query = request.query as z.infer<typeof MessagesQuery>;
      const key = await findKey(ctx, request, (request.params as { token: string }).token);
      const unlocked = await unlockKey(ctx, request, key);
      const max = unlocked.how === 'passphrase' ? MAX_ONLINE_PAGE : 1000;
      const limit = Math.min(query.limit ?? DEFAULT_PAGE, max);
      const after = query.after ?? 0;
      // Reading past `after` acknowledges every message up to it: they were delivered (POST /v1/messages/delivered).
      if (after > 0) publishDelivered(ctx.events, key.appId, await ctx.store.ackMessages(key.id, after, Date.now()));
      const rows = await ctx.store.listMessages(key.id, after, limit + 1);
      if (rows.length === 0) return reply.code(304).send();
      const page = rows.slice(0, limit);
      const Messages = page.map((m) => {
        if (unlocked.how !== 'passphrase' || m.kind !== 'online') return toOut(m, null);
        try {
          return toOut(m, decryptForKey(m.body, m.encKey, unlocked.privateKey, Math.max(m.size, 1)));
        } catch {
          return toOut(m, null);
        }
      });
      return { Messages, Cursor: page[page.length - 1]!.seq, HasMore: rows.length > limit };
    },
  );

  app.post(
    '/v1/messages/delivered',
    { config: { auth: 'user', audit: 'messages.delivered' }, schema: { body: DeliveredBody, querystring: z.strictObject(CommonQuery) } },
    async (request) => {
      const caller = request.caller;
      if (caller.kind !== 'device') throw new ApiError(401, 'unauthorized', 'a device JWT is required');
      const { messages } = request.body as z.infer<typeof DeliveredBody>;
      // Only what this device sent (the sender recorded by PUT …/messages); unknown tokens and others' messages are simply not delivered.
      const sender = `device:${caller.deviceId}`;
      const byToken = new Map<string, number[]>();
      for (const m of messages) byToken.set(m.token, [...(byToken.get(m.token) ?? []), m.MessageId]);
      const delivered: Array<{ token: string; MessageId: number }> = [];
      for (const [token, seqs] of byToken) {
        const key = await ctx.store.keyForSend(caller.appId, ctx.tokenHash(token));
        if (!key) continue;
        for (const seq of await ctx.store.deliveredMessages(key.id, sender, [...new Set(seqs)])) delivered.push({ token, MessageId: seq });
      }
      return { delivered };
    },
  );
}

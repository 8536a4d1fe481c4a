/**
 * The CLI's messaging commands: contacts, send, sync, inbox and read (with
 * saving a message's attachments into a folder).
 */
import { ok, failureOf } from '../engine/service/results.js';
import { syncFailure } from '../engine/service/messaging.js';
import { isSyncError } from '../engine/sync/errors.js';
import { type Command, fsFailure, parse, unlock } from './command-kit.js';
import { UsageError } from './usage-error.js';

const SENDER_LABEL: Record<string, string> = {
  self: 'you',
  verified: 'verified',
  unverified: 'not verified',
  'key-changed': 'KEY CHANGED',
  unknown: 'UNKNOWN SENDER',
  rejected: 'REJECTED',
};

const contacts: Command = {
  synopsis: 'contacts [add NAME | verify NAME FINGERPRINT | ack NAME]',
  summary: 'list contacts; look one up in the directory; mark a safety number compared; acknowledge a key change',
  async run(ctx) {
    const { positionals } = parse(ctx, {}, 3);
    const [sub, name, fp] = positionals;
    const show = (c: { username: string; userId: string; fingerprint: string; safetyNumber: string; verified: boolean; keyChanged: boolean; keyChangedAt?: number | null | undefined }) =>
      `${c.username}\t${c.userId}\t${c.keyChanged ? 'KEY CHANGED' : c.verified ? 'verified' : 'not verified'}\n  fingerprint   ${c.fingerprint}\n  safety number ${c.safetyNumber}` +
      (!c.keyChanged && c.keyChangedAt ? `\n  rotated key   ${new Date(c.keyChangedAt).toISOString()} (signed by their identity key)` : '');
    if (sub === undefined) {
      const result = await ctx.call('contacts:list', {});
      if (result.code === 0 && !ctx.json) for (const c of result.value) ctx.out(show(c));
      return result;
    }
    if (sub === 'add' && name && !fp) {
      const result = await ctx.call('contacts:lookup', { username: name });
      if (result.code === 0 && !ctx.json) {
        ctx.out(show(result.value));
        if (result.value.keyChanged) process.stderr.write(`WARNING: ${name}'s key changed (was ${result.value.previousFingerprint}). Compare the safety number before trusting it.\n`);
      }
      return result;
    }
    if (sub === 'verify' && name && fp) {
      const result = await ctx.call('contacts:verify', { userId: name, fingerprint: fp });
      if (result.code === 0 && !ctx.json) ctx.out(`${result.value.username} verified.`);
      return result;
    }
    if (sub === 'ack' && name && !fp) return ctx.call('contacts:acknowledgeKeyChange', { userId: name });
    throw new UsageError('contacts takes no argument, "add NAME", "verify NAME FINGERPRINT" or "ack NAME"');
  },
};

const send: Command = {
  synopsis: 'send --to USER [--to USER...] [--subject S] [--text T] [--file F...]',
  summary: 'seal a message (and files) into the outbox and send it at once; queued when the key service is not reachable',
  async run(ctx) {
    const { values } = parse(ctx, { to: { type: 'string', multiple: true }, subject: { type: 'string' }, text: { type: 'string' }, file: { type: 'string', multiple: true } }, 0);
    if (!values.to?.length) throw new UsageError('send needs at least one --to USER');
    const unlocked = await unlock(ctx);
    if (unlocked.code !== 0) return unlocked;
    let lastPct = -1;
    const onProgress = (n: number, total: number) => {
      const pct = total ? Math.floor((n / total) * 100) : 100;
      if (!ctx.json && pct !== lastPct && pct % 10 === 0) process.stderr.write(`Sealing attachments: ${pct}%\n`);
      lastPct = pct;
    };
    const result = await ctx.service.messaging
      .send({
        to: values.to,
        text: values.text ?? '',
        ...(values.subject !== undefined && { subject: values.subject }),
        files: (values.file ?? []).map((f) => ({ path: f })),
        onProgress,
      })
      .then(ok, (e: unknown) => ((e as NodeJS.ErrnoException)?.code ? fsFailure(e, 'a --file') : failureOf(isSyncError(e) ? syncFailure(e) : e)));
    if (result.code !== 0) return result;
    // Sent at once when the key service answers; otherwise it waits in the outbox.
    const flushed = await ctx.service.messaging.sync.flush().then(
      (r) => (r.failed > 0 ? `${r.failed} could not be sent: see "sealpost inbox"` : null),
      (e: unknown) => (e instanceof Error ? e.message : 'the key service could not be reached'),
    );
    const sent = flushed === null;
    const ids = result.value.messageIds.join(', ');
    if (!ctx.json) ctx.out(sent ? `Sent ${result.value.messageIds.length} message(s): ${ids}.` : `Queued ${result.value.messageIds.length} message(s): ${ids}${flushed ? ` (${flushed})` : ''}. "sealpost sync" or a running app sends them.`);
    return ok({ ...result.value, sent });
  },
};

const sync: Command = {
  synopsis: 'sync [--progress]',
  summary: 'send the outbox, pull and open the inbox (--progress: JSON lines on stderr)',
  async run(ctx) {
    const { values } = parse(ctx, { progress: { type: 'boolean' } }, 0);
    const unlocked = await unlock(ctx);
    if (unlocked.code !== 0) return unlocked;
    const off = values.progress ? ctx.service.messaging.sync.onProgress((p) => process.stderr.write(`${JSON.stringify(p)}\n`)) : () => undefined;
    try {
      const result = await ctx.call('sync:now', {});
      if (result.code === 0 && !ctx.json) {
        const r = result.value;
        ctx.out(`Sent ${r.sent}, failed ${r.failed}; pulled ${r.pulled}, received ${r.received}, rejected ${r.rejected}.`);
      }
      return result;
    } finally {
      off();
    }
  },
};

const inbox: Command = {
  synopsis: 'inbox [--unread] [--search TEXT] [--limit N] [--json]',
  summary: 'messages, newest first, with their state and how the sender checked out',
  async run(ctx) {
    const { values } = parse(ctx, { unread: { type: 'boolean' }, search: { type: 'string' }, limit: { type: 'string' } }, 0);
    const limit = values.limit === undefined ? 100 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be 1..1000');
    const unlocked = await unlock(ctx);
    if (unlocked.code !== 0) return unlocked;
    const result = await ctx.call('messages:list', { limit, ...(values.unread && { unreadOnly: true }), ...(values.search && { query: values.search }) });
    if (result.code === 0 && !ctx.json) {
      for (const m of result.value) {
        const when = new Date(m.sentAt ?? m.createdAt).toISOString().slice(0, 16).replace('T', ' ');
        const who = m.direction === 'out' ? `to ${m.peerName ?? m.peer}` : `from ${m.peerName ?? m.peer}`;
        const state = m.direction === 'out' ? m.state + (m.reason && m.state !== 'sent' ? ` (${m.reason})` : '') : `${SENDER_LABEL[m.sender] ?? m.sender}${m.reason ? ` (${m.reason})` : ''}`;
        const line = m.text === null ? '[not shown]' : (m.subject ? `${m.subject}: ` : '') + m.text.replace(/\s+/g, ' ').slice(0, 60);
        ctx.out(`${m.read ? ' ' : '*'} ${m.id}\t${when}\t${who}\t${state}\t${line}${m.attachments.length ? ` [${m.attachments.length} file(s)]` : ''}`);
      }
    }
    return result;
  },
};

const read: Command = {
  synopsis: 'read ID [--save-attachments DIR]',
  summary: 'show one message (marks it read); save its attachments, opened and checked, into DIR',
  async run(ctx) {
    const { values, positionals } = parse(ctx, { 'save-attachments': { type: 'string' } }, 1);
    const id = Number(positionals[0]);
    if (!Number.isInteger(id) || id < 1) throw new UsageError('read needs a message ID');
    const unlocked = await unlock(ctx);
    if (unlocked.code !== 0) return unlocked;
    const result = await ctx.call('messages:read', { id });
    if (result.code !== 0) return result;
    const m = result.value;
    // Reading queued a read receipt (when they are on): send it now if the key service answers, else a sync or the app does.
    if (m.direction === 'in') await ctx.service.messaging.sync.flush().catch(() => undefined);
    if (!ctx.json) {
      ctx.out(`${m.direction === 'out' ? 'To' : 'From'}: ${m.peerName ?? m.peer} (${SENDER_LABEL[m.sender] ?? m.sender}${m.reason ? `: ${m.reason}` : ''})`);
      if (m.sentAt) ctx.out(`Sent: ${new Date(m.sentAt).toISOString()}`);
      if (m.subject) ctx.out(`Subject: ${m.subject}`);
      for (const a of m.attachments) ctx.out(`Attachment: ${a.name} (${a.size} bytes, ${a.state})`);
      ctx.out('');
      ctx.out(m.text ?? '[This message was rejected and is not shown.]');
    }
    if (values['save-attachments'] === undefined) return result;
    let lastPct = -1;
    const saved = await ctx.service.messaging
      .saveAttachments(id, values['save-attachments'], (n, total) => {
        const pct = total ? Math.floor((n / total) * 100) : 100;
        if (!ctx.json && pct !== lastPct && pct % 10 === 0) process.stderr.write(`Opening attachments: ${pct}%\n`);
        lastPct = pct;
      })
      .then(ok, (e: unknown) => ((e as NodeJS.ErrnoException)?.code ? fsFailure(e, values['save-attachments']!) : failureOf(e)));
    if (saved.code !== 0) return saved;
    if (!ctx.json) for (const f of saved.value.saved) process.stderr.write(`Saved ${f.path} (${f.bytes} bytes, SHA-256 ${f.sha256}).\n`);
    return ok({ ...m, saved: saved.value.saved });
  },
};

const receipts: Command = {
  synopsis: 'receipts [on|off]',
  summary: 'read receipts: show whether they are on, or turn them on or off (off: none sent, none shown)',
  async run(ctx) {
    const { positionals } = parse(ctx, {}, 1);
    const want = positionals[0];
    if (want !== undefined && want !== 'on' && want !== 'off') throw new UsageError('receipts takes on or off');
    const result = want === undefined ? await ctx.call('readReceipts:get', {}) : await ctx.call('readReceipts:set', { enabled: want === 'on' });
    if (result.code === 0 && !ctx.json) ctx.out(`Read receipts are ${result.value.enabled ? 'on' : 'off'}.`);
    return result;
  },
};

export const messagingCommands: Record<string, Command> = { contacts, send, sync, inbox, read, receipts };

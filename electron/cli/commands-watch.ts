/**
 * `sealpost watch [--json]`: keeps the key service's push stream open (the sync
 * scheduler, as in the app) and prints what happens until SIGINT or SIGTERM:
 * each new message as it is pulled and opened, delivered receipts, the stream's
 * state, items, contacts, link requests. Then it locks the keys and exits 0.
 * For scripts and headless machines (docs/sync.md "Live delivery").
 *
 * With --json every line is one JSON object: {"event":"message","id","from",
 * "sender","subject","sentAt"} for a new message (no text: read it with
 * `sealpost read ID`), {"event":"stream","state"}, {"event":"messages",...},
 * {"event":"items"|"contacts"|"link"}; the usual result object comes last.
 *
 * The keys stay unlocked while it runs (auto-lock is off for this process only):
 * opening messages needs them, and the stream runs only while unlocked.
 */
import { ResultCode, type Result } from '../../shared/codes.js';
import type { EngineEvent, StreamState } from '../../shared/contract-events.js';
import { ok } from '../engine/service/results.js';
import { type Command, parse, unlock } from './command-kit.js';
import type { CliContext } from './context.js';

const STATE_TEXT: Record<StreamState, string> = {
  live: 'Live: new messages arrive at once.',
  connecting: 'Connecting to the key service...',
  polling: 'Not live: checking every minute.',
  off: 'Stream off.',
};

/** Prints new incoming messages (ids above the last printed), oldest first. */
async function printNew(ctx: CliContext, seen: { id: number }): Promise<number> {
  const r = await ctx.call('messages:list', { limit: 200 });
  if (r.code !== 0) return 0;
  const fresh = r.value.filter((m) => m.direction === 'in' && m.id > seen.id).sort((a, b) => a.id - b.id);
  for (const m of fresh) {
    seen.id = Math.max(seen.id, m.id);
    const from = m.peerName ?? m.peer;
    if (ctx.json) ctx.out(JSON.stringify({ event: 'message', id: m.id, from, sender: m.sender, subject: m.subject, sentAt: m.sentAt }));
    else ctx.out(`New message ${m.id} from ${from}${m.sender === 'verified' ? '' : ` (${m.sender})`}${m.subject ? `: ${m.subject}` : ''}`);
  }
  return fresh.length;
}

const watch: Command = {
  synopsis: 'watch [--json]',
  summary: 'keep the push stream open and print new messages and events until Ctrl-C (--json: JSON lines)',
  async run(ctx) {
    parse(ctx, {}, 0);
    const unlocked = await unlock(ctx);
    if (unlocked.code !== 0) return unlocked;
    const status = await ctx.call('sync:status', {});
    if (status.code !== 0) return status;
    if (!status.value.registered) return { code: ResultCode.DeviceUnregistered, message: 'This device is not registered with a key service yet: run "sealpost register" first.' };
    ctx.service.overrideAutoLock(0);

    const before = await ctx.call('messages:list', { limit: 1 });
    const seen = { id: before.code === 0 ? (before.value[0]?.id ?? 0) : 0 };
    let printed = 0;
    let stream: StreamState = 'off';
    // Printing is serialized: two quick events never print one message twice.
    let queue: Promise<void> = Promise.resolve();
    const later = (op: () => Promise<void> | void): void => {
      queue = queue.then(op).catch(() => undefined);
    };
    const onEvent = (e: EngineEvent): void => {
      switch (e.type) {
        case 'messages':
          if (e.received > 0)
            later(async () => {
              printed += await printNew(ctx, seen);
            });
          if (e.changed > 0 && ctx.json) later(() => ctx.out(JSON.stringify({ event: 'messages', received: e.received, changed: e.changed })));
          return;
        case 'sync': {
          const now = ctx.service.messaging.sync.state.stream;
          if (now === stream) return;
          stream = now;
          const error = ctx.service.messaging.sync.state.streamError;
          later(() => ctx.out(ctx.json ? JSON.stringify({ event: 'stream', state: now, ...(error && { reason: error }) }) : `${STATE_TEXT[now]}${error ? ` (${error})` : ''}`));
          return;
        }
        case 'lock':
          return;
        default:
          later(() => ctx.out(ctx.json ? JSON.stringify({ event: e.type }) : `Changed: ${e.type}`));
      }
    };
    const off = ctx.service.onEvent(onEvent);
    // An open socket keeps the process alive; between reconnection attempts nothing would.
    const alive = setInterval(() => undefined, 60_000);
    try {
      ctx.service.messaging.sync.start();
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    } finally {
      clearInterval(alive);
      ctx.service.messaging.sync.stop();
      off();
      await queue;
    }
    const locked: Result<unknown> = await ctx.call('session:lock', {});
    if (!ctx.json) process.stderr.write(`Stopped; the keys are locked. ${printed} new message(s).\n`);
    return locked.code === 0 ? ok({ messages: printed }) : locked;
  },
};

export const watchCommands: Record<string, Command> = { watch };

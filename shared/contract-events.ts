import { z } from 'zod';
import { AppId, Username } from './wire.js';

/**
 * Events from the engine to the UI, so screens update live instead of polling.
 * Like the push stream they say what changed, not the content: the UI asks
 * the usual channels (messages:list, sync:status, items:list ...) for it.
 *
 * Electron: main sends them with `webContents.send(ENGINE_EVENT_CHANNEL, event)`
 * and the preload hands them to `window.sealpost.onEvent`. Browser mode: the
 * webhost pushes `{ "event": <EngineEvent> }` frames on the bridge WebSocket.
 */
export const ENGINE_EVENT_CHANNEL = 'sealpost:event';

/** How the desktop learns of new messages: a live push stream, or the timer. */
export const StreamState = z.enum(['live', 'connecting', 'polling', 'off']);
export type StreamState = z.infer<typeof StreamState>;

export const EngineEvent = z.discriminatedUnion('type', [
  /** Messages were stored (received) or changed state (sent, delivered, failed, read). */
  z.object({ type: z.literal('messages'), received: z.number().int().min(0), changed: z.number().int().min(0) }),
  /** sync:status changed (a sync started or ended, the stream went live or fell back to the timer). */
  z.object({ type: z.literal('sync') }),
  /** Vault items changed (a grant, a revoke, a remote edit pulled). */
  z.object({ type: z.literal('items') }),
  /** A contact's keys changed. */
  z.object({ type: z.literal('contacts') }),
  /** A device-link request arrived or moved on. */
  z.object({ type: z.literal('link') }),
  /** A connected app's request for approval arrived or was decided (approvals:list has the pending ones). */
  z.object({ type: z.literal('approvals') }),
  /**
   * A sealpost://enroll link was opened from outside the app (IT's e-mail, a browser, a
   * deployment tool) and passed parseEnrollLink: Connect prefills from it. `code` is a
   * one-time secret until used: never log it.
   */
  z.object({
    type: z.literal('enroll-link'),
    server: z.string().regex(/^https?:\/\//i).max(2048),
    appId: AppId,
    username: Username.optional(),
    code: z.string().regex(/^[A-Z2-7]{20}$/),
  }),
  /** The keys were locked (by the user, the idle timer or the OS) or unlocked. */
  z.object({ type: z.literal('lock'), unlocked: z.boolean() }),
]);
export type EngineEvent = z.infer<typeof EngineEvent>;
export type EngineEventListener = (event: EngineEvent) => void;

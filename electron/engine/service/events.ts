/**
 * The engine's events for the UI (shared/contract-events.ts): what changed,
 * never the content, so screens refresh through the usual channels instead of
 * polling. One emitter per opened profile (Service.onEvent).
 *
 * What is emitted, and when:
 * - `messages` {received, changed}: a sync stored new messages (received, incl.
 *   rejected ones) or changed the state of sent ones (sent, failed, delivered);
 *   a send queued a message (changed); messages were marked read.
 * - `sync`: sync:status changed: a sync started or ended, the stream went live,
 *   fell back to the timer or was switched off.
 * - `items`: the vault items' sync changed something (a grant, revoke or edit pulled).
 * - `contacts`: a contact's keys were refreshed after a key-change event.
 * - `link`: a device-link request for this user arrived or moved on.
 * - `approvals`: a connected app's request for this user arrived or was decided
 *   (the stream's `approval` event); approvals:list has the pending ones.
 * - `lock` {unlocked}: the keys were locked (user, idle timer, OS, wipe) or unlocked.
 *
 * Listeners run synchronously in the engine's process; one that throws is
 * isolated (the others still run, the engine goes on). Keep them quick: forward
 * the event (webContents.send, a WebSocket frame) and return.
 * @module
 */
import type { EngineEvent, EngineEventListener } from '../../../shared/contract-events.js';

export type { EngineEvent, EngineEventListener };

export class EngineEvents {
  private readonly listeners = new Set<EngineEventListener>();

  /** Calls `listener` for every event from now on. Returns the unsubscribe function. */
  on(listener: EngineEventListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Hands `event` to every listener; a listener's failure never reaches the emitter. */
  emit(event: EngineEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // the UI's forwarding failed (a closed window): the engine's work goes on
      }
    }
  }

  /** `messages` only when something was stored or changed. */
  messages(received: number, changed: number): void {
    if (received > 0 || changed > 0) this.emit({ type: 'messages', received, changed });
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}

/**
 * The event bus behind the push stream (docs/api.md "Push stream"): routes
 * publish an event addressed to some users, devices or a whole app once their
 * write succeeded; every instance's stream registry (registry.ts) subscribes
 * and hands the event to the matching open streams.
 *
 * Two implementations: LocalEventBus (one process: SQLite, or tests) and
 * PgEventBus (several instances on one PostgreSQL, through LISTEN/NOTIFY,
 * pg-bus.ts). Events are hints ("pull now"), never data: a lost event costs
 * latency, since the client's pull by cursor still finds everything.
 */
import { z } from 'zod';
import { StreamEvent } from '../../shared/stream-wire.js';

/** Who an event is for, within one app. Any of the lists may be empty; `everyone` wins. */
export interface Audience {
  appId: string;
  users?: readonly string[];
  devices?: readonly string[];
  /** Every device of the app with an open stream (key changes: the server does not know contacts). */
  everyone?: boolean;
}

export interface BusMessage {
  to: Audience;
  event: StreamEvent;
}

export type BusListener = (message: BusMessage) => void;

export interface EventBus {
  /** Hands the event to this instance's subscribers at once and to the other instances; never throws. */
  publish(to: Audience, event: StreamEvent): void;
  /** Returns the unsubscribe function. */
  subscribe(listener: BusListener): () => void;
  /** Stops listening; publishes still queued are sent first where the bus can. */
  close(): Promise<void>;
}

const Id = z.string().min(1).max(256);
/** A bus message as it travels between instances (validated on arrival: it crossed a process boundary). */
export const BusMessageSchema = z.strictObject({
  to: z.strictObject({
    appId: Id,
    users: z.array(Id).max(1000).optional(),
    devices: z.array(Id).max(1000).optional(),
    everyone: z.boolean().optional(),
  }),
  event: StreamEvent,
});

/** Calls each listener, isolating failures: one broken subscriber must not stop the others or the publisher. */
export function dispatch(listeners: Iterable<BusListener>, message: BusMessage, onError: (error: unknown) => void): void {
  for (const listener of listeners) {
    try {
      listener(message);
    } catch (error) {
      onError(error);
    }
  }
}

/** In-process bus: one instance (SQLite, or an embedded key service). */
export class LocalEventBus implements EventBus {
  private readonly listeners = new Set<BusListener>();
  private closed = false;

  constructor(private readonly onError: (error: unknown) => void = () => undefined) {}

  publish(to: Audience, event: StreamEvent): void {
    if (this.closed) return;
    dispatch(this.listeners, { to, event }, this.onError);
  }

  subscribe(listener: BusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }
}

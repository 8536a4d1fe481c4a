/**
 * The engine's events in React (shared/contract-events.ts): screens update
 * when the engine says something changed, instead of polling it.
 *
 *   useEngineEvent('messages', () => void reload());
 *   useEngineEvent(['sync', 'lock'], (event) => ...);
 *
 * Events say what changed, never the content: the handler asks the usual
 * channels for it. The handler may change on every render (the latest one
 * is called); the subscription is made once per set of types.
 */
import { useEffect, useRef } from 'react';
import type { EngineEvent } from '../../../shared/contract-events';
import { sealpost } from '../bridge';

export type EngineEventType = EngineEvent['type'];
export type EventOf<T extends EngineEventType> = Extract<EngineEvent, { type: T }>;

export function useEngineEvent<T extends EngineEventType>(types: T | readonly T[], handler: (event: EventOf<T>) => void): void {
  const latest = useRef(handler);
  useEffect(() => {
    latest.current = handler;
  });
  const key = (typeof types === 'string' ? [types] : [...types]).sort().join(',');
  useEffect(() => {
    const wanted = new Set(key.split(','));
    return sealpost.onEvent((event) => {
      if (wanted.has(event.type)) latest.current(event as EventOf<T>);
    });
  }, [key]);
}

/**
 * Wraps a reload so that a burst of events costs at most two runs: one
 * running, one queued to pick up whatever changed meanwhile.
 */
export function coalesce(run: () => Promise<void>): () => void {
  let running = false;
  let again = false;
  const go = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    void run()
      .catch(() => undefined) // the reload reports its own errors on screen
      .finally(() => {
        running = false;
        if (again) {
          again = false;
          go();
        }
      });
  };
  return go;
}

/** A coalesced reload that runs on the given events (for a screen's list). */
export function useRefreshOn(types: EngineEventType | readonly EngineEventType[], reload: () => Promise<void>): void {
  const latest = useRef(reload);
  useEffect(() => {
    latest.current = reload;
  });
  const trigger = useRef<(() => void) | null>(null);
  trigger.current ??= coalesce(() => latest.current());
  useEngineEvent(types, () => trigger.current?.());
}

/** True when the user can be looking at the page: visible, and its window has the focus. */
export const inView = (): boolean => document.visibilityState === 'visible' && document.hasFocus();

/**
 * Runs the handler when the page comes into view again: visible again (back
 * from another tab or a minimised window), or its window focused again (back
 * from another app while it stayed on screen).
 */
export function useWhenVisible(handler: () => void): void {
  const latest = useRef(handler);
  useEffect(() => {
    latest.current = handler;
  });
  useEffect(() => {
    const onChange = () => {
      if (inView()) latest.current();
    };
    document.addEventListener('visibilitychange', onChange);
    window.addEventListener('focus', onChange);
    return () => {
      document.removeEventListener('visibilitychange', onChange);
      window.removeEventListener('focus', onChange);
    };
  }, []);
}

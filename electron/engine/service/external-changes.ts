/**
 * Changes another process made to this profile (the `sealpost` command line on
 * the same profile while the app runs: a send, a contact, an item, a sync) have
 * no engine event of ours. SQLite's `PRAGMA data_version` tells them apart: it
 * moves only when another connection commits to the file, never for our own
 * writes. Read every couple of seconds (one pragma: no table is read, nothing
 * is decrypted); a move is told to the UI as the events its screens already
 * refresh on, so the screens need no timer of their own for it.
 * @module
 */
import type { Db } from '../vault/_sql.js';
import type { EngineEvent } from '../../../shared/contract-events.js';

export const EXTERNAL_CHECK_MS = 2_000;

/** What a change by another process may have touched: each screen refreshes on one of these. */
const REFRESH: EngineEvent[] = [{ type: 'sync' }, { type: 'messages', received: 0, changed: 0 }, { type: 'items' }, { type: 'contacts' }, { type: 'approvals' }];

/**
 * Watches `db` for commits by other connections; `emit` gets the refresh events
 * once per check that saw one. Returns the stop function (the timer never keeps
 * the process alive). A check that fails (the file closed under it) stops quietly.
 */
export function watchExternalChanges(db: Db, emit: (e: EngineEvent) => void, intervalMs = EXTERNAL_CHECK_MS): () => void {
  const version = (): number => db.pragma('data_version', { simple: true }) as number;
  let seen = version();
  const check = (): void => {
    let now: number;
    try {
      now = version();
    } catch {
      stop();
      return;
    }
    if (now === seen) return;
    seen = now;
    for (const e of REFRESH) emit(e);
  };
  const timer = setInterval(check, intervalMs);
  timer.unref();
  function stop(): void {
    clearInterval(timer);
  }
  return stop;
}

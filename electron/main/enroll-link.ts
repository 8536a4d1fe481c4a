/**
 * `sealpost://enroll?...` links opened from outside the app (an IT e-mail, a
 * browser, a deployment tool): found in a command line (Windows and Linux start
 * the app, or hand a second start to the first, with the link as an argument) or
 * given by macOS's open-url, validated with the one parser (shared/enroll-wire.ts),
 * and turned into the engine event that lets Connect prefill (docs/desktop.md).
 *
 * Plain Node, no Electron: the shell (main/index.ts, the browser-mode launcher)
 * only wires it up. The link holds a one-time enrollment code, a secret until it
 * is used: nothing here logs or echoes the link or the code; errors name only
 * what is wrong with it.
 * @module
 */
import type { EngineEvent } from '../../shared/contract-events.js';
import { EnrollLinkError, normalizeEnrollmentCode, parseEnrollLink } from '../../shared/enroll-wire.js';

export const ENROLL_SCHEME = 'sealpost';
/** Longer than any link the key service makes (server URL, app id, user name, code) by far. */
export const MAX_LINK_LENGTH = 2048;

const SCHEME_PREFIX = /^sealpost:\/\//i;

export type EnrollLinkEvent = Extract<EngineEvent, { type: 'enroll-link' }>;

export type EnrollLinkResult = { ok: true; event: EnrollLinkEvent } | { ok: false; error: string };

/**
 * The sealpost:// argument of a command line, or null. The OS passes the link as
 * one argument; the executable, the app path and Chromium's switches come before it.
 */
export function findLinkArgument(argv: readonly string[]): string | null {
  for (const arg of argv) if (SCHEME_PREFIX.test(arg)) return arg;
  return null;
}

/** A link as the event for the UI (the code in its canonical form), or why it is refused. */
export function enrollLinkEvent(raw: string): EnrollLinkResult {
  if (raw.length > MAX_LINK_LENGTH) return { ok: false, error: `the link is longer than ${MAX_LINK_LENGTH} characters` };
  try {
    const link = parseEnrollLink(raw);
    return {
      ok: true,
      event: {
        type: 'enroll-link',
        server: link.server,
        appId: link.appId,
        ...(link.username !== undefined && { username: link.username }),
        // parseEnrollLink checked it normalizes.
        code: normalizeEnrollmentCode(link.code)!,
      },
    };
  } catch (e) {
    if (e instanceof EnrollLinkError) return { ok: false, error: e.message };
    return { ok: false, error: 'the link cannot be read' };
  }
}

/**
 * Holds the last link until the page can take it (a link that starts the app
 * arrives before the window exists), then hands it over once.
 */
export class PendingEnrollLink {
  private event: EnrollLinkEvent | null = null;

  /** Keeps a valid link (replacing an older one); answers the refusal of an invalid one. */
  offer(raw: string): EnrollLinkResult {
    const result = enrollLinkEvent(raw);
    if (result.ok) this.event = result.event;
    return result;
  }

  /** The held link, once. */
  take(): EnrollLinkEvent | null {
    const event = this.event;
    this.event = null;
    return event;
  }
}

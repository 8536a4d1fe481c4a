/**
 * The desktop shell's calls enter main here (plain Node, no Electron): the
 * input is checked against the channel's schema (shared/contract-desktop.ts)
 * before the handler sees it, and anything unexpected becomes a Failed result
 * naming only the error's class — like the engine's dispatch(), whose
 * messages never echo input values.
 */
import type { Result } from '../../shared/codes.js';
import { desktopContract, type DesktopHandlers } from '../../shared/contract-desktop.js';
import { dispatchOn } from '../engine/dispatch.js';

export function dispatchDesktop(handlers: DesktopHandlers, channel: unknown, input: unknown): Promise<Result<unknown>> {
  return dispatchOn(desktopContract, handlers, channel, input);
}

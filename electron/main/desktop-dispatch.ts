/**
 * The desktop shell's calls enter main here (plain Node, no Electron): the
 * input is checked against the channel's schema (shared/contract-desktop.ts)
 * before the handler sees it, and anything unexpected becomes a Failed result
 * naming only the error's class — like the engine's dispatch(), whose
 * messages never echo input values.
 */
import { ResultCode, type Result } from '../../shared/codes.js';
import { desktopContract, isDesktopChannel, type DesktopHandlers } from '../../shared/contract-desktop.js';

export async function dispatchDesktop(handlers: DesktopHandlers, channel: unknown, input: unknown): Promise<Result<unknown>> {
  if (!isDesktopChannel(channel)) return { code: ResultCode.InvalidParameter, message: 'Unknown call.' };
  const parsed = desktopContract[channel].input.safeParse(input ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`);
    return { code: ResultCode.InvalidParameter, message: `Invalid input for ${channel}: ${issues.join('; ')}` };
  }
  try {
    const handler = handlers[channel] as (input: unknown) => Promise<Result<unknown>>;
    return await handler(parsed.data);
  } catch (error) {
    const kind = error instanceof Error ? error.name : 'Error';
    return { code: ResultCode.Failed, message: `Internal error (${kind}) in ${channel}.` };
  }
}
